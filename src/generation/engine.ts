/**
 * The engine: runs a plan's jobs against the providers, through the one
 * place that knows about concurrency, rate limits, retries, money and the
 * store. Every request is looked up in the store first (the cache); every
 * response is stored the moment it arrives, with the answers it decides, in
 * one transaction; a call is recorded as on the wire just before it is sent,
 * so a killed run leaves an exact account of what may have been billed.
 *
 * Requests go out one by one through each model's router (router.ts,
 * fleet.ts), or, in a batch run, through the batcher (batch.ts), which
 * gathers them into vendor batches at half price: the same jobs, re-asks,
 * retries and store writes either way.
 */
import { costUsd, type ResolvedPrice } from "../providers/prices.ts";
import {
  BadRequestError,
  BatchItemError,
  ConnectionError,
  MalformedResponseError,
  OverloadedError,
  ProviderError,
  RateLimitError,
  TimeoutError,
  UnreachableError,
} from "../errors.ts";
import type { ChatMessage, CompletionChoice, CompletionRequest, CompletionResult, Provider, TokenUsage } from "../providers/types.ts";
import type { AnswerRow } from "../store/answers.ts";
import type { CallFailure, CallStart, ParsedChoice } from "../store/calls.ts";
import type { RunTotals } from "../store/runs.ts";
import type { Store } from "../store/store.ts";
import { crashPoint } from "../util/crash-points.ts";
import { redactSecrets } from "../util/secrets.ts";
import type { EndpointHealth } from "./breaker.ts";
import type { AdaptiveConcurrency } from "./concurrency.ts";
import { Budget, type Reservation, estimateInputTokens, worstCaseCost, worstCaseInputTokens } from "./cost.ts";
import { requestKey, seedFor } from "./keys.ts";
import { parseAnswer, parseLogprobs, type ParseOutcome } from "./parse.ts";
import type { ConversationJob, ItemJob, Job, PromptUnit } from "./plan.ts";
import { reaskMessage, type PromptMode } from "./prompt.ts";
import type { Route, Router } from "./router.ts";
import { onFailure, type RetryPolicy } from "./retry.ts";
import type { Clock, StudyLike } from "./types.ts";

export type StopReason = "budget" | "stopped" | "failed";

export interface EngineTotals extends RunTotals {
  /** Sends that failed and were sent again. */
  retries: number;
  /** Cells written in this run. */
  done: number;
  /** Requests left waiting in vendor batches when the run ended (their cells are asked when collected). */
  deferred: number;
  /** Cells recorded as nonresponse because the vendor kept failing (a rerun asks them again). */
  vendorFailures: number;
  /** The latest failed call, in a few words (progress shows it). */
  lastFailure?: string;
  /**
   * Calls the vendor may have billed though no usable reply told what (a
   * timeout, a dropped connection, a garbled body without usage), and their
   * worst case: not in `costUsd`, which is what the replies said was billed.
   */
  unknownBillingCalls: number;
  unknownBillingUsd: number;
}

/** How a request sent in a batch came back. */
export type BatchOutcome =
  | { kind: "result"; callId: number; result: CompletionResult; latencyMs: number }
  | { kind: "error"; callId: number; error: unknown; latencyMs: number }
  /** Still waiting at the vendor when this run stopped waiting (--no-wait, Ctrl-C); callId -1: never submitted. */
  | { kind: "deferred"; callId: number };

/** What the engine needs from the batcher (batch.ts). */
export interface BatchSender {
  /** Queues a request for the next batch of its model and resolves when its result is in. */
  send(call: CallStart, request: CompletionRequest): Promise<BatchOutcome>;
  /** The result of a call an earlier run left waiting in a batch. */
  awaitWaiting(callId: number): Promise<BatchOutcome>;
  /** Stops waiting: every job waiting for a batch is let go (its request stays in the batch). */
  release(): void;
  /** Aborted once the batcher has let its jobs go (--no-wait after submitting, Ctrl-C, a fatal error). */
  readonly released: AbortSignal;
}

