/**
 * The shapes the engine (engine.ts), the life of one call (call.ts) and the
 * batcher (batch.ts) share: the engine's options and totals, and what one
 * ask is.
 */
import type { ResolvedPrice } from "../providers/prices.ts";
import type { ChatMessage, CompletionChoice, CompletionRequest, CompletionResult } from "../providers/types.ts";
import type { AnswerRow } from "../store/answers.ts";
import type { CallStart, ParsedChoice } from "../store/calls.ts";
import type { RunTotals } from "../store/runs.ts";
import type { Store } from "../store/store.ts";
import type { EndpointHealth } from "./breaker.ts";
import type { AdaptiveConcurrency } from "./concurrency.ts";
import type { Budget, Reservation } from "./cost.ts";
import type { PromptUnit } from "./plan.ts";
import type { PromptMode } from "./prompt.ts";
import type { RetryPolicy } from "./retry.ts";
import type { Router } from "./router.ts";
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
   * The worst case is tightened once another try of the same request says its
   * input tokens (unknown-billing.ts); the budget keeps the reservation.
   */
  unknownBillingCalls: number;
  unknownBillingUsd: number;
  /**
   * What those calls are estimated to have cost (unknown-billing.ts gives the
   * rule): `costUsd` plus this is the run's estimate of the vendor's bill. A
   * reported figure only: the budget never counts it.
   */
  unknownBillingEstimateUsd: number;
  /** Of those calls, the ones no reply to the same request said the usage of: estimated from replies to the same model, item and `n`. */
  unknownBillingFromItemCalls: number;
  /** Of those calls, the ones with no reply to go by either: estimated at their worst case. */
  unknownBillingAtWorstCaseCalls: number;
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

export type AskResult = { kind: "response" } | { kind: "failed" } | { kind: "stopped" } | { kind: "deferred" };

/** Decides the answers a response settles, and how each choice was read. */
export type Finalize = (choices: CompletionChoice[], callId: number) => { answers: AnswerRow[]; parsed: ParsedChoice[] };

/** One request of a job: the unit (item) it asks, for which generations, with which conversation. */
export interface Ask {
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
  /** Its request key, when already known (a job's first request, looked up ahead). */
  key?: string;
}

/** What a call needs of the run it belongs to: whether it goes on, and how to stop it. */
export interface RunControl {
  /** Aborted when the run stops: waits for a slot, a rate limit or the budget end. */
  readonly signal: AbortSignal;
  stopped(): boolean;
  stop(reason: StopReason): void;
  /** Stops the run with an error no retry can fix. */
  fail(error: unknown): void;
}
