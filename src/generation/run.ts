/**
 * `generate(study, options)`: the library entry point behind `silicon
 * generate`. It checks everything that can be checked before a call is made
 * (models, keys, prices, templates) and only then creates the store; it runs
 * the engine, records the run, and exports the responses.
 */
import { join } from "node:path";
import type { Endpoint, Price } from "../config/schema.ts";
import { renderQuestion } from "../personas/render.ts";
import { VENDOR_ENV, type RemoteVendor } from "../providers/endpoints.ts";
import { createProvider } from "../providers/index.ts";
import { costUsd, priceFor, type ResolvedPrice } from "../providers/prices.ts";
import { InputError, SiliconError, UsageError, type InputLocation } from "../errors.ts";
import type { Provider } from "../providers/types.ts";
import type { StoredCellState } from "../store/answers.ts";
import { exportResponses, type ExportResult } from "../store/export.ts";
import type { InterruptedWork } from "../store/runs.ts";
import { openStoreReadOnly, Store } from "../store/store.ts";
import { describeHolder } from "../store/lock.ts";
import { crashPoint } from "../util/crash-points.ts";
import { redactSecrets } from "../util/secrets.ts";
import { Batcher, DEFAULT_POLL_MS, type BatchModel, type BatchStats } from "./batch.ts";
import { EndpointHealth } from "./breaker.ts";
import { AdaptiveConcurrency } from "./concurrency.ts";
import { Budget, type Reservation, estimateInputTokens, TYPICAL_ANSWER_TOKENS, worstCaseCost, worstCaseInputTokens } from "./cost.ts";
import { Engine, type EngineTotals, type WaitingCall } from "./engine.ts";
import { DEFAULT_BREAKER, Fleet, type BreakerOptions, type EndpointState } from "./fleet.ts";
import { requestKey } from "./keys.ts";
import { planJobs, preparePrompts, type Job, type Plan, type PreparedPrompts, type PromptUnit } from "./plan.ts";
import { silentProgress, formatUsd, type ProgressReporter } from "./progress.ts";
import { itemModeOf, PROMPT_MODES, type PromptMode } from "./prompt.ts";
import { RateLimiter, type RateLimits } from "./rate-limit.ts";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.ts";
import { SingleRouter, type Router } from "./router.ts";
import { locateField, systemClock, type Clock, type RenderQuestion, type StudyLike } from "./types.ts";

export interface ProviderFactoryOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Where the model id is written in the study; located errors name it. */
  location?: InputLocation;
  /** An endpoint's base URL (a fleet's), overriding the environment's. */
  baseURL?: string;
}

/** The pieces from other stages the engine uses; injectable for tests and embedding. */
export interface GenerateDeps {
  createProvider(id: string, options: ProviderFactoryOptions): Provider;
  priceFor(
    id: string,
    overrides: Record<string, Price>,
    options: { env?: NodeJS.ProcessEnv; location?: InputLocation; baseURL?: string },
  ): ResolvedPrice;
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
}

export type GenerationSummary = DryRunSummary | RunSummary;

