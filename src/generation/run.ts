/**
 * `generate(study, options)`: the library entry point behind `silicon
 * generate`. It checks everything that can be checked before a call is made
 * (models, keys, prices, templates) and only then creates the store; it runs
 * the engine, records the run, and exports the responses.
 */
import { join } from "node:path";
import { renderQuestion } from "../personas/render.ts";
import { createProvider } from "../providers/index.ts";
import { priceFor, type ResolvedPrice } from "../providers/prices.ts";
import { InputError, UsageError } from "../errors.ts";
import { exportIfChanged, type ExportResult } from "../store/export.ts";
import { cellStatesOf, type AnswerCells } from "../store/answers.ts";
import type { InterruptedWork } from "../store/runs.ts";
import { Store } from "../store/store.ts";
import { describeHolder } from "../store/lock.ts";
import { crashPoint } from "../util/crash-points.ts";
import { redactSecrets } from "../util/secrets.ts";
import { Batcher, DEFAULT_POLL_MS, type BatchModel, type BatchStats } from "./batch.ts";
import { EndpointHealth } from "./breaker.ts";
import { AdaptiveConcurrency } from "./concurrency.ts";
import { Budget, type Reservation } from "./cost.ts";
import { dryRun, type DryRunSummary } from "./dry-run.ts";
import { Engine, type EngineTotals, type WaitingCall } from "./engine.ts";
import { Fleet, type BreakerOptions, type EndpointState } from "./fleet.ts";
import { planJobs, preparePrompts, type Plan } from "./plan.ts";
import { silentProgress, formatUsd, type ProgressReporter } from "./progress.ts";
import { itemModeOf, PROMPT_MODES, type PromptMode } from "./prompt.ts";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.ts";
import { batchTransportOf, modelRoutes, type GenerateDeps } from "./routes.ts";
import type { Router } from "./router.ts";
import { locateField, systemClock, type Clock, type StudyLike } from "./types.ts";

export type { GenerateDeps, ProviderFactoryOptions } from "./routes.ts";
export type { DryRunSummary, ModelEstimate } from "./dry-run.ts";

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
  /** Send through the vendors' batch APIs at batch prices (`--batch`). */
  batch?: boolean;
  /** With `batch`: wait for the batches to end (default) or submit and return (`--no-wait`). */
  wait?: boolean;
  /** With `batch`: the first pause between polls (default 30 s), growing to 5 minutes. */
  pollIntervalMs?: number;
  /** With `batch`: jobs in progress at once (default 200,000: how many requests wait in batches at a time). */
  batchJobs?: number;
  /** Circuit breaker of fleet endpoints (the study's `endpoints:`). */
  breaker?: Partial<BreakerOptions>;
  clock?: Clock;
  random?: () => number;
  /** Notices for the user (a lock being waited for, work a killed run left). */
  log?: (line: string) => void;
  /** Replace the registry, price table or question renderer (tests, embedding). */
  deps?: Partial<GenerateDeps>;
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
  mode: PromptMode;
  /** Batch runs: what was submitted and collected. */
  batch: BatchStats | undefined;
  /** Requests waiting in vendor batches when the run ended (submitted now or earlier). */
  waitingInBatches: number;
  /** Fleets (the study's `endpoints:`): how each endpoint fared. */
  endpoints: Record<string, readonly EndpointState[]>;
  /** logprobs elicitation: distributions stored by this run and the probability they put off the options. */
  distributions: { answers: number; meanNonOptionMass: number; maxNonOptionMass: number } | undefined;
  /** The current cell keys this run planned with, for the models listed: a later stage of the same command reuses them rather than planning again. */
  prompts: { models: string[]; currentKeys: Map<string, string>; stored?: StoredCells };
}

/** The stored answers a run planned with, as of answers version `version` (see Store.answersVersion). */
export type StoredCells = AnswerCells & { version: number };

export type GenerationSummary = DryRunSummary | RunSummary;

