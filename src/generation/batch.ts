/**
 * `silicon generate --batch`: the engine's requests gathered into vendor
 * batches (OpenAI Batch API, Anthropic Message Batches; an offline emulation
 * for simulated models), at the vendors' batch price.
 *
 * The engine runs its jobs as usual; each request it would send goes into
 * the queue of its model instead, and the job waits. When every job that can
 * move is waiting, the queues are submitted: each batch and its calls are
 * written to the store first (`submitting`), then sent, then confirmed with
 * the vendor's id. One loop polls the open batches, pausing longer each time
 * (from `pollMs` up to `maxPollMs`); an ended batch's results are read line
 * by line and handed back to the waiting jobs, which store them exactly like
 * synchronous responses and queue what follows (re-asks of invalid answers,
 * retries of expired or errored requests) for the next batch.
 *
 * Batches outlive the process: with `wait: false` (--no-wait), or on Ctrl-C,
 * waiting jobs are let go (deferred) and the batches keep running at the
 * vendor; a later run finds them in the store (their calls stay `sent`),
 * polls them and collects their results. Results for requests no job asks
 * for any more (the study's prompts changed) are stored as completed calls,
 * the cache, with no answers.
 */
import { BadRequestError, BatchItemError, ConnectionError, MalformedResponseError, ProviderError, TimeoutError, UndecidedError } from "../errors.ts";
import { costUsd, type ResolvedPrice } from "../providers/prices.ts";
import type { BatchRef, BatchResultLine, BatchState, BatchTransport, CompletionRequest, EncodedLine, PreparedBatch, SubmittedBatch } from "../providers/types.ts";
import type { BatchRow } from "../store/batches.ts";
import type { BatchedCall, CallStart } from "../store/calls.ts";
import type { Store } from "../store/store.ts";
import { crashPoint } from "../util/crash-points.ts";
import { redactSecrets } from "../util/secrets.ts";
import type { Budget, Reservation } from "./cost.ts";
import type { BatchOutcome, BatchSender } from "./engine-types.ts";
import { formatDuration } from "./progress.ts";
import { onFailure, type RetryPolicy } from "./retry.ts";
import type { Clock } from "./types.ts";

export const DEFAULT_POLL_MS = 30_000;
export const MAX_POLL_MS = 300_000;

export interface BatchModel {
  vendor: string;
  transport: BatchTransport;
  price: ResolvedPrice;
}

export interface BatcherOptions {
  store: Store;
  runId: number;
  study: string;
  /** The batch API of each model this run generates for. */
  models: Map<string, BatchModel>;
  clock: Clock;
  retry: RetryPolicy;
  random: () => number;
  env: NodeJS.ProcessEnv;
  /** Wait for the batches to end (default); false: submit, collect what has already ended, and let go. */
  wait: boolean;
  /** First pause between polls; each pause is half as long again, up to `maxPollMs`. */
  pollMs?: number;
  maxPollMs?: number;
  /** Aborting stops waiting (Ctrl-C): the batches keep running at the vendor. */
  stopSignal?: AbortSignal;
  /** Notices: a batch submitted, polled, collected, lost. */
  log?: (line: string) => void;
  /**
   * An error no later poll can fix (a rejected key, a store that cannot be
   * written): every waiting job has been let go, and the run should stop.
   * `finish()` rethrows it too.
   */
  onFatal?: (error: unknown) => void;
  /**
   * The run's budget, and the worst case it holds for each call earlier runs
   * left waiting in batches (by call id): a result no job asks for settles
   * its hold here (the engine settles the others).
   */
  budget?: Budget;
  held?: Map<number, Reservation>;
}

export interface BatchStats {
  /** Batches submitted by this run, and their requests. */
  submitted: number;
  requests: number;
  /** Batches whose results this run stored. */
  collected: number;
  /** Batches that could not be found any more; their requests are asked again. */
  lost: number;
  /** Results stored for requests no job of this run asked for (cached for later), and their cost. */
  orphans: number;
  orphanCostUsd: number;
}

