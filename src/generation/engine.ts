/**
 * The engine: runs a plan's jobs against the providers, through the one
 * place that knows about concurrency, rate limits, retries, money and the
 * store. Every request is looked up in the store first (the cache); every
 * response is stored the moment it arrives, with the answers it decides, in
 * one transaction; a call is recorded as on the wire just before it is sent,
 * so a killed run leaves an exact account of what may have been billed.
 */
import type { SurveyItem } from "../config/schema.ts";
import { costUsd, type ResolvedPrice } from "../providers/prices.ts";
import {
  ConnectionError,
  MalformedResponseError,
  OverloadedError,
  ProviderError,
  RateLimitError,
  TimeoutError,
} from "../errors.ts";
import type { ChatMessage, CompletionChoice, CompletionRequest, CompletionResult, Provider } from "../providers/types.ts";
import type { AnswerRow } from "../store/answers.ts";
import type { CallFailure, ParsedChoice } from "../store/calls.ts";
import type { RunTotals } from "../store/runs.ts";
import type { Store } from "../store/store.ts";
import { redactSecrets } from "../util/secrets.ts";
import type { AdaptiveConcurrency } from "./concurrency.ts";
import { Budget, type Reservation, estimateInputTokens, worstCaseCost, worstCaseInputTokens } from "./cost.ts";
import { requestKey, seedFor } from "./keys.ts";
import { parseAnswer, type ParseOutcome } from "./parse.ts";
import type { Job } from "./plan.ts";
import { reaskMessage, type PromptMode } from "./prompt.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { onFailure, type RetryPolicy } from "./retry.ts";
import type { Clock, StudyLike } from "./types.ts";

export type StopReason = "budget" | "stopped" | "failed";

export interface EngineTotals extends RunTotals {
  /** Sends that failed and were sent again. */
  retries: number;
  /** Cells written in this run. */
  done: number;
}

export interface EngineOptions {
  study: StudyLike;
  store: Store;
  runId: number;
  providers: Map<string, Provider>;
  prices: Map<string, ResolvedPrice>;
  limiters: Map<string, RateLimiter>;
  concurrency: AdaptiveConcurrency;
  budget: Budget;
  mode: PromptMode;
  retry: RetryPolicy;
  clock: Clock;
  random: () => number;
  env: NodeJS.ProcessEnv;
  /** Aborting stops new sends; requests in flight finish and are stored. */
  stopSignal?: AbortSignal;
  /** Aborting also cancels requests in flight (their responses are lost). */
  abortSignal?: AbortSignal;
  onProgress?: (totals: EngineTotals) => void;
}

type AskResult = { kind: "response" } | { kind: "failed" } | { kind: "stopped" };

/** Decides the answers a response settles, and how each choice was read. */
type Finalize = (choices: CompletionChoice[], callId: number) => { answers: AnswerRow[]; parsed: ParsedChoice[] };

interface Reask {
  generation: number;
  attempt: number;
  followUp: ChatMessage[];
}