export async function generate(study: StudyLike, options: GenerateOptions): Promise<GenerationSummary> {
  const setup = checkOptions(study, options);
  const { routers, prices } = modelRoutes(study, { ...setup, timeoutMs: options.timeoutMs, breaker: options.breaker, dryRun: options.dryRun });
  noteModels(study, setup);
  const promptModels = [...new Set([...study.study.models, ...setup.models])];
  const prepared = preparePrompts(study, setup.mode, setup.deps.renderQuestion, promptModels);
  const modelPlans = setup.models.map((id) => ({ id, multipleChoices: routers.get(id)!.provider.capabilities.multipleChoices }));
  const storeDir = join(options.resultsDir ?? "results", study.study.name);
  if (options.dryRun === true) return dryRun(study, storeDir, prepared, modelPlans, prices, options.maxCostUsd, setup.batch);

  const started = setup.clock.now();
  const store = await Store.open(storeDir, {
    study: study.study.name,
    lockWaitMs: options.lockWaitMs ?? 0,
    onLockWait: (holder) => setup.log(`waiting for ${describeHolder(holder)} to finish with ${join(storeDir, "store.sqlite")}`),
  });
  try {
    noteInterrupted(store.interrupted, setup.log);
    const answersAtStart = store.answersVersion();
    const cells = store.answerCells();
    const plan = planJobs(prepared, modelPlans, cellStatesOf(cells));
    const run = startRun(study, store, setup, options, plan, started);
    const { engine, batchStats } = await runEngine({ study, store, setup, options, run, routers, prices }, plan);
    crashPoint("before-finish");
    const status: RunStatus = engine.stopReason ?? "completed";
    const message = stopMessage(engine, run.limitUsd, options.maxCostUsd, setup.env);
    store.finishRun(run.runId, new Date(setup.clock.now()).toISOString(), status, message ?? null, engine.totals);
    const stillWaiting = store.waitingInBatches().filter((call) => setup.models.includes(call.model)).length;
    const exports = await exportIfChanged(storeDir, study.study.name, store, prepared.currentKeys);
    crashPoint("after-export");
    if (engine.fatalError !== undefined) throw engine.fatalError;
    return {
      kind: "run",
      study: study.study.name,
      studyFile: study.file,
      storeDir,
      runId: run.runId,
      status,
      message,
      models: setup.models,
      cells: plan.cells,
      done: plan.done,
      pending: plan.pending,
      totals: engine.totals,
      limitUsd: run.limitUsd,
      interrupted: store.interrupted,
      exports,
      elapsedMs: setup.clock.now() - started,
      mode: setup.mode,
      batch: batchStats,
      waitingInBatches: stillWaiting,
      endpoints: Object.fromEntries([...routers].filter(([, r]) => r instanceof Fleet).map(([model, r]) => [model, (r as Fleet).endpoints])),
      distributions: setup.mode === "logprobs" ? store.distributionSummary(run.runId) : undefined,
      // With nothing to ask, the answers read for planning are likely still the store's: the report reuses them if so.
      prompts: { models: promptModels, currentKeys: prepared.currentKeys, ...(plan.pending === 0 ? { stored: { ...cells, version: answersAtStart } } : {}) },
    };
  } finally {
    store.close();
  }
}

/** What `generate` settles before anything else: the options checked, with their defaults. */
interface Setup {
  env: NodeJS.ProcessEnv;
  deps: GenerateDeps;
  clock: Clock;
  log: (line: string) => void;
  mode: PromptMode;
  batch: boolean;
  models: string[];
  concurrency: number;
}

function checkOptions(study: StudyLike, options: GenerateOptions): Setup {
  const batch = options.batch === true;
  const concurrency = options.concurrency ?? study.study.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a whole number of at least 1, got ${concurrency}`);
  if (options.maxCostUsd !== undefined && !(options.maxCostUsd >= 0)) {
    throw new UsageError(`--max-cost must be a number of dollars, at least 0, got ${options.maxCostUsd}`);
  }
  if (options.wait === false && !batch) throw new UsageError("--no-wait only applies to --batch runs");
  if (options.pollIntervalMs !== undefined && !(options.pollIntervalMs > 0)) {
    throw new UsageError(`--poll-interval must be a positive number of seconds, got ${options.pollIntervalMs / 1000}`);
  }
  return {
    env: options.env ?? process.env,
    deps: { ...DEFAULT_DEPS, ...options.deps },
    clock: options.clock ?? systemClock,
    log: options.log ?? (() => undefined),
    mode: checkMode(study),
    batch,
    models: selectModels(study, options.model),
    concurrency,
  };
}

/** Notes on the models and the mode: a --model the study does not list, how the mode asks this survey. */
function noteModels(study: StudyLike, setup: Setup): void {
  for (const model of setup.models.filter((m) => !study.study.models.includes(m))) {
    setup.log(`note: --model ${model} is not among the study's models (${study.study.models.join(", ")}); generating for it anyway`);
  }
  noteModeChoices(study, setup.mode, setup.log);
  if (setup.batch && setup.mode === "questionnaire") {
    setup.log(
      `note: --batch with questionnaire elicitation: each question of a conversation waits for the batch holding the one before it, ` +
        `so a run takes ${study.survey.items.length} batch rounds or more (each up to 24 hours)`,
    );
  }
}