interface Queued {
  call: CallStart;
  request: CompletionRequest;
  resolve: (outcome: BatchOutcome) => void;
}

interface Waiter {
  resolve: (outcome: BatchOutcome) => void;
}

const neverAborted = new AbortController().signal;

/** Names a batch at the vendor (OpenAI metadata, file name) so an unconfirmed submission can be found again. */
export function batchLabel(study: string, row: Pick<BatchRow, "id" | "createdAt">): string {
  return `silicon-${study.replace(/[^A-Za-z0-9_.-]/g, "_")}-${row.id}-${Date.parse(row.createdAt)}`;
}

export class Batcher implements BatchSender {
  readonly stats: BatchStats = { submitted: 0, requests: 0, collected: 0, lost: 0, orphans: 0, orphanCostUsd: 0 };
  private readonly options: BatcherOptions;
  private readonly queues = new Map<string, Queued[]>();
  private readonly waiters = new Map<number, Waiter>();
  /** Batches not yet collected, by store id. */
  private readonly open = new Map<number, BatchRow>();
  private readonly pollMs: number;
  private readonly maxPollMs: number;
  private flushTimer: NodeJS.Immediate | undefined;
  private submissions: Promise<void> = Promise.resolve();
  private loop: Promise<void> | undefined;
  private collecting = false;
  private letGo = false;
  /** The error that stopped the batcher (see `onFatal`). */
  private fatalError: unknown;
  private readonly releasedController = new AbortController();

  get released(): AbortSignal {
    return this.releasedController.signal;
  }

  constructor(options: BatcherOptions) {
    this.options = options;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.maxPollMs = Math.max(this.pollMs, options.maxPollMs ?? MAX_POLL_MS);
    for (const row of options.store.openBatches()) if (options.models.has(row.model)) this.open.set(row.id, row);
    options.stopSignal?.addEventListener("abort", () => this.release(), { once: true });
  }

  /** Batches of these models that earlier runs left open. */
  get openFromEarlierRuns(): BatchRow[] {
    return [...this.open.values()].filter((row) => row.runId !== this.options.runId);
  }

  send(call: CallStart, request: CompletionRequest): Promise<BatchOutcome> {
    return new Promise((resolve) => {
      if (this.letGo) {
        // Not queued, not stored: nothing was sent.
        resolve({ kind: "deferred", callId: -1 });
        return;
      }
      let queue = this.queues.get(call.model);
      if (queue === undefined) this.queues.set(call.model, (queue = []));
      queue.push({ call, request, resolve });
      this.scheduleFlush();
    });
  }

  awaitWaiting(callId: number): Promise<BatchOutcome> {
    return new Promise((resolve) => {
      if (this.letGo) return resolve({ kind: "deferred", callId });
      this.waiters.set(callId, { resolve });
      this.ensureLoop();
    });
  }

  /** Lets every waiting job go: its request stays in its batch for a later run. */
  release(): void {
    this.letGo = true;
    this.releasedController.abort(new Error("the batcher let its jobs go"));
    for (const [callId, waiter] of this.waiters) waiter.resolve({ kind: "deferred", callId });
    this.waiters.clear();
    // Queued but not yet submitted: nothing was sent.
    for (const queue of this.queues.values()) for (const queued of queue.splice(0)) queued.resolve({ kind: "deferred", callId: -1 });
    if (this.flushTimer !== undefined) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
  }

  /**
   * After the engine's jobs are done: collects the batches no job waited for
   * (left by earlier runs), when waiting; else polls them once. Returns only
   * when nothing is left running (the store is closed after it).
   */
  async finish(): Promise<void> {
    for (;;) {
      if (this.open.size > 0 && !this.letGo) this.ensureLoop();
      if (this.loop !== undefined) {
        await this.loop;
        continue;
      }
      await this.submissions;
      if (this.flushTimer === undefined && this.loop === undefined) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.fatalError !== undefined) throw this.fatalError;
  }