/** A call an earlier run left waiting in a vendor batch. */
export interface WaitingCall {
  callId: number;
  try: number;
  /** Its worst case, held on this run's budget before anything is sent; settled when its result is stored. */
  reservation?: Reservation;
}

export interface EngineOptions {
  study: StudyLike;
  store: Store;
  runId: number;
  routers: Map<string, Router>;
  prices: Map<string, ResolvedPrice>;
  concurrency: AdaptiveConcurrency;
  budget: Budget;
  mode: PromptMode;
  retry: RetryPolicy;
  clock: Clock;
  random: () => number;
  env: NodeJS.ProcessEnv;
  /** Send through vendor batches instead of one call at a time. */
  batcher?: BatchSender;
  /** Requests already waiting in vendor batches, by request key: never sent again. */
  waiting?: Map<string, WaitingCall>;
  /** Jobs in progress at once in a batch run (each waits for its batch). */
  batchJobs?: number;
  /** Aborting stops new sends; requests in flight finish and are stored. */
  stopSignal?: AbortSignal;
  /** Aborting also cancels requests in flight (their responses are lost). */
  abortSignal?: AbortSignal;
  onProgress?: (totals: EngineTotals) => void;
  /** Stops the run when every endpoint of a model is unreachable (breaker.ts). */
  health?: EndpointHealth;
}

type AskResult = { kind: "response" } | { kind: "failed" } | { kind: "stopped" } | { kind: "deferred" };

/** Decides the answers a response settles, and how each choice was read. */
type Finalize = (choices: CompletionChoice[], callId: number) => { answers: AnswerRow[]; parsed: ParsedChoice[] };

