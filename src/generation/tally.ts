/** The run's running totals: answers by status, calls, tokens and money, reported as they change. */
import { costUsd, type ResolvedPrice } from "../providers/prices.ts";
import type { TokenUsage } from "../providers/types.ts";
import type { AnswerRow } from "../store/answers.ts";
import type { EngineTotals } from "./engine-types.ts";

export class Tally {
  readonly totals: EngineTotals = {
    answered: 0,
    nonresponse: 0,
    refusals: 0,
    callsSent: 0,
    callsFailed: 0,
    cacheHits: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0,
    cacheSavingsUsd: 0,
    batchCalls: 0,
    retries: 0,
    done: 0,
    deferred: 0,
    vendorFailures: 0,
    unknownBillingCalls: 0,
    unknownBillingUsd: 0,
    unknownBillingEstimateUsd: 0,
    unknownBillingFromItemCalls: 0,
    unknownBillingAtWorstCaseCalls: 0,
  };
  private readonly onProgress: ((totals: EngineTotals) => void) | undefined;

  constructor(onProgress?: (totals: EngineTotals) => void) {
    this.onProgress = onProgress;
  }

  /** Answers stored: counted by status, and progress reported. */
  answers(answers: AnswerRow[]): void {
    for (const answer of answers) {
      if (answer.status === "answered") this.totals.answered += 1;
      else if (answer.status === "refusal") this.totals.refusals += 1;
      else this.totals.nonresponse += 1;
      if (answer.status === "nonresponse" && answer.transient && answer.reason?.startsWith("vendor failure") === true) this.totals.vendorFailures += 1;
    }
    this.totals.done += answers.length;
    this.progress();
  }

  /** Token and money totals, with what the prompt cache saved against the same tokens uncached. */
  usage(usage: TokenUsage, cost: number, price: ResolvedPrice, batch: boolean): void {
    this.totals.costUsd += cost;
    this.totals.inputTokens += usage.inputTokens;
    this.totals.outputTokens += usage.outputTokens;
    this.totals.cachedInputTokens += usage.cachedInputTokens;
    this.totals.cacheWriteTokens += usage.cacheWriteTokens;
    if (usage.cachedInputTokens > 0 || usage.cacheWriteTokens > 0) {
      const uncached = { ...usage, cachedInputTokens: 0, cacheWriteTokens: 0 };
      this.totals.cacheSavingsUsd += costUsd(uncached, price, { batch }) - cost;
    }
  }

  progress(): void {
    this.onProgress?.(this.totals);
  }
}
