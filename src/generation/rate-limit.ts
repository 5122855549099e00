/**
 * Requests and tokens per minute, from the study's `rate_limits`, as two
 * token buckets refilled continuously (as the vendors meter them). Requests
 * are spaced evenly: at 600 a minute, one every 100 ms from the start, so a
 * one-second window holds a second's share, as vendors that count per second
 * (or over a sliding window) see it. Their bucket starts with one request and
 * holds two, so a timer that fires late does not lose the slot. The token
 * bucket holds one second's worth. A request larger than a full bucket goes
 * when the bucket is full and leaves it in debt.
 *
 * The vendors' own view feeds in too: when their headers say no requests or
 * too few tokens remain, every send waits for their reset; a 429's
 * retry-after pauses every send, not just the one that failed.
 */
import type { RateLimitState } from "../providers/types.ts";
import type { Clock } from "./types.ts";

export interface RateLimits {
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
}

export class TokenBucket {
  readonly capacity: number;
  /** Units per millisecond. */
  readonly rate: number;
  private level: number;
  private updatedAt: number;

  /** `capacity` defaults to one second's worth, at least 1; the bucket starts with `initial` (default full). */
  constructor(perMinute: number, now: number, capacity: number = Math.max(1, perMinute / 60), initial: number = capacity) {
    this.rate = perMinute / 60_000;
    this.capacity = capacity;
    this.level = Math.min(initial, capacity);
    this.updatedAt = now;
  }

  /** Milliseconds until `amount` may be taken (0: now). */
  waitFor(amount: number, now: number): number {
    this.refill(now);
    const need = Math.min(amount, this.capacity);
    return this.level >= need ? 0 : Math.ceil((need - this.level) / this.rate);
  }

  take(amount: number, now: number): void {
    this.refill(now);
    this.level -= amount;
  }

  /** The vendor says only `remaining` are left: never believe we have more. */
  limitTo(remaining: number, now: number): void {
    this.refill(now);
    this.level = Math.min(this.level, remaining);
  }

  available(now: number): number {
    this.refill(now);
    return this.level;
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.level = Math.min(this.capacity, this.level + (now - this.updatedAt) * this.rate);
      this.updatedAt = now;
    }
  }
}

export class RateLimiter {
  private readonly clock: Clock;
  private readonly requests: TokenBucket | undefined;
  private readonly tokens: TokenBucket | undefined;
  private pausedUntil = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(limits: RateLimits, clock: Clock) {
    this.clock = clock;
    const now = clock.now();
    if (limits.requestsPerMinute !== undefined) this.requests = new TokenBucket(limits.requestsPerMinute, now, 2, 1);
    if (limits.tokensPerMinute !== undefined) this.tokens = new TokenBucket(limits.tokensPerMinute, now);
  }

  /** Milliseconds until a request of `tokens` may be sent (0: now). */
  delayFor(tokens: number, now: number = this.clock.now()): number {
    return Math.max(
      0,
      this.pausedUntil - now,
      this.requests?.waitFor(1, now) ?? 0,
      this.tokens?.waitFor(tokens, now) ?? 0,
    );
  }

  /**
   * Waits its turn (first come, first served) until a request of `tokens`
   * estimated tokens may be sent, and takes them from the buckets.
   */
  acquire(tokens: number, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.waitAndTake(tokens, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Takes a request of `tokens` if it may be sent now, without queueing (for
   * a caller that picks among several limiters, src/generation/fleet.ts).
   */
  tryTake(tokens: number): boolean {
    const now = this.clock.now();
    if (this.delayFor(tokens, now) > 0) return false;
    this.requests?.take(1, now);
    this.tokens?.take(tokens, now);
    return true;
  }

  /**
   * Waits out a pause that began after this request passed `acquire` (a 429
   * arrived for another request meanwhile): checked again just before sending.
   */
  waitForPause(signal?: AbortSignal): Promise<void> | undefined {
    // Undefined when there is nothing to wait for, so the caller sends in the same tick as the check.
    if (this.pausedUntil <= this.clock.now()) return undefined;
    return (async () => {
      for (let wait = this.pausedUntil - this.clock.now(); wait > 0; wait = this.pausedUntil - this.clock.now()) {
        await this.clock.sleep(wait, signal);
      }
    })();
  }

  /** Holds every send for `ms` (a 429's retry-after). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }

  /** Takes in the vendor's rate-limit headers from a response. */
  observe(state: RateLimitState | undefined, tokensPerRequest: number): void {
    if (state === undefined) return;
    const now = this.clock.now();
    if (state.remainingRequests !== undefined) {
      // None left: wait for the reset. (Emptying our own bucket too would also drop the
      // credit earned while this response was on its way, and lose a slot every time.)
      if (state.remainingRequests <= 0 && state.resetRequestsMs !== undefined) this.pause(state.resetRequestsMs);
      else this.requests?.limitTo(state.remainingRequests, now);
    }
    if (state.remainingTokens !== undefined) {
      this.tokens?.limitTo(state.remainingTokens, now);
      if (state.remainingTokens < tokensPerRequest && state.resetTokensMs !== undefined) this.pause(state.resetTokensMs);
    }
  }

  private async waitAndTake(tokens: number, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.clock.now();
      const wait = this.delayFor(tokens, now);
      if (wait <= 0) {
        this.requests?.take(1, now);
        this.tokens?.take(tokens, now);
        return;
      }
      await this.clock.sleep(wait, signal);
    }
  }
}
