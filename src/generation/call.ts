/**
 * The life of one call, in the order it happens:
 *
 *   plan → reserve budget → record intent → send → record outcome
 *
 * `ask` looks the request up in the store first (a stored response is never
 * paid for twice). Otherwise it is planned (request, key, worst case), then
 * reserved: a concurrency slot, the rate limit's turn and its worst case on
 * the budget. Its intent, the call as on the wire, is committed to the store
 * before the request leaves; its outcome, the response with the answers it
 * decides (or the failure), is queued for the store before its slot is handed
 * on, and committed before the next request on that slot can leave (handOn).
 * So a killed run leaves an account of what may have been billed, and at
 * most `concurrency` requests are ever billed but not stored
 * (docs/guarantees.md). The store commits writes queued in the same moment
 * together, in order (src/store/group-commit.ts): the same guarantees, one
 * transaction per wave of outcomes and the intents that follow them.
 *
 * In a batch run the batcher (batch.ts) records and sends the request in a
 * vendor batch instead; the outcome is recorded here all the same.
 */
import { costUsd } from "../providers/prices.ts";
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
import type { CompletionRequest, CompletionResult, Provider } from "../providers/types.ts";
import type { CallFailure, StoredCall } from "../store/calls.ts";
import { crashPoint } from "../util/crash-points.ts";
import { redactSecrets } from "../util/secrets.ts";
import { answerRow, type CellOutcome } from "./answer-rows.ts";
import type { CompletedLookup } from "./completed-lookup.ts";
import type { Reservation } from "./cost.ts";
import type { Ask, AskResult, BatchOutcome, EngineOptions, EngineTotals, Finalize, RunControl, WaitingCall } from "./engine-types.ts";
import { askKey, cachedRequest, callStart, planCall, type PlannedCall } from "./request.ts";
import { onFailure } from "./retry.ts";
import type { Route } from "./router.ts";
import type { Tally } from "./tally.ts";
import { UnknownBilling, type SentRequest } from "./unknown-billing.ts";

/** A concurrency slot and a route, held from before the intent until the outcome is queued for the store. */
interface Slot {
  ticket: number;
  route: Route;
  release(): void;
}

/** A call that went out and came back (directly, or in a batch): its outcome is not stored yet. */
interface Sent {
  kind: "sent";
  callId: number;
  reservation: Reservation;
  outcome: { result: CompletionResult } | { error: unknown };
  latencyMs: number;
  finishedAt: number;
  /** Direct sends only. */
  slot?: Slot;
}

type Next = AskResult | { kind: "retry"; delayMs: number };

const STOPPED = { kind: "stopped" } as const;
const DEFERRED = { kind: "deferred" } as const;
const neverAborted = new AbortController().signal;

export class CallLife {
  private readonly options: EngineOptions;
  private readonly run: RunControl;
  private readonly tally: Tally;
  private readonly completed: CompletedLookup;
  private readonly unknownBilling: UnknownBilling;

  constructor(options: EngineOptions, run: RunControl, tally: Tally, completed: CompletedLookup) {
    this.options = options;
    this.run = run;
    this.tally = tally;
    this.completed = completed;
    this.unknownBilling = new UnknownBilling(tally.totals);
  }

  /** The run's totals, with the estimates of calls whose billing is unknown brought up to date. */
  settledTotals(): EngineTotals {
    this.unknownBilling.settle();
    return this.tally.totals;
  }

  /**
   * One request: from the store if its response is stored, else sent (with
   * retries) and stored with the answers `finalize` decides. `ask.generations`
   * are the cells recorded as nonresponse if the vendor keeps failing.
   */
  async ask(ask: Ask, finalize: Finalize): Promise<AskResult> {
    const key = askKey(ask);
    const stored = this.completed.find(cachedRequest(ask, key));
    if (stored !== undefined) return this.reuse(stored, finalize);
    let waiting = this.options.waiting?.get(key);
    if (waiting !== undefined && this.options.batcher === undefined) {
      // Sent in a batch by an earlier run: only a batch run collects it; never pay twice.
      this.tally.totals.deferred += 1;
      return DEFERRED;
    }
    const call = planCall(ask, key, this.options.study, this.options.routers.get(ask.model)!, this.options.prices.get(ask.model)!);
    try {
      return await this.sendUntilSettled(call, waiting, finalize);
    } finally {
      this.unknownBilling.forget(key);
    }
  }