function noteInterrupted(interrupted: InterruptedWork, log: (line: string) => void): void {
  if (interrupted.runs.length === 0) return;
  const { runs, calls, reservedUsd } = interrupted;
  const which = `run ${runs.map((id) => `#${id}`).join(", ")} stopped without finishing`;
  log(
    calls === 0
      ? `note: ${which}; no request was in flight; resuming`
      : `note: ${which}; ${calls} request(s) were in flight and may have been billed ` + `(at most ${formatUsd(reservedUsd)}); they are asked again`,
  );
}

/** The run as recorded in the store, with the cap it works under. */
interface StartedRun {
  runId: number;
  limitUsd: number;
  budget: Budget;
}

function startRun(study: StudyLike, store: Store, setup: Setup, options: GenerateOptions, plan: Plan, started: number): StartedRun {
  // --max-cost overrides the study's budget.max_cost_usd; either caps this run.
  const studyBudget = study.study.budget.max_cost_usd;
  const limitUsd = options.maxCostUsd ?? studyBudget ?? Infinity;
  const runId = store.startRun({
    startedAt: new Date(started).toISOString(),
    pid: process.pid,
    argv: (options.argv ?? []).map((arg) => redactSecrets(arg, setup.env)),
    models: setup.models,
    options: {
      concurrency: setup.concurrency,
      max_cost_usd: options.maxCostUsd ?? null,
      study_budget_usd: studyBudget ?? null,
      limit_usd: Number.isFinite(limitUsd) ? limitUsd : null,
      rate_limits: study.study.rate_limits,
      elicitation: setup.mode,
      generations: study.study.generations,
      max_attempts: study.study.max_attempts,
      ...(setup.batch ? { batch: true, wait: options.wait !== false } : {}),
    },
    plannedCells: plan.pending,
  });
  crashPoint("run-started");
  return { runId, limitUsd, budget: new Budget(limitUsd) };
}

/** What a run works with, once its store is open and the run recorded. */
interface RunContext {
  study: StudyLike;
  store: Store;
  setup: Setup;
  options: GenerateOptions;
  run: StartedRun;
  routers: Map<string, Router>;
  prices: Map<string, ResolvedPrice>;
}

/** The dead-server breaker over every endpoint of every model (a fleet's each, else the one). */
function watchEndpoints(routers: Map<string, Router>, clock: Clock): EndpointHealth {
  const health = new EndpointHealth(clock);
  for (const [model, router] of routers) health.watch(model, router instanceof Fleet ? router.providers : [router.provider]);
  return health;
}

/** Runs the engine over the plan (through the batcher in a batch run) until done or stopped. */
async function runEngine(context: RunContext, plan: Plan): Promise<{ engine: Engine; batchStats: BatchStats | undefined }> {
  const { study, store, setup, options, run, routers, prices } = context;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const random = options.random ?? Math.random;
  const waiting = waitingCalls(store, setup);
  let stopWith: ((error: unknown) => void) | undefined;
  const batcher = setup.batch
    ? makeBatcher(context, waiting, { retry, random, onFatal: (error) => stopWith?.(error) })
    : undefined;
  const progress = options.progress ?? silentProgress;
  const engine = new Engine({
    study,
    store,
    runId: run.runId,
    routers,
    prices,
    concurrency: new AdaptiveConcurrency(setup.concurrency),
    budget: run.budget,
    mode: setup.mode,
    retry,
    clock: setup.clock,
    random,
    env: setup.env,
    waiting,
    ...(batcher === undefined ? {} : { batcher }),
    ...(options.batchJobs === undefined ? {} : { batchJobs: options.batchJobs }),
    ...(options.stopSignal === undefined ? {} : { stopSignal: options.stopSignal }),
    ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }),
    onProgress: (totals) => progress.update(totals),
    health: watchEndpoints(routers, setup.clock),
  });
  stopWith = (error) => engine.fail(error);
  progress.start(plan.pending);
  try {
    await engine.run(plan.jobs);
    await batcher?.finish().catch((error: unknown) => engine.fail(error));
  } finally {
    progress.stop();
  }
  if (batcher !== undefined) engine.totals.costUsd += batcher.stats.orphanCostUsd;
  return { engine, batchStats: batcher?.stats };
}

