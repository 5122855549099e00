/**
 * `generate(study, options)`: the library entry point behind `silicon
 * generate`. It checks everything that can be checked before a call is made
 * (models, keys, prices, templates) and only then creates the store; it runs
 * the engine, records the run, and exports the responses.
 */
import { join } from "node:path";
import type { Price } from "../config/schema.ts";
import { renderQuestion } from "../personas/render.ts";
import { createProvider } from "../providers/index.ts";
import { costUsd, priceFor, type ResolvedPrice } from "../providers/prices.ts";
import { InputError, SiliconError, UsageError, type InputLocation } from "../errors.ts";
import type { Provider } from "../providers/types.ts";
import type { StoredCellState } from "../store/answers.ts";
import { exportResponses, type ExportResult } from "../store/export.ts";
import type { InterruptedWork } from "../store/runs.ts";
import { openStoreReadOnly, Store } from "../store/store.ts";
import { describeHolder } from "../store/lock.ts";
import { redactSecrets } from "../util/secrets.ts";
import { AdaptiveConcurrency } from "./concurrency.ts";
import { Budget, estimateInputTokens, TYPICAL_ANSWER_TOKENS, worstCaseCost, worstCaseInputTokens } from "./cost.ts";
import { Engine, type EngineTotals } from "./engine.ts";
import { requestKey } from "./keys.ts";
import { planJobs, preparePrompts, type Plan, type PreparedPrompts } from "./plan.ts";
import { silentProgress, formatUsd, type ProgressReporter } from "./progress.ts";
import type { PromptMode } from "./prompt.ts";
import { RateLimiter } from "./rate-limit.ts";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.ts";
import { locateField, systemClock, type Clock, type RenderQuestion, type StudyLike } from "./types.ts";

export interface ProviderFactoryOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Where the model id is written in the study; located errors name it. */
  location?: InputLocation;
}

/** The pieces from other stages the engine uses; injectable for tests and embedding. */
export interface GenerateDeps {
  createProvider(id: string, options: ProviderFactoryOptions): Provider;
  priceFor(id: string, overrides: Record<string, Price>, options: { env?: NodeJS.ProcessEnv; location?: InputLocation }): ResolvedPrice;
  renderQuestion: RenderQuestion;
}

/** The real ones: the provider registry, the price table, the question renderer. */
export const DEFAULT_DEPS: GenerateDeps = { createProvider, priceFor, renderQuestion };

export interface GenerateOptions {
  /** Generate for this one model only (normally one of the study's `models`; any valid id is accepted, with a note). */
  model?: string;
  /** Plan and price, send nothing, write nothing. */
  dryRun?: boolean;
  /** Hard cap on what this run spends, in USD. */
  maxCostUsd?: number;
  /** Overrides the study's `concurrency`. */
  concurrency?: number;
  /** Folder holding results/<study>/; default "results" in the working directory. */
  resultsDir?: string;
  progress?: ProgressReporter;
  /** Where API keys come from (default process.env); also what is redacted. */
  env?: NodeJS.ProcessEnv;
  /** The command line, stored with the run (secrets redacted). */
  argv?: string[];
  /** Aborting stops sending; requests in flight finish and are stored. */
  stopSignal?: AbortSignal;
  /** Aborting also cancels requests in flight. */
  abortSignal?: AbortSignal;
  /** Per-request timeout passed to the providers (default 60 s). */
  timeoutMs?: number;
  /** Wait this long for another process writing the same store (default: refuse at once). */
  lockWaitMs?: number;
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  random?: () => number;
  /** Notices for the user (a lock being waited for, work a killed run left). */
  log?: (line: string) => void;
  /** Replace the registry, price table or question renderer (tests, embedding). */
  deps?: Partial<GenerateDeps>;
}

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
}

export type RunStatus = "completed" | "budget" | "stopped" | "failed";

export interface RunSummary {
  kind: "run";
  study: string;
  studyFile: string;
  storeDir: string;
  runId: number;
  status: RunStatus;
  message: string | undefined;
  models: string[];
  cells: number;
  /** Cells already stored before this run. */
  done: number;
  pending: number;
  totals: EngineTotals;
  /** The cap this run worked under (Infinity: none). */
  limitUsd: number;
  interrupted: InterruptedWork;
  exports: ExportResult;
  elapsedMs: number;
}

export type GenerationSummary = DryRunSummary | RunSummary;

const SUPPORTED_MODES: readonly string[] = ["structured", "free_text"];

