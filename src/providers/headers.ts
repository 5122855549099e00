/**
 * What the vendors' response headers say about rate limits and when to
 * retry. Pure functions over a `Headers` object and a clock, so the engine's
 * rate limiter and backoff get numbers, never header strings.
 */
import type { RateLimitState } from "./types.ts";

/** Milliseconds since the epoch; injected so tests need no fake timers. */
export type Clock = () => number;

/** A finite, non-negative number from a header, or undefined. */
function headerNumber(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === "") return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Milliseconds from now until an absolute time (RFC 3339 or HTTP date), never negative. */
function msUntil(text: string | null, now: Clock): number | undefined {
  if (text === null || text.trim() === "") return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now());
}

const DURATION_UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 1e-3, "µs": 1e-3, ns: 1e-6 };

/**
 * Parses a Go-style duration as OpenAI sends in `x-ratelimit-reset-*`:
 * "1s", "6m0s", "120ms", "1h2m3.5s", "0s". Returns milliseconds, or
 * undefined when the text is not such a duration.
 */
export function parseDuration(text: string | null): number | undefined {
  if (text === null) return undefined;
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const part = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/y;
  let total = 0;
  let index = 0;
  while (index < trimmed.length) {
    part.lastIndex = index;
    const match = part.exec(trimmed);
    if (match === null) return undefined;
    total += Number(match[1]) * DURATION_UNIT_MS[match[2]!]!;
    index = part.lastIndex;
  }
  return total;
}

/**
 * How long the vendor asked us to wait: `retry-after-ms` (OpenAI), else
 * `retry-after` as seconds or an HTTP date. Undefined when absent or
 * unreadable. Values are not capped here; the engine decides how long it is
 * willing to wait.
 */
export function retryAfterMs(headers: Headers, now: Clock = Date.now): number | undefined {
  const ms = headerNumber(headers, "retry-after-ms");
  if (ms !== undefined) return ms;
  const raw = headers.get("retry-after");
  if (raw === null || raw.trim() === "") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  return msUntil(raw, now);
}

function minDefined(...values: (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length === 0 ? undefined : Math.min(...defined);
}

function maxDefined(...values: (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length === 0 ? undefined : Math.max(...defined);
}

function compact(state: RateLimitState): RateLimitState | undefined {
  const entries = Object.entries(state).filter(([, v]) => v !== undefined);
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as RateLimitState);
}

/**
 * Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{remaining,reset}`,
 * resets as RFC 3339 times. `tokens-*` is the most restrictive token limit in
 * effect; when absent, the tighter of the input and output limits stands in.
 */
export function anthropicRateLimit(headers: Headers, now: Clock = Date.now): RateLimitState | undefined {
  const prefix = "anthropic-ratelimit-";
  const remaining = (kind: string) => headerNumber(headers, `${prefix}${kind}-remaining`);
  const reset = (kind: string) => msUntil(headers.get(`${prefix}${kind}-reset`), now);
  const combinedTokens = remaining("tokens");
  return compact({
    remainingRequests: remaining("requests"),
    remainingTokens: combinedTokens ?? minDefined(remaining("input-tokens"), remaining("output-tokens")),
    resetRequestsMs: reset("requests"),
    resetTokensMs:
      combinedTokens !== undefined ? reset("tokens") : maxDefined(reset("input-tokens"), reset("output-tokens")),
  });
}

/** OpenAI: `x-ratelimit-remaining-{requests,tokens}` and `x-ratelimit-reset-{requests,tokens}` (durations). */
export function openaiRateLimit(headers: Headers): RateLimitState | undefined {
  return compact({
    remainingRequests: headerNumber(headers, "x-ratelimit-remaining-requests"),
    remainingTokens: headerNumber(headers, "x-ratelimit-remaining-tokens"),
    resetRequestsMs: parseDuration(headers.get("x-ratelimit-reset-requests")),
    resetTokensMs: parseDuration(headers.get("x-ratelimit-reset-tokens")),
  });
}

/**
 * When a 429 carries no retry-after, the exhausted budget's reset time is
 * the best guess of when a retry can succeed: the later reset among the
 * budgets that are at zero.
 */
export function waitFromRateLimit(state: RateLimitState | undefined): number | undefined {
  if (state === undefined) return undefined;
  return maxDefined(
    state.remainingRequests === 0 ? state.resetRequestsMs : undefined,
    state.remainingTokens === 0 ? state.resetTokensMs : undefined,
  );
}