export async function generate(study: StudyLike, options: GenerateOptions): Promise<GenerationSummary> {
  const env = options.env ?? process.env;
  const deps: GenerateDeps = { ...DEFAULT_DEPS, ...options.deps };
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => undefined);
  const mode = checkMode(study);
  const batch = options.batch === true;
  const models = selectModels(study, options.model);
  const concurrency = options.concurrency ?? study.study.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a whole number of at least 1, got ${concurrency}`);
  if (options.maxCostUsd !== undefined && !(options.maxCostUsd >= 0)) {
    throw new UsageError(`--max-cost must be a number of dollars, at least 0, got ${options.maxCostUsd}`);
  }
  if (options.wait === false && !batch) throw new UsageError("--no-wait only applies to --batch runs");
  if (options.pollIntervalMs !== undefined && !(options.pollIntervalMs > 0)) {
    throw new UsageError(`--poll-interval must be a positive number of seconds, got ${options.pollIntervalMs / 1000}`);
  }

  const endpoints = checkEndpoints(study, models, log);
  const routers = new Map<string, Router>();
  const prices = new Map<string, ResolvedPrice>();
  for (const model of models) {
    const index = study.study.models.indexOf(model);
    // A model the study does not list came from --model: errors name the flag, not the file.
    const location: InputLocation = index >= 0 ? locateField(study, ["models", index]) : { file: "--model" };
    const fleet = endpoints.get(model);
    const members = (fleet ?? [undefined]).map((endpoint, e) => {
      const where = endpoint === undefined ? location : locateField(study, ["endpoints", model, e]);
      const memberEnv = endpoint === undefined ? env : endpointEnv(env, model, endpoint);
      const baseURL = endpoint?.base_url;
      const provider = atLocation(where, () =>
        deps.createProvider(model, { ...providerOptions(memberEnv, options.timeoutMs), location: where, ...(baseURL !== undefined ? { baseURL } : {}) }),
      );
      const price = atLocation(where, () => deps.priceFor(model, study.study.prices, { env: memberEnv, location: where, ...(baseURL !== undefined ? { baseURL } : {}) }));
      return { endpoint, provider, price, where };
    });
    const price = members[0]!.price;
    if (members.some((m) => !samePrice(m.price, price))) {
      throw new InputError(
        locateField(study, ["endpoints", model]),
        `the endpoints of ${model} are priced differently (a self-hosted server and the vendor's API?); give the model one price under prices:`,
      );
    }
    const router: Router =
      fleet === undefined
        ? new SingleRouter(members[0]!.provider, new RateLimiter(members[0]!.provider.vendor === "simulated" ? {} : studyLimits(study), clock))
        : new Fleet(
            members.map((m, e) => ({ name: endpointName(m.endpoint!, e), provider: m.provider, limits: endpointLimits(study, m.endpoint!) })),
            clock,
            { ...DEFAULT_BREAKER, ...options.breaker },
          );
    checkCapabilities(study, mode, model, router.provider, batch && batchTransportOf(router) === undefined);
    routers.set(model, router);
    if (price.note !== undefined && price.source === "self-hosted") log(`note: ${price.note}`);
    prices.set(model, price);
    if (batch && fleet !== undefined && fleet.length > 1) log(`note: --batch sends every batch of ${model} to its first endpoint (${endpointName(fleet[0]!, 0)})`);
  }
  const unlisted = models.filter((model) => !study.study.models.includes(model));
  for (const model of unlisted) {
    log(`note: --model ${model} is not among the study's models (${study.study.models.join(", ")}); generating for it anyway`);
  }
  noteModeChoices(study, mode, log);
  if (batch && mode === "questionnaire") {
    log(
      `note: --batch with questionnaire elicitation: each question of a conversation waits for the batch holding the one before it, ` +
        `so a run takes ${study.survey.items.length} batch rounds or more (each up to 24 hours)`,
    );
  }
  const prepared = preparePrompts(study, mode, deps.renderQuestion, [...new Set([...study.study.models, ...models])]);
  const modelPlans = models.map((id) => ({ id, multipleChoices: routers.get(id)!.provider.capabilities.multipleChoices }));
  const storeDir = join(options.resultsDir ?? "results", study.study.name);

  if (options.dryRun === true) return dryRun(study, storeDir, prepared, modelPlans, prices, options.maxCostUsd, batch);

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
    const waiting = new Map<string, WaitingCall>();
    for (const call of store.waitingInBatches()) if (models.includes(call.model)) waiting.set(call.requestKey, { callId: call.id, try: call.try });
    if (waiting.size > 0 && !batch) {
      log(`note: ${waiting.size} request(s) are waiting in vendor batches submitted earlier; they are not sent again: run with --batch to collect them`);
    }
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
        ...(batch ? { batch: true, wait: options.wait !== false } : {}),
      },
      plannedCells: plan.pending,
    });
    crashPoint("run-started");
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    const random = options.random ?? Math.random;
    // A batch run collects what earlier runs left waiting in batches: each one's worst case
    // is held on this run's budget before anything is sent, and replaced by its actual cost
    // when its result is stored, so collected and new requests together stay within the cap.
    const held = new Map<number, Reservation>();
    if (batch) {
      for (const call of store.waitingInBatches()) {
        if (!models.includes(call.model)) continue;
        const reservation = budget.hold(call.reservedUsd);
        held.set(call.id, reservation);
        const entry = waiting.get(call.requestKey);
        if (entry !== undefined && entry.callId === call.id) entry.reservation = reservation;
      }
    }
    let stopWith: ((error: unknown) => void) | undefined;
    const batcher = batch
      ? new Batcher({
          store,
          runId,
          study: study.study.name,
          models: new Map(models.map((model): [string, BatchModel] => {
            const provider = routers.get(model)!.provider;
            return [model, { vendor: provider.vendor, transport: batchTransportOf(routers.get(model)!)!, price: prices.get(model)! }];
          })),
          clock,
          retry,
          random,
          env,
          wait: options.wait !== false,
          pollMs: options.pollIntervalMs ?? DEFAULT_POLL_MS,
          ...(options.stopSignal === undefined ? {} : { stopSignal: options.stopSignal }),
          log,
          onFatal: (error) => stopWith?.(error),
          budget,
          held,
        })
      : undefined;
    if (batcher !== undefined && batcher.openFromEarlierRuns.length > 0) {
      const open = batcher.openFromEarlierRuns;
      log(`batch: ${open.length} batch${open.length === 1 ? "" : "es"} from earlier runs still open (${open.map((b) => `#${b.id}`).join(", ")}); collecting their results`);
    }
    const progress = options.progress ?? silentProgress;
    const engine = new Engine({
      study,
      store,
      runId,
      routers,
      prices,
      concurrency: new AdaptiveConcurrency(concurrency),
      budget,
      mode,
      retry,
      clock,
      random,
      env,
      waiting,
      ...(batcher === undefined ? {} : { batcher }),
      ...(options.batchJobs === undefined ? {} : { batchJobs: options.batchJobs }),
      ...(options.stopSignal === undefined ? {} : { stopSignal: options.stopSignal }),
      ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }),
      onProgress: (totals) => progress.update(totals),
      health: watchEndpoints(routers, clock),
    });
    stopWith = (error) => engine.fail(error);
    progress.start(plan.pending);
    try {
      await engine.run(plan.jobs);
      try {
        await batcher?.finish();
      } catch (error) {
        engine.fail(error);
      }
    } finally {
      progress.stop();
    }
    if (batcher !== undefined) {
      engine.totals.costUsd += batcher.stats.orphanCostUsd;
    }
    crashPoint("before-finish");
    const status: RunStatus = engine.stopReason ?? "completed";
    const message = stopMessage(engine, limitUsd, options.maxCostUsd, env);
    store.finishRun(runId, new Date(clock.now()).toISOString(), status, message ?? null, engine.totals);
    const stillWaiting = store.waitingInBatches().filter((call) => models.includes(call.model)).length;
    const exports = await exportResponses(storeDir, study.study.name, store.allAnswers(), prepared.currentKeys);
    crashPoint("after-export");
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
      mode,
      batch: batcher?.stats,
      waitingInBatches: stillWaiting,
      endpoints: Object.fromEntries([...routers].filter(([, r]) => r instanceof Fleet).map(([model, r]) => [model, (r as Fleet).endpoints])),
      distributions: mode === "logprobs" ? store.distributionSummary(runId) : undefined,
    };
  } finally {
    store.close();
  }
}