export class Engine {
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
    retries: 0,
    done: 0,
  };
  stopReason: StopReason | undefined;
  /** The error that stopped the run (bad key, bad request, a bug). */
  fatalError: unknown;

  private readonly options: EngineOptions;
  private readonly stopper = new AbortController();
  private readonly cacheSystemPrompt: boolean;

  constructor(options: EngineOptions) {
    this.options = options;
    this.cacheSystemPrompt = options.study.survey.items.length > 1;
    options.stopSignal?.addEventListener("abort", () => this.stop("stopped"), { once: true });
    if (options.stopSignal?.aborted) this.stop("stopped");
  }

  /** Runs the jobs, at most `concurrency.max` at once, until done or stopped. */
  async run(jobs: Job[]): Promise<void> {
    const active = new Set<Promise<void>>();
    const cap = this.options.concurrency.max;
    for (const job of jobs) {
      if (this.stopReason !== undefined) break;
      while (active.size >= cap) await Promise.race(active);
      if (this.stopReason !== undefined) break;
      const task: Promise<void> = this.processJob(job)
        .catch((error: unknown) => this.fail(error))
        .finally(() => active.delete(task));
      active.add(task);
    }
    await Promise.all(active);
  }

  stop(reason: StopReason): void {
    if (this.stopReason === undefined) this.stopReason = reason;
    if (!this.stopper.signal.aborted) this.stopper.abort(new Error(`generation ${reason}`));
  }

  private fail(error: unknown): void {
    if (this.fatalError === undefined) this.fatalError = error;
    this.stop("failed");
  }

  private async processJob(job: Job): Promise<void> {
    const pending = new Set(job.pending);
    const reasks: Reask[] = [];
    const maxAttempts = this.options.study.study.max_attempts;
    const result = await this.ask(job, job.firstGeneration, job.n, 1, [], job.pending, (choices, callId) => {
      const answers: AnswerRow[] = [];
      const parsed: ParsedChoice[] = [];
      for (let i = 0; i < job.n; i++) {
        const generation = job.firstGeneration + i;
        const choice = choices[i];
        const outcome: ParseOutcome =
          choice === undefined ? { status: "invalid", reason: "no answer returned" } : parseAnswer(job.item, choice);
        if (choice !== undefined) parsed.push(toParsed(outcome));
        if (!pending.has(generation)) continue;
        if (outcome.status !== "invalid") answers.push(this.row(job, generation, outcome, 1, callId));
        // Fewer choices than n: ask that generation on its own (a different request).
        else if (choice === undefined && job.n > 1) reasks.push({ generation, attempt: 1, followUp: [] });
        else if (choice === undefined) answers.push(this.row(job, generation, invalidAfter(1, outcome.reason), 1, callId));
        else if (maxAttempts > 1) reasks.push({ generation, attempt: 2, followUp: followUp(job.item, choice, outcome.reason, this.options.mode) });
        else answers.push(this.row(job, generation, invalidAfter(1, outcome.reason), 1, callId));
      }
      return { answers, parsed };
    });
    if (result.kind !== "response") return;
    await Promise.all(reasks.map((reask) => this.reaskChain(job, reask)));
  }

  /** Re-asks one generation after an invalid answer, up to the study's max_attempts in all. */
  private async reaskChain(job: Job, start: Reask): Promise<void> {
    const maxAttempts = this.options.study.study.max_attempts;
    let current: Reask | undefined = start;
    while (current !== undefined) {
      const { generation, attempt, followUp: messages } = current;
      let next: Reask | undefined;
      const result = await this.ask(job, generation, 1, attempt, messages, [generation], (choices, callId) => {
        const choice = choices[0];
        const outcome: ParseOutcome =
          choice === undefined ? { status: "invalid", reason: "no answer returned" } : parseAnswer(job.item, choice);
        const parsed = choice === undefined ? [] : [toParsed(outcome)];
        if (outcome.status !== "invalid") return { answers: [this.row(job, generation, outcome, attempt, callId)], parsed };
        if (attempt >= maxAttempts || choice === undefined) {
          return { answers: [this.row(job, generation, invalidAfter(attempt, outcome.reason), attempt, callId)], parsed };
        }
        next = { generation, attempt: attempt + 1, followUp: [...messages, ...followUp(job.item, choice, outcome.reason, this.options.mode)] };
        return { answers: [], parsed };
      });
      current = result.kind === "response" ? next : undefined;
    }
  }

  /**
   * One request: from the cache if its response is stored, else sent (with
   * retries) and stored with the answers `finalize` decides. `generations`
   * are the cells recorded as nonresponse if the vendor keeps failing.
   */
  private async ask(
    job: Job,
    generation: number,
    n: number,
    attempt: number,
    followUpMessages: ChatMessage[],
    generations: number[],
    finalize: Finalize,
  ): Promise<AskResult> {
    const { store, study, clock } = this.options;
    const identity = { model: job.model, wave: job.wave.id, respondent: job.respondentId, item: job.item.id };
    const key = requestKey(identity, generation, n, job.prompt, followUpMessages, job.parameters);
    const cached = store.findCompleted(key);
    if (cached !== undefined) {
      this.totals.cacheHits += 1;
      const { answers } = finalize(cached.choices, cached.id);
      store.writeAnswers(answers);
      this.tally(answers);
      return { kind: "response" };
    }

    const provider = this.options.providers.get(job.model)!;
    const price = this.options.prices.get(job.model)!;
    const limiter = this.options.limiters.get(job.model)!;
    const messages: ChatMessage[] = [{ role: "user", content: job.user }, ...followUpMessages];
    const request = this.request(job, provider, messages, generation, n);
    const maxTokens = study.study.max_tokens;
    const rateTokens = estimateInputTokens(job.system, messages, job.schema) + n * maxTokens;
    const worstCost = worstCaseCost(worstCaseInputTokens(job.system, messages, request.answerSchema), n * maxTokens, price);
    const parameters = {
      temperature: request.temperature,
      max_tokens: request.maxTokens,
      seed: request.seed,
      n,
      elicitation: this.options.mode,
      answer_schema: request.answerSchema ?? null,
    };
    const stopSignal = this.stopper.signal;

    for (let tryNumber = 1; ; tryNumber++) {
      if (this.stopReason !== undefined) return { kind: "stopped" };
      let ticket: number;
      try {
        ticket = await this.options.concurrency.acquire(stopSignal);
      } catch {
        return { kind: "stopped" };
      }
      try {
        await limiter.acquire(rateTokens, stopSignal);
      } catch {
        this.options.concurrency.release();
        return { kind: "stopped" };
      }
      let reservation: Reservation | undefined;
      try {
        reservation = this.stopReason === undefined ? await this.options.budget.reserve(worstCost, stopSignal) : undefined;
      } catch {
        reservation = undefined;
      }
      if (reservation === undefined) {
        this.options.concurrency.release();
        if (this.stopReason === undefined) this.stop("budget");
        return { kind: "stopped" };
      }
      const startedAt = clock.now();
      const callId = store.recordSent({
        runId: this.options.runId,
        requestKey: key,
        study: study.study.name,
        model: job.model,
        wave: job.wave.id,
        respondent: job.respondentId,
        item: job.item.id,
        generation,
        n,
        attempt,
        try: tryNumber,
        system: job.system,
        messages,
        parameters,
        reservedUsd: reservation.amountUsd,
        startedAt: iso(startedAt),
      });
      this.totals.callsSent += 1;

      let result: CompletionResult;
      try {
        result = await provider.complete(request, { signal: this.options.abortSignal ?? neverAborted });
      } catch (error) {
        this.options.concurrency.release();
        const finishedAt = clock.now();
        const billingUnknown = !(error instanceof ProviderError) || isBillingUnknown(error);
        this.options.budget.settle(reservation, billingUnknown ? reservation.amountUsd : 0);
        this.totals.callsFailed += 1;
        if (error instanceof RateLimitError || error instanceof OverloadedError) {
          this.options.concurrency.onOverload(ticket);
          if (error.retryAfterMs !== undefined) limiter.pause(error.retryAfterMs);
        }
        const failure: CallFailure = {
          errorClass: error instanceof Error ? error.name : "Error",
          errorMessage: redactSecrets(error instanceof Error ? error.message : String(error), this.options.env),
          httpStatus: error instanceof ProviderError ? error.status : undefined,
          latencyMs: finishedAt - startedAt,
          finishedAt: iso(finishedAt),
          costUsd: billingUnknown ? null : 0,
        };
        if (this.options.abortSignal?.aborted) {
          store.recordFailed(callId, { ...failure, errorClass: "Aborted", errorMessage: "cancelled by the user" });
          this.stop("stopped");
          return { kind: "stopped" };
        }
        const action = onFailure(error, tryNumber, this.options.random, this.options.retry);
        if (action.kind === "retry") {
          store.recordFailed(callId, failure);
          this.totals.retries += 1;
          this.progress();
          try {
            await clock.sleep(action.delayMs, stopSignal);
          } catch {
            return { kind: "stopped" };
          }
          continue;
        }
        if (action.kind === "give-up") {
          const answers = generations.map((g) =>
            this.row(job, g, { status: "nonresponse", reason: `vendor failure: ${redactSecrets(action.reason, this.options.env)}`, transient: true }, attempt, callId),
          );
          store.recordFailed(callId, failure, answers);
          this.tally(answers);
          return { kind: "failed" };
        }
        store.recordFailed(callId, failure);
        this.fail(error);
        return { kind: "stopped" };
      }

      this.options.concurrency.release();
      this.options.concurrency.onSuccess();
      limiter.observe(result.rateLimit, rateTokens);
      const finishedAt = clock.now();
      const cost = costUsd(result.usage, price);
      this.options.budget.settle(reservation, cost);
      this.totals.costUsd += cost;
      this.totals.inputTokens += result.usage.inputTokens;
      this.totals.outputTokens += result.usage.outputTokens;
      this.totals.cachedInputTokens += result.usage.cachedInputTokens;
      this.totals.cacheWriteTokens += result.usage.cacheWriteTokens;
      const { answers, parsed } = finalize(result.choices, callId);
      store.recordCompleted(
        callId,
        {
          choices: result.choices,
          parsed,
          usage: result.usage,
          costUsd: cost,
          latencyMs: finishedAt - startedAt,
          finishedAt: iso(finishedAt),
          requestId: result.requestId,
          vendorModel: result.model,
        },
        answers,
      );
      this.tally(answers);
      return { kind: "response" };
    }
  }

  private request(job: Job, provider: Provider, messages: ChatMessage[], generation: number, n: number): CompletionRequest {
    const { study } = this.options;
    const frame = study.waves[job.waveIndex]!.frame;
    const request: CompletionRequest = {
      system: job.system,
      messages,
      maxTokens: study.study.max_tokens,
      temperature: study.study.temperature,
      seed: seedFor(study.study.seed, generation),
      n,
      cacheSystemPrompt: this.cacheSystemPrompt,
      subject: {
        respondent: frame.profile(job.respondentIndex),
        respondentId: job.respondentId,
        item: job.item,
        wave: { id: job.wave.id, context: job.wave.context },
        generation,
      },
    };
    if (job.schema !== undefined && provider.capabilities.answerSchema) request.answerSchema = job.schema;
    return request;
  }

  private row(
    job: Job,
    generation: number,
    outcome: { status: "answered"; value: number } | { status: "refusal" | "nonresponse"; reason: string; transient?: boolean },
    attempts: number,
    callId: number | null,
  ): AnswerRow {
    return {
      model: job.model,
      wave: job.wave.id,
      respondent: job.respondentId,
      item: job.item.id,
      generation,
      cellKey: job.cellKeys[generation - job.firstGeneration]!,
      value: outcome.status === "answered" ? outcome.value : null,
      distribution: null,
      status: outcome.status,
      reason: outcome.status === "answered" ? null : outcome.reason,
      transient: outcome.status === "nonresponse" && outcome.transient === true,
      attempts,
      callId,
      runId: this.options.runId,
      createdAt: iso(this.options.clock.now()),
    };
  }

  private tally(answers: AnswerRow[]): void {
    for (const answer of answers) {
      if (answer.status === "answered") this.totals.answered += 1;
      else if (answer.status === "refusal") this.totals.refusals += 1;
      else this.totals.nonresponse += 1;
    }
    this.totals.done += answers.length;
    this.progress();
  }

  private progress(): void {
    this.options.onProgress?.(this.totals);
  }
}

const neverAborted = new AbortController().signal;

/** Whether the vendor may have billed a failed call: it may have done the work. */
function isBillingUnknown(error: ProviderError): boolean {
  return error instanceof TimeoutError || error instanceof ConnectionError || error instanceof MalformedResponseError;
}

function followUp(item: SurveyItem, choice: CompletionChoice, reason: string, mode: PromptMode): ChatMessage[] {
  return [
    { role: "assistant", content: choice.text },
    { role: "user", content: reaskMessage(item, reason, mode) },
  ];
}

function invalidAfter(attempts: number, reason: string): { status: "nonresponse"; reason: string } {
  return {
    status: "nonresponse",
    reason: attempts === 1 ? `invalid answer: ${reason}` : `invalid after ${attempts} attempts: ${reason}`,
  };
}

function toParsed(outcome: ParseOutcome): ParsedChoice {
  return outcome.status === "answered" ? { status: "answered", value: outcome.value } : { status: outcome.status, reason: outcome.reason };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
