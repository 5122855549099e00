/**
 * A dry run (`silicon generate --dry-run`): what a run would ask, of which
 * models, at what expected and worst-case cost, with what the store already
 * holds; nothing sent, nothing written.
 */
import { costUsd, type ResolvedPrice } from "../providers/prices.ts";
import type { StoredCellState } from "../store/answers.ts";
import { openStoreReadOnly } from "../store/store.ts";
import { estimateInputTokens, TYPICAL_ANSWER_TOKENS, worstCaseCost, worstCaseInputTokens } from "./cost.ts";
import { planJobs, type Job, type Plan, type PreparedPrompts, type PromptUnit } from "./plan.ts";
import type { PromptMode } from "./prompt.ts";
import { unitCachedRequest, unitRequestKey } from "./request.ts";
import type { StudyLike } from "./types.ts";

export interface ModelEstimate {
  model: string;
  cells: number;
  /** First-ask requests to send (re-asks of invalid answers come on top). */
  calls: number;
  /** First-ask requests whose response is already stored: free. */
  cachedCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Every request at max_tokens and the worst-case token count: what --max-cost reserves. */
  worstCaseUsd: number;
  price: ResolvedPrice;
  /** Requests an earlier run left waiting in vendor batches (collected by `--batch`, never sent again). */
  waitingInBatches: number;
}

export interface DryRunSummary {
  kind: "dry-run";
  study: string;
  studyFile: string;
  storeDir: string;
  cells: number;
  done: number;
  stale: number;
  retried: number;
  pending: number;
  models: ModelEstimate[];
  total: { calls: number; cachedCalls: number; inputTokens: number; outputTokens: number; costUsd: number; worstCaseUsd: number };
  /** What the study's store says was (or may have been) spent by earlier runs. */
  spentUsd: number;
  maxCostUsd: number | undefined;
  studyBudgetUsd: number | undefined;
  /** Priced at the vendors' batch prices (`--batch`). */
  batch: boolean;
  mode: PromptMode;
}

export function dryRun(
  study: StudyLike,
  storeDir: string,
  prepared: PreparedPrompts,
  models: { id: string; multipleChoices: boolean }[],
  prices: Map<string, ResolvedPrice>,
  maxCostUsd: number | undefined,
  batch: boolean,
): DryRunSummary {
  const store = openStoreReadOnly(storeDir);
  try {
    const stored: Map<string, StoredCellState> = store?.cellStates() ?? new Map();
    const plan: Plan = planJobs(prepared, models, stored);
    const waiting = new Set((store?.waitingInBatches() ?? []).map((call) => call.requestKey));
    const estimates = new Map<string, ModelEstimate>(
      models.map(({ id }) => [
        id,
        { model: id, cells: 0, calls: 0, cachedCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, worstCaseUsd: 0, price: prices.get(id)!, waitingInBatches: 0 },
      ]),
    );
    const asksByJob = plan.jobs.map(firstAsks);
    // Stored responses of every known first request, in one query per thousand keys.
    const requests = plan.jobs.flatMap((job, j) => asksByJob[j]!.flatMap((ask) => (ask.key === undefined ? [] : [unitCachedRequest(ask.unit, job.model, ask.key)])));
    const completed = new Set(store?.findCompletedMany(requests).keys() ?? []);
    for (const [j, job] of plan.jobs.entries()) {
      const estimate = estimates.get(job.model)!;
      const factor = batch ? estimate.price.batch_factor : 1;
      for (const ask of asksByJob[j]!) {
        const { unit } = ask;
        if (ask.key !== undefined) {
          if (completed.has(ask.key)) {
            estimate.cachedCalls += 1;
            continue;
          }
          if (waiting.has(ask.key)) {
            estimate.waitingInBatches += 1;
            continue;
          }
        }
        const input = estimateInputTokens(unit.system, ask.messages, unit.schema);
        const output = Math.min(unit.maxTokens, TYPICAL_ANSWER_TOKENS) * ask.n;
        estimate.calls += 1;
        estimate.inputTokens += input;
        estimate.outputTokens += output;
        estimate.costUsd += factor * costUsd({ inputTokens: input, outputTokens: output, cachedInputTokens: 0, cacheWriteTokens: 0 }, estimate.price);
        estimate.worstCaseUsd += factor * worstCaseCost(worstCaseInputTokens(unit.system, ask.messages, unit.schema), ask.n * unit.maxTokens, estimate.price);
      }
      estimate.cells += job.kind === "item" ? job.pending.length : job.pending.filter(Boolean).length;
    }
    const list = [...estimates.values()];
    const sum = (pick: (e: ModelEstimate) => number) => list.reduce((total, e) => total + pick(e), 0);
    return {
      kind: "dry-run",
      study: study.study.name,
      studyFile: study.file,
      storeDir,
      cells: plan.cells,
      done: plan.done,
      stale: plan.stale,
      retried: plan.retried,
      pending: plan.pending,
      models: list,
      total: {
        calls: sum((e) => e.calls),
        cachedCalls: sum((e) => e.cachedCalls),
        inputTokens: sum((e) => e.inputTokens),
        outputTokens: sum((e) => e.outputTokens),
        costUsd: sum((e) => e.costUsd),
        worstCaseUsd: sum((e) => e.worstCaseUsd),
      },
      spentUsd: store?.spentUsd() ?? 0,
      maxCostUsd,
      studyBudgetUsd: study.study.budget.max_cost_usd,
      batch,
      mode: prepared.mode,
    };
  } finally {
    store?.close();
  }
}

/** A placeholder answer in an estimated conversation: TYPICAL_ANSWER_TOKENS tokens at four characters each. */
const TYPICAL_ANSWER = "x".repeat(4 * TYPICAL_ANSWER_TOKENS);

/**
 * The first asks a job will make, for the dry run: an item job's one request
 * (its key known, so the store can be checked); a conversation's pending
 * turns, after typical answers to the turns before (their keys depend on
 * answers not given yet).
 */
function firstAsks(job: Job): { unit: PromptUnit; messages: { role: "user" | "assistant"; content: string }[]; n: number; key?: string }[] {
  if (job.kind === "item") {
    return [{ unit: job, messages: [{ role: "user", content: job.user }], n: job.n, key: unitRequestKey(job, job.model, job.firstGeneration, job.n) }];
  }
  const asks: ReturnType<typeof firstAsks> = [];
  const messages: { role: "user" | "assistant"; content: string }[] = [];
  job.turns.forEach((unit, t) => {
    messages.push({ role: "user", content: unit.user });
    if (job.pending[t]) {
      const first = job.pending.indexOf(true) === t;
      // Only the first turn asked has a key known in advance (what follows depends on its answer).
      const key = first && t === 0 ? unitRequestKey(unit, job.model, job.generation, 1) : undefined;
      asks.push({ unit, messages: [...messages], n: 1, ...(key !== undefined ? { key } : {}) });
    }
    messages.push({ role: "assistant", content: TYPICAL_ANSWER });
  });
  return asks;
}