/** The dead-server breaker over every endpoint of every model (a fleet's each, else the one). */
function watchEndpoints(routers: Map<string, Router>, clock: Clock): EndpointHealth {
  const health = new EndpointHealth(clock);
  for (const [model, router] of routers) health.watch(model, router instanceof Fleet ? router.providers : [router.provider]);
  return health;
}

function checkMode(study: StudyLike): PromptMode {
  const mode = study.study.elicitation;
  if (!(PROMPT_MODES as readonly string[]).includes(mode)) {
    throw new InputError(locateField(study, ["elicitation"]), `unknown elicitation "${mode}": expected one of ${PROMPT_MODES.join(", ")}`);
  }
  return mode as PromptMode;
}

/** What the mode and the models must agree on, checked before anything is sent or written. */
function checkCapabilities(study: StudyLike, mode: PromptMode, model: string, provider: Provider, noBatchApi: boolean): void {
  if (provider.capabilities.temperature === false && study.study.temperature !== 1) {
    throw new InputError(
      locateField(study, ["temperature"]),
      `${model} samples at temperature 1 only; set temperature: 1 in the study, or leave this model out (--model)`,
    );
  }
  const readsLogprobs = mode === "logprobs" && study.survey.items.some((item) => itemModeOf("logprobs", item) === "logprobs");
  if (readsLogprobs && !provider.capabilities.logprobs) {
    const why =
      provider.vendor === "anthropic"
        ? "the Messages API returns no log-probabilities"
        : "its server is configured without them (SILICON_OPENAI_LOGPROBS=false)";
    throw new InputError(
      locateField(study, ["elicitation"]),
      `logprobs elicitation reads the first token's log-probabilities, and ${model} has none (${why}); use structured, free_text or questionnaire, or leave this model out (--model)`,
    );
  }
  if (noBatchApi) {
    throw new UsageError(`--batch: ${model} has no batch API; run without --batch`);
  }
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

/** The study's `endpoints:` of the models this run uses, checked: none for simulated models. */
/**
 * The fleets of this run's models. Endpoints of a model neither the study
 * lists nor --model names are most likely a misspelt key: say so rather than
 * ignore them silently (they may serve a later `--model`, so no error).
 */
function checkEndpoints(study: StudyLike, models: string[], log: (line: string) => void): Map<string, Endpoint[]> {
  const out = new Map<string, Endpoint[]>();
  for (const [model, list] of Object.entries(study.study.endpoints ?? {})) {
    if (model.startsWith("simulated:")) {
      throw new InputError(locateField(study, ["endpoints", model]), `${model} runs offline: it has no endpoints`);
    }
    if (models.includes(model)) out.set(model, list);
    else if (!study.study.models.includes(model)) {
      log(`note: endpoints: ${model} is not among the study's models (${study.study.models.join(", ")}), so its endpoints are not used; pick it with --model, or check the spelling`);
    }
  }
  return out;
}

/** An endpoint's environment: its key variable stands in for the vendor's. */
function endpointEnv(env: NodeJS.ProcessEnv, model: string, endpoint: Endpoint): NodeJS.ProcessEnv {
  if (endpoint.api_key_env === undefined) return env;
  const vendor = model.slice(0, model.indexOf(":")) as RemoteVendor;
  return { ...env, [VENDOR_ENV[vendor].key]: env[endpoint.api_key_env] };
}

function endpointName(endpoint: Endpoint, index: number): string {
  const host = endpoint.base_url === undefined ? undefined : new URL(endpoint.base_url).host;
  const parts = [host, endpoint.api_key_env].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join(" ") : `endpoint ${index + 1}`;
}

function studyLimits(study: StudyLike): RateLimits {
  return { requestsPerMinute: study.study.rate_limits.requests_per_minute, tokensPerMinute: study.study.rate_limits.tokens_per_minute };
}

/** An endpoint's own limits; the study's rate_limits apply to each endpoint that sets none. */
function endpointLimits(study: StudyLike, endpoint: Endpoint): RateLimits {
  const limits = studyLimits(study);
  return {
    requestsPerMinute: endpoint.requests_per_minute ?? limits.requestsPerMinute,
    tokensPerMinute: endpoint.tokens_per_minute ?? limits.tokensPerMinute,
  };
}

function samePrice(a: ResolvedPrice, b: ResolvedPrice): boolean {
  return a.input === b.input && a.output === b.output && a.cached_input === b.cached_input && a.cache_write === b.cache_write && a.batch_factor === b.batch_factor;
}

/** The batch API of a model: its provider's, or for a fleet its first endpoint's. */
function batchTransportOf(router: Router): Provider["batch"] {
  if (router instanceof Fleet) return router.providers[0]?.batch;
  return router.provider.batch;
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
    for (const job of plan.jobs) {
      const estimate = estimates.get(job.model)!;
      const factor = batch ? estimate.price.batch_factor : 1;
      for (const ask of firstAsks(job)) {
        const { unit } = ask;
        if (ask.key !== undefined) {
          if (store?.findCompleted(ask.key) !== undefined) {
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
    const identity = { model: job.model, wave: job.wave.id, respondent: job.respondentId, item: job.item.id };
    return [{ unit: job, messages: [{ role: "user", content: job.user }], n: job.n, key: requestKey(identity, job.firstGeneration, job.n, job.prompt, [], job.parameters) }];
  }
  const asks: ReturnType<typeof firstAsks> = [];
  const messages: { role: "user" | "assistant"; content: string }[] = [];
  job.turns.forEach((unit, t) => {
    messages.push({ role: "user", content: unit.user });
    if (job.pending[t]) {
      const first = job.pending.indexOf(true) === t;
      const identity = { model: job.model, wave: unit.wave.id, respondent: unit.respondentId, item: unit.item.id };
      // Only the first turn asked has a key known in advance (what follows depends on its answer).
      const key = first && t === 0 ? requestKey(identity, job.generation, 1, unit.prompt, [], unit.parameters) : undefined;
      asks.push({ unit, messages: [...messages], n: 1, ...(key !== undefined ? { key } : {}) });
    }
    messages.push({ role: "assistant", content: TYPICAL_ANSWER });
  });
  return asks;
}
