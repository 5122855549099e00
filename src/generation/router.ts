/**
 * Where a model's requests go. A router hands out one route per request,
 * after its rate limits allow it: `SingleRouter` is one provider behind one
 * rate limiter (the usual case); `Fleet` (fleet.ts) spreads a model's
 * requests over several endpoints (servers or accounts) by their limits and
 * health. The engine asks the router before every send and tells the route
 * how the send went.
 */
import { OverloadedError, RateLimitError } from "../errors.ts";
import type { Provider, RateLimitState } from "../providers/types.ts";
import type { RateLimiter } from "./rate-limit.ts";

export interface Route {
  readonly provider: Provider;
  /** The call came back; `rateLimit` is what the vendor's headers said. */
  succeeded(rateLimit: RateLimitState | undefined, tokens: number): void;
  /** The call failed after it was sent. */
  failed(error: unknown): void;
  /** The request was not sent after all (the cost cap stopped it). */
  unused(): void;
  /**
   * Waits, if a 429 arrived since `acquire`, for its retry-after; undefined
   * when the request may go at once (the caller then sends in the same tick).
   */
  ready(signal: AbortSignal): Promise<void> | undefined;
}

export interface Router {
  /** The model's provider (a fleet's stands for all its endpoints: shared id, common capabilities). */
  readonly provider: Provider;
  /** Waits until a request of `tokens` estimated tokens may be sent, and says where. */
  acquire(tokens: number, signal: AbortSignal): Promise<Route>;
  /** How long a failed request waits before it is sent again, given the retry policy's `delayMs`. */
  retryDelay(error: unknown, delayMs: number): number;
}

/** One provider, one rate limiter: a 429's retry-after pauses every request to the model. */
export class SingleRouter implements Router {
  readonly provider: Provider;
  private readonly limiter: RateLimiter;
  private readonly route: Route;

  constructor(provider: Provider, limiter: RateLimiter) {
    this.provider = provider;
    this.limiter = limiter;
    this.route = {
      provider,
      succeeded: (rateLimit, tokens) => limiter.observe(rateLimit, tokens),
      failed: (error) => {
        if ((error instanceof RateLimitError || error instanceof OverloadedError) && error.retryAfterMs !== undefined) {
          limiter.pause(error.retryAfterMs);
        }
      },
      unused: () => undefined,
      ready: (signal) => limiter.waitForPause(signal),
    };
  }

  async acquire(tokens: number, signal: AbortSignal): Promise<Route> {
    await this.limiter.acquire(tokens, signal);
    return this.route;
  }

  retryDelay(_error: unknown, delayMs: number): number {
    return delayMs;
  }
}
