/**
 * A fleet: one model served by several endpoints (vLLM or Ollama servers,
 * or several vendor accounts), from the study's `endpoints:`. Each request
 * goes to the endpoint that can take it soonest under its own rate limits
 * (its token buckets and what its headers and 429s said), the least busy on
 * a tie. A 429 pauses only the endpoint that sent it.
 *
 * Health is a circuit breaker per endpoint: after `failureThreshold`
 * consecutive failures that say the endpoint is unwell (connection refused
 * or reset, timeouts, 5xx, garbled bodies) it is taken out for a cool-down
 * (10 s, doubling with every failed probe up to 5 minutes); then one request
 * probes it, and a success puts it back. While every endpoint is out,
 * requests wait for the first cool-down to end.
 */
import {
  ConnectionError,
  MalformedResponseError,
  OverloadedError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "../errors.ts";
import type { CompletionRequest, CompletionResult, Provider, ProviderCapabilities } from "../providers/types.ts";
import { RateLimiter, type RateLimits } from "./rate-limit.ts";
import { backoffMs } from "./retry.ts";
import type { Route, Router } from "./router.ts";
import type { Clock } from "./types.ts";

export interface FleetEndpoint {
  /** For messages: the host, or the key's variable for vendor accounts. */
  name: string;
  provider: Provider;
  limits: RateLimits;
}

export interface BreakerOptions {
  /** Consecutive health failures that take an endpoint out. */
  failureThreshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 3, cooldownMs: 10_000, maxCooldownMs: 300_000 };

/** What the fleet knows about one endpoint, for tests and the run summary. */
export interface EndpointState {
  name: string;
  /** `out` while cooling down, `probing` while its one trial request is in flight. */
  health: "up" | "out" | "probing";
  inFlight: number;
  sent: number;
  failed: number;
  /** Times it was taken out. */
  trips: number;
}

interface Member {
  endpoint: FleetEndpoint;
  limiter: RateLimiter;
  state: EndpointState;
  failures: number;
  cooldownMs: number;
  outUntil: number;
  /** 429s without retry-after in a row: the endpoint's own backoff. */
  rateLimited: number;
}

/** Failures that say something about the endpoint, not about the request or the quota. */
function isHealthFailure(error: unknown): boolean {
  return (
    error instanceof ConnectionError ||
    error instanceof TimeoutError ||
    error instanceof ServerError ||
    error instanceof OverloadedError ||
    error instanceof MalformedResponseError
  );
}

export class Fleet implements Router {
  readonly provider: Provider;
  private readonly members: Member[];
  private readonly clock: Clock;
  private readonly breaker: BreakerOptions;
  private queue: Promise<unknown> = Promise.resolve();
  private next = 0;
  /** Wakes requests waiting for an endpoint when a probe settles. */
  private wake: (() => void)[] = [];

  constructor(endpoints: FleetEndpoint[], clock: Clock, breaker: BreakerOptions = DEFAULT_BREAKER) {
    if (endpoints.length === 0) throw new RangeError("a fleet needs at least one endpoint");
    this.clock = clock;
    this.breaker = breaker;
    this.members = endpoints.map((endpoint) => ({
      endpoint,
      limiter: new RateLimiter(endpoint.limits, clock),
      state: { name: endpoint.name, health: "up", inFlight: 0, sent: 0, failed: 0, trips: 0 },
      failures: 0,
      cooldownMs: breaker.cooldownMs,
      outUntil: 0,
      rateLimited: 0,
    }));
    const first = endpoints[0]!.provider;
    this.provider = {
      vendor: first.vendor,
      model: first.model,
      id: first.id,
      capabilities: commonCapabilities(endpoints.map((e) => e.provider.capabilities)),
      complete: (request, options) => this.complete(request, options),
    };
  }

  get endpoints(): readonly EndpointState[] {
    return this.members.map((m) => m.state);
  }

  /** The endpoints' providers, in the study's order. */
  get providers(): readonly Provider[] {
    return this.members.map((m) => m.endpoint.provider);
  }

  /** First come, first served: each request waits for the ones before it to get an endpoint. */
  acquire(tokens: number, signal: AbortSignal): Promise<Route> {
    const turn = this.queue.then(() => this.pick(tokens, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  retryDelay(error: unknown, delayMs: number): number {
    // The fleet holds back a rate-limited or failing endpoint itself; another may take the request at once.
    // A 429 has paused the endpoint that sent it (failed()): for its retry-after, or without one
    // for an exponential backoff of its own; the request waits only if every endpoint is paused.
    if (error instanceof RateLimitError) return 0;
    const now = this.clock.now();
    const others = this.members.filter((m) => m.state.health === "up" || (m.state.health === "out" && now >= m.outUntil));
    return others.length > 1 || (others.length === 1 && !isHealthFailure(error)) ? 0 : delayMs;
  }

  private async pick(tokens: number, signal: AbortSignal): Promise<Route> {
    for (;;) {
      signal.throwIfAborted();
      const now = this.clock.now();
      let best: Member | undefined;
      let bestWait = Infinity;
      let earliest = Infinity;
      for (let i = 0; i < this.members.length; i++) {
        // Start the scan after the last pick, so ties go round the fleet.
        const member = this.members[(this.next + i) % this.members.length]!;
        const { health } = member.state;
        if (health === "probing") continue;
        if (health === "out" && now < member.outUntil) {
          earliest = Math.min(earliest, member.outUntil - now);
          continue;
        }
        const wait = member.limiter.delayFor(tokens, now);
        if (wait < bestWait || (wait === bestWait && best !== undefined && member.state.inFlight < best.state.inFlight)) {
          best = member;
          bestWait = wait;
        }
      }
      if (best !== undefined && bestWait === 0 && best.limiter.tryTake(tokens)) return this.lease(best);
      const wait = Math.min(bestWait, earliest);
      if (wait === Infinity) {
        // Every endpoint is probing: wait for a probe to settle.
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(signal.reason as Error);
          signal.addEventListener("abort", onAbort, { once: true });
          this.wake.push(() => {
            signal.removeEventListener("abort", onAbort);
            resolve();
          });
        });
      } else {
        await this.clock.sleep(Math.max(1, wait), signal);
      }
    }
  }

  private lease(member: Member): Route {
    const state = member.state;
    this.next = (this.members.indexOf(member) + 1) % this.members.length;
    if (state.health === "out") state.health = "probing";
    state.inFlight += 1;
    state.sent += 1;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      state.inFlight -= 1;
      return true;
    };
    return {
      provider: member.endpoint.provider,
      ready: (signal) => member.limiter.waitForPause(signal),
      succeeded: (rateLimit, tokens) => {
        if (!settle()) return;
        member.limiter.observe(rateLimit, tokens);
        member.failures = 0;
        member.rateLimited = 0;
        member.cooldownMs = this.breaker.cooldownMs;
        if (state.health !== "up") this.wakeAll();
        state.health = "up";
      },
      unused: () => {
        if (!settle()) return;
        if (state.health === "probing") {
          state.health = "out";
          this.wakeAll();
        }
      },
      failed: (error) => {
        if (!settle()) return;
        state.failed += 1;
        if ((error instanceof RateLimitError || error instanceof OverloadedError) && error.retryAfterMs !== undefined) {
          member.limiter.pause(error.retryAfterMs);
        } else if (error instanceof RateLimitError) {
          // No retry-after: this endpoint backs off (0.5 s, 1 s, 2 s, … up to 30 s) while the others take requests.
          member.rateLimited += 1;
          member.limiter.pause(backoffMs(member.rateLimited, () => 0));
        }
        if (!isHealthFailure(error)) {
          if (state.health === "probing") {
            state.health = "up";
            this.wakeAll();
          }
          return;
        }
        member.failures += 1;
        // A request sent before the endpoint was taken out may fail after: that is no new trip.
        if (state.health === "probing" || (state.health === "up" && member.failures >= this.breaker.failureThreshold)) {
          const probeFailed = state.health === "probing";
          state.health = "out";
          state.trips += 1;
          member.outUntil = this.clock.now() + member.cooldownMs;
          if (probeFailed) member.cooldownMs = Math.min(this.breaker.maxCooldownMs, member.cooldownMs * 2);
          this.wakeAll();
        }
      },
    };
  }

  private wakeAll(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const wake of waiting) wake();
  }

  /** The fleet as one provider (acquire, send, report back), for callers outside the engine. */
  private async complete(request: CompletionRequest, options: { signal: AbortSignal }): Promise<CompletionResult> {
    const route = await this.acquire(0, options.signal);
    try {
      const result = await route.provider.complete(request, options);
      route.succeeded(result.rateLimit, 0);
      return result;
    } catch (error) {
      route.failed(error);
      throw error;
    }
  }
}

/** What every endpoint supports: a request the fleet sends must suit whichever endpoint takes it. */
function commonCapabilities(all: ProviderCapabilities[]): ProviderCapabilities {
  return {
    multipleChoices: all.every((c) => c.multipleChoices),
    answerSchema: all.every((c) => c.answerSchema),
    logprobs: all.every((c) => c.logprobs),
    promptCaching: all.every((c) => c.promptCaching),
    temperature: all.every((c) => c.temperature !== false),
  };
}