  /** Sends `call` until it is answered, given up, deferred to a batch, or the run stops. */
  private async sendUntilSettled(call: PlannedCall, waiting: WaitingCall | undefined, finalize: Finalize): Promise<AskResult> {
    for (let tryNumber = waiting?.try ?? 1; ; tryNumber++) {
      if (this.run.stopped()) return STOPPED;
      const sent = this.options.batcher !== undefined ? await this.sendInBatch(call, tryNumber, waiting) : await this.sendNow(call, tryNumber);
      waiting = undefined;
      if (sent.kind !== "sent") return sent;
      let next: Next;
      try {
        next = await this.recordOutcome(call, sent, tryNumber, finalize);
      } finally {
        sent.slot?.release();
      }
      if (next.kind !== "retry") return next;
      if (!(await this.backOff(next.delayMs))) return STOPPED;
    }
  }

  /** A stored response: its answers written again (they may be stale or missing), nothing sent. */
  private async reuse(stored: StoredCall, finalize: Finalize): Promise<AskResult> {
    this.tally.totals.cacheHits += 1;
    const { answers } = finalize(stored.choices, stored.id);
    crashPoint("cache-hit");
    await this.options.store.commitAnswers(answers);
    this.tally.answers(answers);
    return { kind: "response" };
  }

  /** reserve → record intent → send, one request on its own. */
  private async sendNow(call: PlannedCall, tryNumber: number): Promise<Sent | typeof STOPPED> {
    const { clock, store } = this.options;
    const held = await this.reserve(call);
    if (held === undefined) return STOPPED;
    const { slot, reservation } = held;
    let callId: number;
    try {
      callId = await store.commitSent(callStart(call, this.runIdentity(), tryNumber, reservation.amountUsd, clock.now()));
    } catch (error) {
      slot.release();
      throw error;
    }
    this.tally.totals.callsSent += 1;
    crashPoint("before-send");
    // A 429 that arrived while the intent was committed pauses this send too.
    // (Stopping does not cut that wait short: the call is recorded as sent, so it is sent.)
    const pause = slot.route.ready(this.options.abortSignal ?? neverAborted);
    if (pause !== undefined) await pause.catch(() => undefined);
    const startedAt = clock.now();
    const outcome = await this.transmit(slot.route, call.request);
    const finishedAt = clock.now();
    // A dead server stops the run (breaker.ts): this send is recorded all the same.
    const down = this.options.health?.observe(call.ask.model, slot.route.provider, "error" in outcome ? outcome.error : undefined);
    if (down !== undefined) this.run.fail(down);
    return { kind: "sent", callId, reservation, outcome, latencyMs: finishedAt - startedAt, finishedAt, slot };
  }

  /** Reserves what a send needs: a concurrency slot, the rate limit's turn, its worst case on the budget. */
  private async reserve(call: PlannedCall): Promise<{ slot: Slot; reservation: Reservation } | undefined> {
    const { concurrency, budget } = this.options;
    const signal = this.run.signal;
    const ticket = await concurrency.acquire(signal).catch(() => undefined);
    if (ticket === undefined) return undefined;
    const route = await call.router.acquire(call.rateTokens, signal).catch(() => undefined);
    if (route === undefined) {
      concurrency.release();
      return undefined;
    }
    const reservation = this.run.stopped() ? undefined : await budget.reserve(call.worstCostUsd, signal).catch(() => undefined);
    if (reservation === undefined) {
      route.unused();
      concurrency.release();
      if (!this.run.stopped()) this.run.stop("budget");
      return undefined;
    }
    try {
      for (let wait = route.ready(signal); wait !== undefined; wait = route.ready(signal)) await wait;
    } catch {
      route.unused();
      budget.settle(reservation, 0);
      concurrency.release();
      return undefined;
    }
    let released = false;
    const release = () => {
      if (!released) concurrency.release();
      released = true;
    };
    return { slot: { ticket, route, release }, reservation };
  }

  /** Sends the request; the route hears of a failure as the first reaction to it (a 429's pause is in place before anything else runs). */
  private transmit(route: Route, request: CompletionRequest): Promise<Sent["outcome"]> {
    return route.provider.complete(request, { signal: this.options.abortSignal ?? neverAborted }).then(
      (result) => ({ result }),
      (error: unknown) => {
        route.failed(error);
        return { error };
      },
    );
  }