/** Requests earlier runs left waiting in vendor batches, by request key: never sent again. */
function waitingCalls(store: Store, setup: Setup): Map<string, WaitingCall> {
  const waiting = new Map<string, WaitingCall>();
  for (const call of store.waitingInBatches()) if (setup.models.includes(call.model)) waiting.set(call.requestKey, { callId: call.id, try: call.try });
  if (waiting.size > 0 && !setup.batch) {
    setup.log(`note: ${waiting.size} request(s) are waiting in vendor batches submitted earlier; they are not sent again: run with --batch to collect them`);
  }
  return waiting;
}

function makeBatcher(
  context: RunContext,
  waiting: Map<string, WaitingCall>,
  more: { retry: RetryPolicy; random: () => number; onFatal: (error: unknown) => void },
): Batcher {
  const { study, store, setup, options, run, routers, prices } = context;
  // A batch run collects what earlier runs left waiting in batches: each one's worst case
  // is held on this run's budget before anything is sent, and replaced by its actual cost
  // when its result is stored, so collected and new requests together stay within the cap.
  const held = new Map<number, Reservation>();
  for (const call of store.waitingInBatches()) {
    if (!setup.models.includes(call.model)) continue;
    const reservation = run.budget.hold(call.reservedUsd);
    held.set(call.id, reservation);
    const entry = waiting.get(call.requestKey);
    if (entry !== undefined && entry.callId === call.id) entry.reservation = reservation;
  }
  const batcher = new Batcher({
    store,
    runId: run.runId,
    study: study.study.name,
    models: new Map(
      setup.models.map((model): [string, BatchModel] => {
        const router = routers.get(model)!;
        return [model, { vendor: router.provider.vendor, transport: batchTransportOf(router)!, price: prices.get(model)! }];
      }),
    ),
    clock: setup.clock,
    retry: more.retry,
    random: more.random,
    env: setup.env,
    wait: options.wait !== false,
    pollMs: options.pollIntervalMs ?? DEFAULT_POLL_MS,
    ...(options.stopSignal === undefined ? {} : { stopSignal: options.stopSignal }),
    log: setup.log,
    onFatal: more.onFatal,
    budget: run.budget,
    held,
  });
  const open = batcher.openFromEarlierRuns;
  if (open.length > 0) {
    setup.log(`batch: ${open.length} batch${open.length === 1 ? "" : "es"} from earlier runs still open (${open.map((b) => `#${b.id}`).join(", ")}); collecting their results`);
  }
  return batcher;
}

function checkMode(study: StudyLike): PromptMode {
  const mode = study.study.elicitation;
  if (!(PROMPT_MODES as readonly string[]).includes(mode)) {
    throw new InputError(locateField(study, ["elicitation"]), `unknown elicitation "${mode}": expected one of ${PROMPT_MODES.join(", ")}`);
  }
  return mode as PromptMode;
}

/** Notes on how a mode asks this survey: which items a token cannot answer, and why k is 1 for the others. */
function noteModeChoices(study: StudyLike, mode: PromptMode, log: (line: string) => void): void {
  if (mode !== "logprobs") return;
  const asStructured = study.survey.items.filter((item) => itemModeOf("logprobs", item) !== "logprobs").map((item) => item.id);
  if (asStructured.length > 0) {
    log(
      `note: logprobs elicitation: ${asStructured.join(", ")} cannot be answered with one token (a scale, or more than ten options); ` +
        `asked as structured instead, ${study.study.generations} generation(s) each`,
    );
  }
  if (study.study.generations > 1 && asStructured.length < study.survey.items.length) {
    log(
      `note: logprobs elicitation: one call gives a respondent's exact answer distribution, so choice items are asked once, not ${study.study.generations} times (generations)`,
    );
  }
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

