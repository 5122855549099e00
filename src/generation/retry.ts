/**
 * The only backoff in silicon. Providers never retry; they throw typed errors
 * (src/errors.ts) and this decides: a vendor's retry-after is honoured; other
 * transient failures wait exponentially (0.5 s doubling to 30 s, minus up to
 * 25% jitter, as the vendors' SDKs do); after `maxTries` sends the cell is
 * recorded as nonresponse with the reason, and a later run asks again. A bad
 * key or a bad request stops the whole run: retrying cannot fix it.
 */
import { AuthError, BadRequestError, ProviderError } from "../errors.ts";

export interface RetryPolicy {
  /** Sends of one request in all, the first included. */
  maxTries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A retry-after longer than this gives the cell up instead of stalling the run. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxTries: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 300_000,
};

export type FailureAction =
  | { kind: "retry"; delayMs: number }
  | { kind: "give-up"; reason: string }
  | { kind: "fatal" };

/** What to do after send number `tryNumber` (1-based) failed with `error`. */
export function onFailure(error: unknown, tryNumber: number, random: () => number, policy: RetryPolicy = DEFAULT_RETRY): FailureAction {
  if (!(error instanceof ProviderError) || error instanceof AuthError || error instanceof BadRequestError) {
    return { kind: "fatal" };
  }
  const what = `${error.name}: ${error.message}`;
  if (!error.retryable) return { kind: "give-up", reason: what };
  if (tryNumber >= policy.maxTries) return { kind: "give-up", reason: `gave up after ${tryNumber} tries; last ${what}` };
  if (error.retryAfterMs !== undefined) {
    if (error.retryAfterMs > policy.maxRetryAfterMs) {
      return { kind: "give-up", reason: `the vendor asked to wait ${Math.round(error.retryAfterMs / 1000)} s; ${what}` };
    }
    return { kind: "retry", delayMs: Math.max(0, error.retryAfterMs) };
  }
  return { kind: "retry", delayMs: backoffMs(tryNumber, random, policy) };
}

/** Exponential backoff after send number `tryNumber`, with up to 25% jitter downwards. */
export function backoffMs(tryNumber: number, random: () => number, policy: RetryPolicy = DEFAULT_RETRY): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (tryNumber - 1));
  return ceiling * (1 - 0.25 * random());
}