  /** reserve → record intent → send, in the next vendor batch (or collected from an earlier run's). */
  private async sendInBatch(call: PlannedCall, tryNumber: number, waiting: WaitingCall | undefined): Promise<Sent | typeof STOPPED | typeof DEFERRED> {
    const { budget, batcher, clock } = this.options;
    let reservation: Reservation;
    let sent: BatchOutcome;
    if (waiting !== undefined) {
      // Its worst case is held on this run's budget since the run began (see generate());
      // it is replaced by what it costs when it arrives.
      reservation = waiting.reservation ?? budget.hold(0);
      sent = await batcher!.awaitWaiting(waiting.callId);
    } else {
      const held = await this.reserveInBatch(call.worstCostUsd * call.price.batch_factor);
      if (held === undefined) {
        this.run.stop("budget");
        return STOPPED;
      }
      reservation = held;
      // The batcher records the intent (its batch and its calls, in one transaction) before it submits.
      sent = await batcher!.send(callStart(call, this.runIdentity(), tryNumber, reservation.amountUsd, clock.now()), call.request);
      if (sent.callId >= 0) {
        this.tally.totals.callsSent += 1;
        this.tally.totals.batchCalls += 1;
      }
    }
    const finishedAt = clock.now();
    if (sent.kind === "deferred") {
      if (sent.callId >= 0) this.tally.totals.deferred += 1;
      return DEFERRED;
    }
    const outcome = sent.kind === "result" ? { result: sent.result } : { error: sent.error };
    return { kind: "sent", callId: sent.callId, reservation, outcome, latencyMs: sent.latencyMs, finishedAt };
  }

  /**
   * A batch request's worst case, held until its batch is collected. One that
   * does not fit waits for the batches in flight to settle (their requests
   * usually cost a fraction of their worst case) and goes into the next
   * batch, so one run spends up to its cap rather than stopping after the
   * first batch; undefined once nothing is in flight and it still does not
   * fit, or the batcher has let go (--no-wait: the next run goes on).
   */
  private async reserveInBatch(amountUsd: number): Promise<Reservation | undefined> {
    const { budget, batcher } = this.options;
    const now = budget.tryReserve(amountUsd);
    if (now !== undefined || batcher!.released.aborted) return now;
    return budget.reserve(amountUsd, AbortSignal.any([this.run.signal, batcher!.released])).catch(() => undefined);
  }

  /** Records the outcome: the response with its answers, or the failure (and what follows it). */
  private recordOutcome(call: PlannedCall, sent: Sent, tryNumber: number, finalize: Finalize): Promise<Next> {
    if ("error" in sent.outcome) return this.recordFailure(call, sent, sent.outcome.error, 0, tryNumber);
    const result = sent.outcome.result;
    const missing = missingLogprobs(call.request, result, call.router.provider);
    if (missing === undefined) return this.recordResponse(call, sent, result, finalize);
    // Billed but unusable (no log-probabilities): what it cost is counted, and the run stops.
    sent.slot?.route.failed(missing);
    const batch = this.options.batcher !== undefined;
    const billedUsd = costUsd(result.usage, call.price, { batch });
    this.tally.usage(result.usage, billedUsd, call.price, batch);
    this.unknownBilling.known(sentRequest(call, sent), { inputTokens: result.usage.inputTokens, costUsd: billedUsd }, false);
    return this.recordFailure(call, sent, missing, billedUsd, tryNumber);
  }

  private async recordResponse(call: PlannedCall, sent: Sent, result: CompletionResult, finalize: Finalize): Promise<Next> {
    const { concurrency, budget, store } = this.options;
    // The response arrived (from the vendor, or from a collected batch); it is not stored yet.
    crashPoint("after-response");
    if (sent.slot !== undefined) {
      concurrency.onSuccess();
      sent.slot.route.succeeded(result.rateLimit, call.rateTokens);
    }
    const batch = this.options.batcher !== undefined;
    const cost = costUsd(result.usage, call.price, { batch });
    budget.settle(sent.reservation, cost);
    this.tally.usage(result.usage, cost, call.price, batch);
    this.unknownBilling.known(sentRequest(call, sent), { inputTokens: result.usage.inputTokens, costUsd: cost }, false);
    const { answers, parsed } = finalize(result.choices, sent.callId);
    const stored = store.commitCompleted(
      sent.callId,
      {
        choices: result.choices,
        parsed,
        usage: result.usage,
        costUsd: cost,
        latencyMs: sent.latencyMs,
        finishedAt: sent.finishedAt,
        requestId: result.requestId,
        vendorModel: result.model,
      },
      answers,
    );
    await this.handOn(sent, stored);
    crashPoint("after-commit");
    this.tally.answers(answers);
    return { kind: "response" };
  }