export async function generate(study: StudyLike, options: GenerateOptions): Promise<GenerationSummary> {
  const env = options.env ?? process.env;
  const deps: GenerateDeps = { ...DEFAULT_DEPS, ...options.deps };
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => undefined);
  const mode = checkMode(study);
  const models = selectModels(study, options.model);
  const concurrency = options.concurrency ?? study.study.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a whole number of at least 1, got ${concurrency}`);
  if (options.maxCostUsd !== undefined && !(options.maxCostUsd >= 0)) {
    throw new UsageError(`--max-cost must be a number of dollars, at least 0, got ${options.maxCostUsd}`);
  }

  const providers = new Map<string, Provider>();
  const prices = new Map<string, ResolvedPrice>();
  for (const model of models) {
    const index = study.study.models.indexOf(model);
    const location = locateField(study, index >= 0 ? ["models", index] : ["models"]);
    const provider = atLocation(location, () => deps.createProvider(model, { ...providerOptions(env, options.timeoutMs), location }));
    if (provider.capabilities.temperature === false && study.study.temperature !== 1) {
      throw new InputError(
        locateField(study, ["temperature"]),
        `${model} samples at temperature 1 only; set temperature: 1 in the study, or leave this model out (--model)`,
      );
    }
    providers.set(model, provider);
    const price = atLocation(location, () => deps.priceFor(model, study.study.prices, { env, location }));
    if (price.note !== undefined && price.source === "self-hosted") log(`note: ${price.note}`);
    prices.set(model, price);
  }
  const unlisted = models.filter((model) => !study.study.models.includes(model));
  for (const model of unlisted) {
    log(`note: --model ${model} is not among the study's models (${study.study.models.join(", ")}); generating for it anyway`);
  }
  const prepared = preparePrompts(study, mode, deps.renderQuestion, [...new Set([...study.study.models, ...models])]);
  const modelPlans = models.map((id) => ({ id, multipleChoices: providers.get(id)!.capabilities.multipleChoices }));
  const storeDir = join(options.resultsDir ?? "results", study.study.name);

  if (options.dryRun === true) return dryRun(study, storeDir, prepared, modelPlans, prices, options.maxCostUsd);

  const started = clock.now();
  const store = await Store.open(storeDir, {
    study: study.study.name,
    lockWaitMs: options.lockWaitMs ?? 0,
    onLockWait: (holder) => log(`waiting for ${describeHolder(holder)} to finish with ${join(storeDir, "store.sqlite")}`),
  });
  try {
    if (store.interrupted.runs.length > 0) {
      const { runs, calls, reservedUsd } = store.interrupted;
      const which = `run ${runs.map((id) => `#${id}`).join(", ")} stopped without finishing`;
      log(
        calls === 0
          ? `note: ${which}; no request was in flight; resuming`
          : `note: ${which}; ${calls} request(s) were in flight and may have been billed ` +
              `(at most ${formatUsd(reservedUsd)}); they are asked again`,
      );
    }
    const plan = planJobs(prepared, modelPlans, store.cellStates());
    // --max-cost overrides the study's budget.max_cost_usd; either caps this run.
    const studyBudget = study.study.budget.max_cost_usd;
    const limitUsd = options.maxCostUsd ?? studyBudget ?? Infinity;
    const budget = new Budget(limitUsd);
    const runId = store.startRun({
      startedAt: new Date(started).toISOString(),
      pid: process.pid,
      argv: (options.argv ?? []).map((arg) => redactSecrets(arg, env)),
      models,
      options: {
        concurrency,
        max_cost_usd: options.maxCostUsd ?? null,
        study_budget_usd: studyBudget ?? null,
        limit_usd: Number.isFinite(limitUsd) ? limitUsd : null,
        rate_limits: study.study.rate_limits,
        elicitation: mode,
        generations: study.study.generations,
        max_attempts: study.study.max_attempts,
      },
      plannedCells: plan.pending,
    });
    // The study's rate limits are for vendors; simulated models run locally, unmetered.
    const limits = { requestsPerMinute: study.study.rate_limits.requests_per_minute, tokensPerMinute: study.study.rate_limits.tokens_per_minute };
    const limiters = new Map(
      models.map((model) => [model, new RateLimiter(providers.get(model)!.vendor === "simulated" ? {} : limits, clock)]),
    );
    const progress = options.progress ?? silentProgress;
    const engine = new Engine({
      study,
      store,
      runId,
      providers,
      prices,
      limiters,
      concurrency: new AdaptiveConcurrency(concurrency),
      budget,
      mode,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      clock,
      random: options.random ?? Math.random,
      env,
      ...(options.stopSignal === undefined ? {} : { stopSignal: options.stopSignal }),
      ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }),
      onProgress: (totals) => progress.update(totals),
    });
    progress.start(plan.pending);
    try {
      await engine.run(plan.jobs);
    } finally {
      progress.stop();
    }
    const status: RunStatus = engine.stopReason ?? "completed";
    const message = stopMessage(engine, limitUsd, options.maxCostUsd, env);
    store.finishRun(runId, new Date(clock.now()).toISOString(), status, message ?? null, engine.totals);
    const exports = await exportResponses(storeDir, study.study.name, store.allAnswers(), prepared.currentKeys);
    if (engine.fatalError !== undefined) throw engine.fatalError;
    return {
      kind: "run",
      study: study.study.name,
      studyFile: study.file,
      storeDir,
      runId,
      status,
      message,
      models,
      cells: plan.cells,
      done: plan.done,
      pending: plan.pending,
      totals: engine.totals,
      limitUsd,
      interrupted: store.interrupted,
      exports,
      elapsedMs: clock.now() - started,
    };
  } finally {
    store.close();
  }
}