  /** Stops for good: records the error, lets every waiting job go, and tells the run. */
  private fatal(error: unknown): void {
    if (this.fatalError === undefined) this.fatalError = error;
    this.release();
    this.options.onFatal?.(error);
  }

  /** Submits what is queued; a failure (the store, a bug) stops the batcher rather than going unheard. */
  private queueSubmission(): void {
    this.submissions = this.submissions.then(() => this.submitQueued()).catch((error: unknown) => this.fatal(error));
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined) return;
    // Once every job that can move has queued its request (the current turn of the event loop).
    this.flushTimer = setImmediate(() => {
      this.flushTimer = undefined;
      if (this.collecting) return;
      this.queueSubmission();
      this.ensureLoop();
    });
  }

  private ensureLoop(): void {
    if (this.loop !== undefined) return;
    this.loop = this.run()
      .catch((error: unknown) => this.fatal(error))
      .finally(() => {
        this.loop = undefined;
      });
  }

  private hasWork(): boolean {
    return this.waiters.size > 0 || [...this.queues.values()].some((q) => q.length > 0);
  }

  private async run(): Promise<void> {
    let pause = this.pollMs;
    for (;;) {
      await this.submissions;
      const before = this.waiters.size;
      const collected = this.stats.collected + this.stats.lost;
      await this.pollAll();
      if ([...this.queues.values()].some((q) => q.length > 0)) {
        // What the collected results led to (re-asks, retries): the next batch, now.
        this.queueSubmission();
        continue;
      }
      const progressed = this.stats.collected + this.stats.lost > collected || this.waiters.size < before;
      if (this.letGo || (!this.hasWork() && (this.open.size === 0 || !this.options.wait))) break;
      if (!this.options.wait) {
        if (progressed) continue;
        this.release();
        break;
      }
      if (progressed) pause = this.pollMs;
      this.report(pause);
      try {
        await this.options.clock.sleep(pause, this.options.stopSignal);
      } catch {
        this.release();
        break;
      }
      pause = Math.min(this.maxPollMs, Math.round(pause * 1.5));
    }
  }

  private report(pause: number): void {
    const log = this.options.log;
    if (log === undefined || this.open.size === 0) return;
    const parts = [...this.open.values()].map((row) => {
      const counts = row.requestCounts;
      const done = counts === null ? "" : ` ${describeCounts(counts, row.requests)}`;
      return `#${row.id} ${row.model} ${row.vendorStatus ?? row.status}${done}`;
    });
    log(`batch: waiting for ${this.open.size} batch${this.open.size === 1 ? "" : "es"} (${parts.join("; ")}); next check in ${formatDuration(pause)}`);
  }

  // --- submitting ---------------------------------------------------------

  private async submitQueued(): Promise<void> {
    for (const [model, queue] of this.queues) {
      if (queue.length === 0) continue;
      this.queues.set(model, []);
      const settings = this.options.models.get(model)!;
      const chunks = this.chunks(queue, settings.transport);
      for (let i = 0; i < chunks.length; i++) {
        try {
          await this.submitChunk(model, settings, chunks[i]!);
        } catch (error) {
          // Not recorded, not sent: the jobs are let go (the batcher stops with the error).
          for (const later of chunks.slice(i + 1)) for (const { queued } of later) queued.resolve({ kind: "deferred", callId: -1 });
          throw error;
        }
      }
    }
  }

  /** Splits a queue into batches within the vendor's limits, each custom id once per batch. */
  private chunks(queue: Queued[], transport: BatchTransport): { queued: Queued; line: EncodedLine }[][] {
    const chunks: { queued: Queued; line: EncodedLine }[][] = [];
    let current: { queued: Queued; line: EncodedLine }[] = [];
    let bytes = 0;
    let ids = new Set<string>();
    const later: Queued[] = [];
    for (const queued of queue) {
      let line: EncodedLine;
      try {
        line = transport.encode({ customId: queued.call.requestKey, request: queued.request });
      } catch (error) {
        // A request the vendor cannot take: it fails as a synchronous one would, before anything is sent.
        queued.resolve({ kind: "error", callId: this.options.store.recordSent(queued.call), error, latencyMs: 0 });
        continue;
      }
      if (ids.has(line.customId)) {
        later.push(queued);
        continue;
      }
      if (current.length > 0 && (current.length >= transport.maxRequests || bytes + line.bytes > transport.maxBytes)) {
        chunks.push(current);
        current = [];
        bytes = 0;
        ids = new Set();
      }
      current.push({ queued, line });
      bytes += line.bytes;
      ids.add(line.customId);
    }
    if (current.length > 0) chunks.push(current);
    if (later.length > 0) chunks.push(...this.chunks(later, transport));
    return chunks;
  }

  private async submitChunk(model: string, settings: BatchModel, chunk: { queued: Queued; line: EncodedLine }[]): Promise<void> {
    const { store, clock } = this.options;
    const createdAt = iso(clock.now());
    let started: { batchId: number; callIds: number[] };
    try {
      started = store.startBatch(
        { runId: this.options.runId, vendor: settings.vendor, model, requests: chunk.length, createdAt },
        chunk.map(({ queued }) => queued.call),
      );
    } catch (error) {
      // Nothing recorded, nothing sent.
      for (const { queued } of chunk) queued.resolve({ kind: "deferred", callId: -1 });
      throw error;
    }
    const { batchId, callIds } = started;
    chunk.forEach(({ queued }, i) => this.waiters.set(callIds[i]!, { resolve: queued.resolve }));
    crashPoint("batch-intent");
    const row = store.batch(batchId)!;
    const label = batchLabel(this.options.study, row);
    const lines = chunk.map(({ line }) => line);
    const failBatch = (error: unknown) => {
      const message = redactSecrets(error instanceof Error ? error.message : String(error), this.options.env);
      store.closeBatch(batchId, "failed", iso(clock.now()), message);
      for (const callId of callIds) this.settle(callId, { kind: "error", callId, error, latencyMs: 0 });
    };
    const transport = settings.transport;
    // Not cancelled by Ctrl-C: a submission cut off half-way leaves a batch nobody knows of.
    let prepared: PreparedBatch | undefined;
    if (transport.prepare !== undefined) {
      // An upload bills nothing: retried like any call.
      try {
        prepared = await this.api((signal) => transport.prepare!(lines, { signal, label }), neverAborted);
      } catch (error) {
        failBatch(error);
        return;
      }
    }
    const created = await this.create(row, transport, lines, label, prepared);
    if (created.kind !== "created") {
      if (created.kind === "failed") {
        failBatch(created.error);
      } else if (created.kind === "unknown") {
        // Found neither way: the next poll (or the next run) looks for it again; its requests wait.
        this.open.set(batchId, row);
        this.stats.submitted += 1;
        this.stats.requests += chunk.length;
        const why = created.lookupError instanceof UndecidedError ? this.describe(created.lookupError) : `it could not be looked up (${this.describe(created.lookupError)})`;
        this.options.log?.(`batch #${batchId}: the vendor's reply to creating it was lost (${this.describe(created.error)}); ${why}; looking again later`);
      } else {
        this.lose(row, `the vendor's reply to creating it was lost (${this.describe(created.error)}), and ${settings.vendor} batches cannot be looked up; it may have been billed`);
      }
      return;
    }
    const submitted = created.batch;
    crashPoint("batch-created");
    store.batchSubmitted(batchId, submitted.id, submitted.inputFileId ?? prepared?.inputFileId, iso(clock.now()));
    crashPoint("batch-stored");
    this.open.set(batchId, store.batch(batchId)!);
    this.stats.submitted += 1;
    this.stats.requests += chunk.length;
    this.options.log?.(`batch #${batchId}: submitted ${chunk.length} request${chunk.length === 1 ? "" : "s"} for ${model} (${submitted.id})`);
  }

  /**
   * Creates a batch: the one call that bills. A failure the vendor answered
   * (429, 5xx) is retried; one whose reply was lost (a timeout, a dropped
   * connection, a garbled body) may have created the batch, so the vendor is
   * asked first (`find`), and the batch is retried only if it is not there.
   * Without `find` such a batch is lost (counted at its worst case).
   */
  private async create(
    row: BatchRow,
    transport: BatchTransport,
    lines: EncodedLine[],
    label: string,
    prepared: PreparedBatch | undefined,
  ): Promise<{ kind: "created"; batch: SubmittedBatch } | { kind: "failed" | "lost"; error: unknown } | { kind: "unknown"; error: unknown; lookupError: unknown }> {
    for (let tryNumber = 1; ; tryNumber++) {
      let error: unknown;
      try {
        return { kind: "created", batch: await transport.submit(lines, { signal: neverAborted, label, ...(prepared !== undefined ? { prepared } : {}) }) };
      } catch (failure) {
        error = failure;
      }
      if (isReplyLost(error)) {
        if (transport.find === undefined) return { kind: "lost", error };
        let found: SubmittedBatch | undefined;
        try {
          const lookup = { since: row.createdAt, customIds: lines.map((line) => line.customId), known: this.options.store.vendorBatchIds() };
          found = await this.api((signal) => transport.find!(label, { signal, ...lookup }), neverAborted);
        } catch (lookupError) {
          return { kind: "unknown", error, lookupError };
        }
        if (found !== undefined) return { kind: "created", batch: found };
      }
      const action = onFailure(error, tryNumber, this.options.random, this.options.retry);
      if (action.kind !== "retry") return { kind: "failed", error };
      await this.options.clock.sleep(action.delayMs, neverAborted);
    }
  }

  private describe(error: unknown): string {
    return redactSecrets(error instanceof Error ? error.message : String(error), this.options.env);
  }

  // --- polling and collecting ---------------------------------------------

  private async pollAll(): Promise<void> {
    for (const row of [...this.open.values()]) {
      if (this.letGo) return;
      if (row.status === "submitting") {
        await this.recover(row);
        continue;
      }
      const settings = this.options.models.get(row.model)!;
      const ref = this.ref(row);
      let state: BatchState;
      try {
        state = await this.api((signal) => settings.transport.poll(ref, { signal }), this.options.stopSignal);
      } catch (error) {
        if (this.letGo) return;
        this.unreachable(row, error);
        continue;
      }
      const polledAt = iso(this.options.clock.now());
      this.options.store.batchPolled(row.id, {
        vendorStatus: state.vendorStatus,
        requestCounts: state.counts,
        polledAt,
        endedAt: state.endedAt,
        outputFileId: state.outputFileId,
        errorFileId: state.errorFileId,
      });
      crashPoint("batch-polled");
      const updated = this.options.store.batch(row.id)!;
      this.open.set(row.id, updated);
      if (state.status === "failed") this.failBatch(updated, state.message ?? "the vendor failed the batch");
      else if (state.status === "ended") await this.collect(updated, settings);
    }
  }

  /**
   * A batch whose creation was never confirmed (a run died submitting it, or
   * the reply was lost): found at the vendor, or lost. If the vendor cannot be
   * asked now, it stays `submitting` for the next poll, or the next run.
   */
  private async recover(row: BatchRow): Promise<void> {
    const transport = this.options.models.get(row.model)!.transport;
    if (transport.find === undefined) {
      this.lose(row, "the run submitting it stopped before the vendor confirmed it; it may have been billed");
      return;
    }
    let found: SubmittedBatch | undefined;
    try {
      const lookup = {
        since: row.createdAt,
        customIds: this.options.store.waitingIn(row.id).map((call) => call.requestKey),
        known: this.options.store.vendorBatchIds(),
      };
      found = await this.api((signal) => transport.find!(batchLabel(this.options.study, row), { signal, ...lookup }), this.options.stopSignal);
    } catch (error) {
      if (this.letGo) return;
      if (error instanceof UndecidedError) {
        this.options.log?.(`batch #${row.id}: ${this.describe(error)}; looking again later`);
        return;
      }
      if (!(error instanceof ProviderError) || !error.retryable) {
        this.fatal(error);
        return;
      }
      this.options.log?.(`batch #${row.id}: could not look it up (${this.describe(error)}); trying again later`);
      return;
    }
    if (found !== undefined) {
      this.options.store.batchSubmitted(row.id, found.id, found.inputFileId, iso(this.options.clock.now()));
      this.open.set(row.id, this.options.store.batch(row.id)!);
      return;
    }
    this.lose(row, "the vendor never confirmed it and has no batch matching it");
  }

  /** Why a poll failed decides: a vanished batch is lost; a rejected key stops the run; anything else is tried at the next poll. */
  private unreachable(row: BatchRow, error: unknown): void {
    if (error instanceof ProviderError && error.status === 404) {
      this.lose(row, `the vendor no longer knows batch ${row.vendorBatchId}`);
      return;
    }
    if (!(error instanceof ProviderError) || !error.retryable) {
      // The batch is still open at the vendor: its requests stay waiting in it (a later run collects them).
      this.fatal(error);
      return;
    }
    this.options.log?.(`batch #${row.id}: could not poll (${redactSecrets(error.message, this.options.env)}); trying again later`);
  }

  private lose(row: BatchRow, why: string): void {
    const calls = this.options.store.waitingIn(row.id);
    const message = `batch #${row.id} lost: ${why}`;
    this.options.store.loseBatch(row.id, iso(this.options.clock.now()), message);
    this.open.delete(row.id);
    this.stats.lost += 1;
    this.options.log?.(`${message}; its ${calls.length} request(s) are asked again`);
    const error = new BatchItemError(row.model, message, { retryable: true, billingUnknown: true });
    for (const call of calls) this.settle(call.id, { kind: "error", callId: call.id, error, latencyMs: this.latency(row) });
  }

  /** The vendor rejected the whole batch (e.g. the input failed validation): no follow-up batch can do better. */
  private failBatch(row: BatchRow, message: string): void {
    const error = new BadRequestError(row.model, `batch ${row.vendorBatchId}: ${message}`, { retryable: false });
    this.options.store.closeBatch(row.id, "failed", iso(this.options.clock.now()), redactSecrets(error.message, this.options.env));
    this.open.delete(row.id);
    for (const call of this.options.store.waitingIn(row.id)) this.settle(call.id, { kind: "error", callId: call.id, error, latencyMs: this.latency(row) });
  }

  private async collect(row: BatchRow, settings: BatchModel): Promise<void> {
    const { store, clock } = this.options;
    const calls = new Map<string, BatchedCall>(store.waitingIn(row.id).map((call) => [call.requestKey, call]));
    const latencyMs = this.latency(row);
    this.collecting = true;
    try {
      const lines = settings.transport.results(this.ref(row), {
        signal: this.options.stopSignal ?? neverAborted,
        choices: (customId) => calls.get(customId)?.n ?? 1,
      });
      for await (const line of lines) {
        const call = calls.get(line.customId);
        if (call === undefined) continue;
        calls.delete(line.customId);
        this.deliver(call, line, settings.price, latencyMs);
        crashPoint("batch-line");
      }
    } catch (error) {
      this.collecting = false;
      if (this.letGo) return;
      // What was delivered is stored; the rest is read again at the next poll.
      this.unreachable(row, error);
      return;
    }
    this.collecting = false;
    const missing = new BatchItemError(row.model, `the results of batch ${row.vendorBatchId} have no line for this request`, { retryable: true });
    for (const call of calls.values()) this.settle(call.id, { kind: "error", callId: call.id, error: missing, latencyMs });
    // Let the jobs store what they were handed (queue their writes, then see them committed) before the batch is closed.
    await new Promise((resolve) => setImmediate(resolve));
    await store.writesCommitted();
    store.closeBatch(row.id, "collected", iso(clock.now()));
    crashPoint("batch-closed");
    this.open.delete(row.id);
    this.stats.collected += 1;
    this.options.log?.(`batch #${row.id}: results stored (${describeCounts(row.requestCounts ?? {}, row.requests)})`);
  }

  private deliver(call: BatchedCall, line: BatchResultLine, price: ResolvedPrice, latencyMs: number): void {
    const outcome: BatchOutcome =
      "result" in line
        ? { kind: "result", callId: call.id, result: line.result, latencyMs }
        : { kind: "error", callId: call.id, error: line.error, latencyMs };
    if (this.waiters.has(call.id)) {
      this.settle(call.id, outcome);
      return;
    }
    // No job asks for it (its prompt changed since it was submitted): stored all the same, the cache.
    const finishedAt = iso(this.options.clock.now());
    if ("result" in line) {
      const cost = costUsd(line.result.usage, price, { batch: true });
      this.options.store.recordCompleted(
        call.id,
        {
          choices: line.result.choices,
          parsed: [],
          usage: line.result.usage,
          costUsd: cost,
          latencyMs,
          finishedAt,
          requestId: line.result.requestId,
          vendorModel: line.result.model,
        },
        [],
      );
      this.stats.orphans += 1;
      this.stats.orphanCostUsd += cost;
      this.settleHeld(call.id, cost);
    } else {
      const billed = line.error.billedUsage;
      const cost = billed === undefined ? 0 : costUsd(billed, price, { batch: true });
      this.options.store.recordFailed(call.id, {
        errorClass: line.error.name,
        errorMessage: redactSecrets(line.error.message, this.options.env),
        httpStatus: line.error.status,
        latencyMs,
        finishedAt,
        costUsd: cost,
        ...(billed !== undefined ? { usage: billed } : {}),
      });
      this.stats.orphanCostUsd += cost;
      this.settleHeld(call.id, cost);
    }
  }

  /** Replaces the hold on a call an earlier run left waiting by what it cost. */
  private settleHeld(callId: number, costUsd: number): void {
    const reservation = this.options.held?.get(callId);
    if (reservation === undefined) return;
    this.options.held!.delete(callId);
    this.options.budget?.settle(reservation, costUsd);
  }

  private settle(callId: number, outcome: BatchOutcome): void {
    const waiter = this.waiters.get(callId);
    if (waiter === undefined) return;
    this.waiters.delete(callId);
    waiter.resolve(outcome);
  }

  private ref(row: BatchRow): BatchRef {
    return { id: row.vendorBatchId!, outputFileId: row.outputFileId, errorFileId: row.errorFileId };
  }

  private latency(row: BatchRow): number {
    const since = Date.parse(row.submittedAt ?? row.createdAt);
    return Number.isFinite(since) ? Math.max(0, this.options.clock.now() - since) : 0;
  }

  /** A batch API call, with the engine's retry policy for transient failures. */
  private async api<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal = neverAborted): Promise<T> {
    for (let tryNumber = 1; ; tryNumber++) {
      try {
        return await fn(signal);
      } catch (error) {
        const action = onFailure(error, tryNumber, this.options.random, this.options.retry);
        if (action.kind !== "retry" || signal.aborted) throw error;
        await this.options.clock.sleep(action.delayMs, signal);
      }
    }
  }
}

/** A failure whose reply never arrived intact: the vendor may have done what was asked. */
function isReplyLost(error: unknown): boolean {
  return error instanceof TimeoutError || error instanceof ConnectionError || error instanceof MalformedResponseError;
}

/** "1,234 of 50,000 done" from whichever counts the vendor gives. */
function describeCounts(counts: Record<string, number>, requests: number): string {
  const done = (counts["completed"] ?? 0) + (counts["failed"] ?? 0) + (counts["succeeded"] ?? 0) + (counts["errored"] ?? 0) + (counts["canceled"] ?? 0) + (counts["expired"] ?? 0);
  const total = counts["total"] ?? requests;
  return `${done} of ${total} done`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