  /** A failed send: stored; then retried, given up (its cells nonresponse) or the run stopped. */
  private async recordFailure(call: PlannedCall, sent: Sent, error: unknown, billedUsd: number, tryNumber: number): Promise<Next> {
    const { budget, concurrency, store, env } = this.options;
    // A reply that cannot be used but says what it billed (`choices: []` with usage) is counted like any response.
    const billed = error instanceof ProviderError ? error.billedUsage : undefined;
    if (billed !== undefined) {
      const batch = this.options.batcher !== undefined;
      billedUsd = costUsd(billed, call.price, { batch });
      this.tally.usage(billed, billedUsd, call.price, batch);
      this.unknownBilling.known(sentRequest(call, sent), { inputTokens: billed.inputTokens, costUsd: billedUsd }, true);
    }
    const billingUnknown = billed === undefined && (!(error instanceof ProviderError) || isBillingUnknown(error));
    if (billingUnknown) {
      const priceFactor = this.options.batcher !== undefined ? call.price.batch_factor : 1;
      const outputTokens = call.ask.n * call.request.maxTokens;
      this.unknownBilling.unknown(sentRequest(call, sent), { reservationUsd: sent.reservation.amountUsd, outputTokens, price: call.price, priceFactor });
    }
    budget.settle(sent.reservation, billingUnknown ? sent.reservation.amountUsd : billedUsd);
    this.tally.totals.callsFailed += 1;
    this.tally.totals.lastFailure = redactSecrets(describeFailure(error), env);
    if ((error instanceof RateLimitError || error instanceof OverloadedError) && sent.slot !== undefined) concurrency.onOverload(sent.slot.ticket);
    const failure: CallFailure = {
      errorClass: error instanceof Error ? error.name : "Error",
      errorMessage: redactSecrets(error instanceof Error ? error.message : String(error), env),
      httpStatus: error instanceof ProviderError ? error.status : undefined,
      latencyMs: sent.latencyMs,
      finishedAt: sent.finishedAt,
      costUsd: billingUnknown ? null : billedUsd,
      ...(billed !== undefined ? { usage: billed } : {}),
    };
    if (this.options.abortSignal?.aborted) {
      await store.commitFailed(sent.callId, { ...failure, errorClass: "Aborted", errorMessage: "cancelled by the user" });
      this.run.stop("stopped");
      return STOPPED;
    }
    const action = onFailure(error, tryNumber, this.options.random, this.options.retry);
    if (action.kind === "retry") {
      await this.handOn(sent, store.commitFailed(sent.callId, failure));
      crashPoint("after-failure");
      this.tally.totals.retries += 1;
      this.tally.progress();
      // A batch's retry goes into the next batch: the batch is the wait.
      return { kind: "retry", delayMs: this.options.batcher !== undefined ? 0 : call.router.retryDelay(error, action.delayMs) };
    }
    if (action.kind === "give-up") {
      const reason = `vendor failure: ${redactSecrets(action.reason, env)}`;
      const answers = call.ask.generations.map((g) => this.answerRow(call.ask, g, { status: "nonresponse", reason, transient: true }, call.ask.attempt, sent.callId));
      await this.handOn(sent, store.commitFailed(sent.callId, failure, answers));
      this.tally.answers(answers);
      return { kind: "failed" };
    }
    // Not handed on: the slot goes back once the run is stopped, so no request follows this one on it.
    await store.commitFailed(sent.callId, failure);
    this.run.fail(error);
    return STOPPED;
  }

  /**
   * Gives the call's slot to the next request as soon as its outcome is
   * queued, then waits for the outcome's commit. The next request's intent
   * joins the same group commit (one transaction where there were two), and
   * it cannot leave before that group has committed (the store commits
   * writes in the order they were queued): so each slot still has at most
   * one request billed but not stored.
   */
  private async handOn(sent: Sent, outcomeStored: Promise<void>): Promise<void> {
    sent.slot?.release();
    await outcomeStored;
  }

  /** Waits before a retry; false when the run stopped meanwhile. */
  private async backOff(delayMs: number): Promise<boolean> {
    if (delayMs <= 0) return true;
    try {
      await this.options.clock.sleep(delayMs, this.run.signal);
      return true;
    } catch {
      return false;
    }
  }

  answerRow(ask: Ask, generation: number, outcome: CellOutcome, attempts: number, callId: number | null) {
    return answerRow(ask, generation, outcome, attempts, callId, { runId: this.options.runId, at: this.options.clock.now() });
  }

  private runIdentity(): { runId: number; study: string } {
    return { runId: this.options.runId, study: this.options.study.study.name };
  }
}

/**
 * The request `call` sent, as its billing is matched: where it went (its
 * endpoint's provider; a batch's is the model's), and its kind (model, item, `n`).
 */
function sentRequest(call: PlannedCall, sent: Sent): SentRequest {
  const { model, unit, n } = call.ask;
  return { endpoint: sent.slot?.route.provider ?? call.router.provider, key: call.key, kind: `${model}\n${unit.item.id}\n${n}` };
}

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

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