function checkMode(study: StudyLike): PromptMode {
  const mode = study.study.elicitation;
  if (!SUPPORTED_MODES.includes(mode)) {
    throw new InputError(
      locateField(study, ["elicitation"]),
      `"${mode}" elicitation is not available in silicon generate yet; use "structured" or "free_text"`,
    );
  }
  return mode as PromptMode;
}

/**
 * The models this run generates for: all the study's, or the one --model
 * names. That one need not be listed in the study (a researcher trying
 * `--model openai:gpt-4o-mini`, or a self-hosted server's model name); the
 * registry and the price table still check it before any call.
 */
function selectModels(study: StudyLike, model: string | undefined): string[] {
  return model === undefined ? [...study.study.models] : [model];
}

function providerOptions(env: NodeJS.ProcessEnv, timeoutMs: number | undefined): ProviderFactoryOptions {
  return timeoutMs === undefined ? { env } : { env, timeoutMs };
}

/** Runs `fn`; an error it throws that is not already located is located at `location` (bad input, exit 2). */
function atLocation<T>(location: InputLocation, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof InputError && error.location.file === location.file) throw error;
    if (error instanceof SiliconError) {
      const problem = error instanceof InputError ? error.problem : error.message;
      throw new InputError(location, problem, { cause: error });
    }
    throw error;
  }
}

function stopMessage(engine: Engine, limitUsd: number, maxCostUsd: number | undefined, env: NodeJS.ProcessEnv): string | undefined {
  switch (engine.stopReason) {
    case "budget": {
      const cap = maxCostUsd !== undefined ? "--max-cost" : "the study's budget.max_cost_usd";
      return `stopped at the cost cap (${cap}, ${formatUsd(limitUsd)} for this run): the next request could have crossed it`;
    }
    case "stopped":
      return "stopped by the user";
    case "failed": {
      const error = engine.fatalError;
      return redactSecrets(error instanceof Error ? error.message : String(error), env);
    }
    default:
      return undefined;
  }
}

function dryRun(
  study: StudyLike,
  storeDir: string,
  prepared: PreparedPrompts,
  models: { id: string; multipleChoices: boolean }[],
  prices: Map<string, ResolvedPrice>,
  maxCostUsd: number | undefined,
): DryRunSummary {
  const store = openStoreReadOnly(storeDir);
  try {
    const stored: Map<string, StoredCellState> = store?.cellStates() ?? new Map();
    const plan: Plan = planJobs(prepared, models, stored);
    const maxTokens = study.study.max_tokens;
    const estimates = new Map<string, ModelEstimate>(
      models.map(({ id }) => [
        id,
        { model: id, cells: 0, calls: 0, cachedCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, worstCaseUsd: 0, price: prices.get(id)! },
      ]),
    );
    for (const job of plan.jobs) {
      const estimate = estimates.get(job.model)!;
      estimate.cells += job.pending.length;
      const identity = { model: job.model, wave: job.wave.id, respondent: job.respondentId, item: job.item.id };
      if (store?.findCompleted(requestKey(identity, job.firstGeneration, job.n, job.prompt, [], job.parameters)) !== undefined) {
        estimate.cachedCalls += 1;
        continue;
      }
      const messages = [{ role: "user" as const, content: job.user }];
      const input = estimateInputTokens(job.system, messages, job.schema);
      const output = TYPICAL_ANSWER_TOKENS * job.n;
      estimate.calls += 1;
      estimate.inputTokens += input;
      estimate.outputTokens += output;
      estimate.costUsd += costUsd({ inputTokens: input, outputTokens: output, cachedInputTokens: 0, cacheWriteTokens: 0 }, estimate.price);
      estimate.worstCaseUsd += worstCaseCost(worstCaseInputTokens(job.system, messages, job.schema), job.n * maxTokens, estimate.price);
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
    };
  } finally {
    store?.close();
  }
}