/** One request of a job: the unit (item) it asks, for which generations, with which conversation. */
interface Ask {
  model: string;
  unit: PromptUnit;
  /** Cell keys by generation, for the answer rows. */
  cellKey: (generation: number) => string;
  generation: number;
  n: number;
  attempt: number;
  /** Every message sent, from the first question on. */
  messages: ChatMessage[];
  /** Cells recorded as nonresponse if the vendor keeps failing. */
  generations: number[];
  /** Conversations mark their last message as a cache breakpoint too. */
  conversation: boolean;
}

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
    cacheSavingsUsd: 0,
    batchCalls: 0,
    retries: 0,
    done: 0,
    deferred: 0,
    vendorFailures: 0,
    unknownBillingCalls: 0,
    unknownBillingUsd: 0,
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

  /** Runs the jobs, at most `concurrency.max` at once (`batchJobs` in a batch run), until done or stopped. */
  async run(jobs: Job[]): Promise<void> {
    const active = new Set<Promise<void>>();
    const cap = this.options.batcher !== undefined ? (this.options.batchJobs ?? 200_000) : this.options.concurrency.max;
    for (const job of jobs) {
      if (this.stopReason !== undefined) break;
      while (active.size >= cap) await Promise.race(active);
      if (this.stopReason !== undefined) break;
      const task: Promise<void> = (job.kind === "conversation" ? this.processConversation(job) : this.processJob(job))
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

  /** Stops the run with an error no retry can fix (a rejected key, a batch API that refuses, the store). */
  fail(error: unknown): void {
    if (this.fatalError === undefined) this.fatalError = error;
    this.stop("failed");
    this.options.batcher?.release();
  }

  private async processJob(job: ItemJob): Promise<void> {
    const pending = new Set(job.pending);
    const reasks: Reask[] = [];
    const maxAttempts = this.options.study.study.max_attempts;
    const cellKey = (g: number) => job.cellKeys[g - job.firstGeneration]!;
    const first: Ask = {
      model: job.model,
      unit: job,
      cellKey,
      generation: job.firstGeneration,
      n: job.n,
      attempt: 1,
      messages: [{ role: "user", content: job.user }],
      generations: job.pending,
      conversation: false,
    };
    const result = await this.ask(first, (choices, callId) => {
      const answers: AnswerRow[] = [];
      const parsed: ParsedChoice[] = [];
      for (let i = 0; i < job.n; i++) {
        const generation = job.firstGeneration + i;
        const choice = choices[i];
        const outcome: ParseOutcome = choice === undefined ? { status: "invalid", reason: "no answer returned" } : this.read(job, choice);
        if (choice !== undefined) parsed.push(toParsed(outcome));
        if (!pending.has(generation)) continue;
        if (outcome.status !== "invalid") answers.push(this.row(first, generation, outcome, 1, callId));
        // Fewer choices than n: ask that generation on its own (a different request).
        else if (choice === undefined && job.n > 1) reasks.push({ generation, attempt: 1, followUp: [] });
        else if (choice === undefined) answers.push(this.row(first, generation, invalidAfter(1, outcome.reason), 1, callId));
        else if (maxAttempts > 1) reasks.push({ generation, attempt: 2, followUp: followUp(job, choice, outcome.reason) });
        else answers.push(this.row(first, generation, invalidAfter(1, outcome.reason), 1, callId));
      }
      return { answers, parsed };
    });
    if (result.kind !== "response") return;
    await Promise.all(reasks.map((reask) => this.reaskChain(first, reask)));
  }

  /** Re-asks one generation after an invalid answer, up to the study's max_attempts in all. */
  private async reaskChain(first: Ask, start: Reask): Promise<void> {
    const maxAttempts = this.options.study.study.max_attempts;
    const unit = first.unit;
    let current: Reask | undefined = start;
    while (current !== undefined) {
      // An invalid answer is stored (with its call); the re-ask is not sent yet.
      crashPoint("between-reasks");
      const { generation, attempt, followUp: messages } = current;
      let next: Reask | undefined;
      const ask: Ask = { ...first, generation, n: 1, attempt, messages: [first.messages[0]!, ...messages], generations: [generation] };
      const result = await this.ask(ask, (choices, callId) => {
        const choice = choices[0];
        const outcome: ParseOutcome = choice === undefined ? { status: "invalid", reason: "no answer returned" } : this.read(unit, choice);
        const parsed = choice === undefined ? [] : [toParsed(outcome)];
        if (outcome.status !== "invalid") return { answers: [this.row(ask, generation, outcome, attempt, callId)], parsed };
        if (attempt >= maxAttempts || choice === undefined) {
          return { answers: [this.row(ask, generation, invalidAfter(attempt, outcome.reason), attempt, callId)], parsed };
        }
        next = { generation, attempt: attempt + 1, followUp: [...messages, ...followUp(unit, choice, outcome.reason)] };
        return { answers: [], parsed };
      });
      current = result.kind === "response" ? next : undefined;
    }
  }

  /**
   * A questionnaire: the respondent's items in turn, in one conversation, each
   * question after the model's earlier answers (re-asks included). Turns
   * already answered are replayed from the store, so a resumed conversation
   * continues exactly where it stopped.
   */
  private async processConversation(job: ConversationJob): Promise<void> {
    const maxAttempts = this.options.study.study.max_attempts;
    const messages: ChatMessage[] = [];
    const g = job.generation;
    for (let t = 0; t < job.turns.length; t++) {
      const unit = job.turns[t]!;
      const pending = job.pending[t]!;
      messages.push({ role: "user", content: unit.user });
      for (let attempt = 1; ; attempt++) {
        let reply: CompletionChoice | undefined;
        let again: string | undefined;
        const ask: Ask = {
          model: job.model,
          unit,
          cellKey: () => job.cellKeys[t]!,
          generation: g,
          n: 1,
          attempt,
          messages: [...messages],
          generations: pending ? [g] : [],
          conversation: true,
        };
        const result = await this.ask(ask, (choices, callId) => {
          reply = choices[0];
          const outcome: ParseOutcome = reply === undefined ? { status: "invalid", reason: "no answer returned" } : this.read(unit, reply);
          const parsed = reply === undefined ? [] : [toParsed(outcome)];
          if (outcome.status === "invalid" && attempt < maxAttempts && reply !== undefined) {
            again = outcome.reason;
            return { answers: [], parsed };
          }
          const final = outcome.status === "invalid" ? invalidAfter(attempt, outcome.reason) : outcome;
          return { answers: pending ? [this.row(ask, g, final, attempt, callId)] : [], parsed };
        });
        if (result.kind === "failed") {
          // Later questions follow answers the vendor never gave: a later run asks them again.
          const rows = job.turns
            .map((later, i) => ({ later, i }))
            .filter(({ i }) => i > t && job.pending[i]!)
            .map(({ later, i }) =>
              this.row({ ...ask, unit: later, cellKey: () => job.cellKeys[i]! }, g, { status: "nonresponse", reason: "vendor failure on an earlier question of the questionnaire", transient: true }, 0, null),
            );
          this.options.store.writeAnswers(rows);
          this.totals.vendorFailures += rows.length;
          this.tally(rows);
          return;
        }
        if (result.kind !== "response") return;
        messages.push({ role: "assistant", content: reply?.text ?? "" });
        if (again === undefined) break;
        messages.push({ role: "user", content: reaskMessage(unit.item, again, unit.itemMode) });
      }
    }
  }

  /** How a choice is read: log-probabilities under logprobs elicitation, else the text. */
  private read(unit: PromptUnit, choice: CompletionChoice): ParseOutcome {
    return unit.itemMode === "logprobs"
      ? parseLogprobs(unit.item, choice, unit.answerKeys!, this.options.study.study.temperature)
      : parseAnswer(unit.item, choice);
  }

  /**
   * One request: from the cache if its response is stored, else sent (with
   * retries) and stored with the answers `finalize` decides. `ask.generations`
   * are the cells recorded as nonresponse if the vendor keeps failing.
   */
  private async ask(ask: Ask, finalize: Finalize): Promise<AskResult> {
    const { store, study, clock } = this.options;
    const unit = ask.unit;
    const identity = { model: ask.model, wave: unit.wave.id, respondent: unit.respondentId, item: unit.item.id };
    const key = requestKey(identity, ask.generation, ask.n, unit.prompt, ask.messages.slice(1), unit.parameters);
    const cached = store.findCompleted(key);
    if (cached !== undefined) {
      this.totals.cacheHits += 1;
      const { answers } = finalize(cached.choices, cached.id);
      crashPoint("cache-hit");
      store.writeAnswers(answers);
      this.tally(answers);
      return { kind: "response" };
    }

    const router = this.options.routers.get(ask.model)!;
    const price = this.options.prices.get(ask.model)!;
    const batcher = this.options.batcher;
    const request = this.request(ask);
    const rateTokens = estimateInputTokens(unit.system, ask.messages, unit.schema) + ask.n * request.maxTokens;
    const worstCost = worstCaseCost(worstCaseInputTokens(unit.system, ask.messages, request.answerSchema), ask.n * request.maxTokens, price);
    const parameters = {
      temperature: request.temperature,
      max_tokens: request.maxTokens,
      seed: request.seed,
      n: ask.n,
      elicitation: unit.parameters.elicitation,
      answer_schema: request.answerSchema ?? null,
      ...(request.topLogprobs !== undefined ? { top_logprobs: request.topLogprobs } : {}),
    };
    const stopSignal = this.stopper.signal;
    let waiting = this.options.waiting?.get(key);
    if (waiting !== undefined && batcher === undefined) {
      // Sent in a batch by an earlier run: only a batch run collects it; never pay twice.
      this.totals.deferred += 1;
      return { kind: "deferred" };
    }

    for (let tryNumber = waiting?.try ?? 1; ; tryNumber++) {
      if (this.stopReason !== undefined) return { kind: "stopped" };
      let ticket: number | undefined;
      let route: Route | undefined;
      let reservation: Reservation;
      let callId: number;
      let outcome: { result: CompletionResult } | { error: unknown };
      let latencyMs: number;
      let finishedAt: number;

      if (batcher !== undefined) {
        let sent: BatchOutcome;
        if (waiting !== undefined) {
          // Its worst case is held on this run's budget since the run began (see generate());
          // it is replaced by what it costs when it arrives.
          reservation = waiting.reservation ?? this.options.budget.hold(0);
          sent = await batcher.awaitWaiting(waiting.callId);
          waiting = undefined;
        } else {
          const held = await this.reserveInBatch(worstCost * price.batch_factor, batcher);
          if (held === undefined) {
            this.stop("budget");
            return { kind: "stopped" };
          }
          reservation = held;
          sent = await batcher.send(this.callStart(ask, key, tryNumber, request, parameters, reservation.amountUsd), request);
          if (sent.callId >= 0) {
            this.totals.callsSent += 1;
            this.totals.batchCalls += 1;
          }
        }
        callId = sent.callId;
        finishedAt = clock.now();
        if (sent.kind === "deferred") {
          if (sent.callId >= 0) this.totals.deferred += 1;
          return { kind: "deferred" };
        }
        latencyMs = sent.latencyMs;
        outcome = sent.kind === "result" ? { result: sent.result } : { error: sent.error };
      } else {
        try {
          ticket = await this.options.concurrency.acquire(stopSignal);
        } catch {
          return { kind: "stopped" };
        }
        try {
          route = await router.acquire(rateTokens, stopSignal);
        } catch {
          this.options.concurrency.release();
          return { kind: "stopped" };
        }
        let held: Reservation | undefined;
        try {
          held = this.stopReason === undefined ? await this.options.budget.reserve(worstCost, stopSignal) : undefined;
        } catch {
          held = undefined;
        }
        if (held === undefined) {
          route.unused();
          this.options.concurrency.release();
          if (this.stopReason === undefined) this.stop("budget");
          return { kind: "stopped" };
        }
        reservation = held;
        try {
          for (let wait = route.ready(stopSignal); wait !== undefined; wait = route.ready(stopSignal)) await wait;
        } catch {
          route.unused();
          this.options.budget.settle(reservation, 0);
          this.options.concurrency.release();
          return { kind: "stopped" };
        }
        const startedAt = clock.now();
        callId = store.recordSent(this.callStart(ask, key, tryNumber, request, parameters, reservation.amountUsd));
        this.totals.callsSent += 1;
        crashPoint("before-send");
        try {
          // The route hears of a failure as the first reaction to it: a 429's pause is
          // in place before anything else that was waiting gets to run.
          const failedRoute = route;
          outcome = {
            result: await route.provider.complete(request, { signal: this.options.abortSignal ?? neverAborted }).catch((error: unknown) => {
              failedRoute.failed(error);
              throw error;
            }),
          };
        } catch (error) {
          outcome = { error };
        }
        this.options.concurrency.release();
        finishedAt = clock.now();
        latencyMs = finishedAt - startedAt;
        const down = this.options.health?.observe(ask.model, route.provider, "error" in outcome ? outcome.error : undefined);
        if (down !== undefined) this.fail(down);
      }

      // A response that is billed but cannot be used (no log-probabilities): what it cost.
      let billedUsd = 0;
      if ("result" in outcome) {
        const missing = missingLogprobs(request, outcome.result, router.provider);
        if (missing !== undefined) {
          route?.failed(missing);
          billedUsd = costUsd(outcome.result.usage, price, { batch: batcher !== undefined });
          this.count(outcome.result.usage, billedUsd, price, batcher !== undefined);
          outcome = { error: missing };
        }
      }

      if ("error" in outcome) {
        const error = outcome.error;
        // A reply that cannot be used but says what it billed (`choices: []` with usage) is counted like any response.
        const billed = error instanceof ProviderError ? error.billedUsage : undefined;
        if (billed !== undefined) {
          billedUsd = costUsd(billed, price, { batch: batcher !== undefined });
          this.count(billed, billedUsd, price, batcher !== undefined);
        }
        const billingUnknown = billed === undefined && (!(error instanceof ProviderError) || isBillingUnknown(error));
        if (billingUnknown) {
          this.totals.unknownBillingCalls += 1;
          this.totals.unknownBillingUsd += reservation.amountUsd;
        }
        this.options.budget.settle(reservation, billingUnknown ? reservation.amountUsd : billedUsd);
        this.totals.callsFailed += 1;
        this.totals.lastFailure = redactSecrets(describeFailure(error), this.options.env);
        if ((error instanceof RateLimitError || error instanceof OverloadedError) && ticket !== undefined) {
          this.options.concurrency.onOverload(ticket);
        }
        const failure: CallFailure = {
          errorClass: error instanceof Error ? error.name : "Error",
          errorMessage: redactSecrets(error instanceof Error ? error.message : String(error), this.options.env),
          httpStatus: error instanceof ProviderError ? error.status : undefined,
          latencyMs,
          finishedAt: iso(finishedAt),
          costUsd: billingUnknown ? null : billedUsd,
          ...(billed !== undefined ? { usage: billed } : {}),
        };
        if (this.options.abortSignal?.aborted) {
          store.recordFailed(callId, { ...failure, errorClass: "Aborted", errorMessage: "cancelled by the user" });
          this.stop("stopped");
          return { kind: "stopped" };
        }
        const action = onFailure(error, tryNumber, this.options.random, this.options.retry);
        if (action.kind === "retry") {
          store.recordFailed(callId, failure);
          crashPoint("after-failure");
          this.totals.retries += 1;
          this.progress();
          // A batch's retry goes into the next batch: the batch is the wait.
          const delay = batcher !== undefined ? 0 : router.retryDelay(error, action.delayMs);
          try {
            if (delay > 0) await clock.sleep(delay, stopSignal);
          } catch {
            return { kind: "stopped" };
          }
          continue;
        }
        if (action.kind === "give-up") {
          const answers = ask.generations.map((g) =>
            this.row(ask, g, { status: "nonresponse", reason: `vendor failure: ${redactSecrets(action.reason, this.options.env)}`, transient: true }, ask.attempt, callId),
          );
          store.recordFailed(callId, failure, answers);
          this.totals.vendorFailures += answers.length;
          this.tally(answers);
          return { kind: "failed" };
        }
        store.recordFailed(callId, failure);
        this.fail(error);
        return { kind: "stopped" };
      }

      // The response arrived (from the vendor, or from a collected batch); it is not stored yet.
      crashPoint("after-response");
      const result = outcome.result;
      if (ticket !== undefined) this.options.concurrency.onSuccess();
      route?.succeeded(result.rateLimit, rateTokens);
      const batch = batcher !== undefined;
      const cost = costUsd(result.usage, price, { batch });
      this.options.budget.settle(reservation, cost);
      this.count(result.usage, cost, price, batch);
      const { answers, parsed } = finalize(result.choices, callId);
      store.recordCompleted(
        callId,
        {
          choices: result.choices,
          parsed,
          usage: result.usage,
          costUsd: cost,
          latencyMs,
          finishedAt: iso(finishedAt),
          requestId: result.requestId,
          vendorModel: result.model,
        },
        answers,
      );
      crashPoint("after-commit");
      this.tally(answers);
      return { kind: "response" };
    }
  }

  /**
   * A batch request's worst case, held until its batch is collected. One that
   * does not fit waits for the batches in flight to settle (their requests
   * usually cost a fraction of their worst case) and goes into the next
   * batch, so one run spends up to its cap rather than stopping after the
   * first batch; undefined once nothing is in flight and it still does not
   * fit, or the batcher has let go (--no-wait: the next run goes on).
   */
  private async reserveInBatch(amountUsd: number, batcher: BatchSender): Promise<Reservation | undefined> {
    const now = this.options.budget.tryReserve(amountUsd);
    if (now !== undefined || batcher.released.aborted) return now;
    try {
      return await this.options.budget.reserve(amountUsd, AbortSignal.any([this.stopper.signal, batcher.released]));
    } catch {
      return undefined;
    }
  }

  private callStart(
    ask: Ask,
    key: string,
    tryNumber: number,
    request: CompletionRequest,
    parameters: Record<string, unknown>,
    reservedUsd: number,
  ): CallStart {
    const unit = ask.unit;
    return {
      runId: this.options.runId,
      requestKey: key,
      study: this.options.study.study.name,
      model: ask.model,
      wave: unit.wave.id,
      respondent: unit.respondentId,
      item: unit.item.id,
      generation: ask.generation,
      n: ask.n,
      attempt: ask.attempt,
      try: tryNumber,
      system: unit.system,
      messages: request.messages,
      parameters,
      reservedUsd,
      startedAt: iso(this.options.clock.now()),
    };
  }

  /** Token and money totals, with what the prompt cache saved against the same tokens uncached. */
  private count(usage: TokenUsage, cost: number, price: ResolvedPrice, batch: boolean): void {
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

  private request(ask: Ask): CompletionRequest {
    const { study } = this.options;
    const unit = ask.unit;
    const frame = study.waves[unit.waveIndex]!.frame;
    const request: CompletionRequest = {
      system: unit.system,
      messages: ask.messages,
      maxTokens: unit.maxTokens,
      temperature: study.study.temperature,
      seed: seedFor(study.study.seed, ask.generation),
      n: ask.n,
      cacheSystemPrompt: this.cacheSystemPrompt,
      subject: {
        respondent: frame.profile(unit.respondentIndex),
        respondentId: unit.respondentId,
        item: unit.item,
        wave: { id: unit.wave.id, context: unit.wave.context },
        generation: ask.generation,
      },
    };
    if (ask.conversation) request.cacheMessages = true;
    if (unit.topLogprobs !== undefined) request.topLogprobs = unit.topLogprobs;
    // Every provider gets the schema; it decides how to enforce it (strict output, JSON mode, or an instruction in the prompt).
    if (unit.schema !== undefined) request.answerSchema = unit.schema;
    return request;
  }

  private row(
    ask: Ask,
    generation: number,
    outcome: ParseOutcome | { status: "nonresponse"; reason: string; transient?: boolean },
    attempts: number,
    callId: number | null,
  ): AnswerRow {
    const unit = ask.unit;
    const distribution = outcome.status === "answered" ? outcome.distribution : undefined;
    return {
      model: ask.model,
      wave: unit.wave.id,
      respondent: unit.respondentId,
      item: unit.item.id,
      generation,
      cellKey: ask.cellKey(generation),
      value: outcome.status === "answered" ? outcome.value : null,
      distribution: distribution === undefined ? null : JSON.stringify(distribution.probabilities),
      nonOptionMass: distribution === undefined ? null : distribution.nonOptionMass,
      status: outcome.status === "invalid" ? "nonresponse" : outcome.status,
      reason: outcome.status === "answered" ? null : outcome.reason,
      transient: outcome.status === "nonresponse" && "transient" in outcome && outcome.transient === true,
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

/** Whether the vendor may have billed a failed call: it may have done the work (or its batch was lost). */
function isBillingUnknown(error: ProviderError): boolean {
  return (
    error instanceof TimeoutError ||
    // A connection never made reached no server: nothing was billed.
    (error instanceof ConnectionError && !(error instanceof UnreachableError)) ||
    error instanceof MalformedResponseError ||
    (error instanceof BatchItemError && error.billingUnknown)
  );
}

/**
 * A server that ignores `top_logprobs` cannot serve logprobs elicitation at
 * all: stop the run (a re-ask would get the same) rather than record every
 * cell as invalid.
 */
function missingLogprobs(request: CompletionRequest, result: CompletionResult, provider: Provider): BadRequestError | undefined {
  if (request.topLogprobs === undefined) return undefined;
  if (result.choices.every((c) => c.topLogprobs !== undefined || (c.refusal !== undefined && c.refusal !== ""))) return undefined;
  return new BadRequestError(
    provider.id,
    "asked for first-token log-probabilities (top_logprobs) and got none: this server does not return them; " +
      "use elicitation: structured or free_text (or SILICON_OPENAI_LOGPROBS=false to say so up front)",
    { retryable: false },
  );
}

/** "ServerError: HTTP 500 …" without the provider prefix, short enough for a progress line. */
function describeFailure(error: unknown): string {
  const provider = error instanceof ProviderError ? `${error.provider}: ` : "";
  const message = error instanceof Error ? error.message : String(error);
  const text = `${error instanceof Error ? error.name : "Error"}: ${message.startsWith(provider) ? message.slice(provider.length) : message}`.replace(/\s+/g, " ");
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}

function followUp(unit: PromptUnit, choice: CompletionChoice, reason: string): ChatMessage[] {
  return [
    { role: "assistant", content: choice.text },
    { role: "user", content: reaskMessage(unit.item, reason, unit.itemMode) },
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
