import { describe, expect, it } from "vitest";
import {
  anthropicRateLimit,
  openaiRateLimit,
  parseDuration,
  retryAfterMs,
  waitFromRateLimit,
} from "../../src/providers/headers.ts";

const NOW = Date.parse("2026-11-23T12:00:00Z");
const clock = () => NOW;

describe("parseDuration (OpenAI x-ratelimit-reset-*)", () => {
  it.each([
    ["1s", 1000],
    ["6m0s", 360_000],
    ["120ms", 120],
    ["20.5s", 20_500],
    ["1h2m3.5s", 3_723_500],
    ["0s", 0],
    ["17ms", 17],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(["", "soon", "5", "1x", "m1s", "1s junk"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe("retryAfterMs", () => {
  it("prefers retry-after-ms", () => {
    expect(retryAfterMs(new Headers({ "retry-after-ms": "1500", "retry-after": "9" }), clock)).toBe(1500);
  });
  it("reads retry-after seconds, fractional too", () => {
    expect(retryAfterMs(new Headers({ "retry-after": "20" }), clock)).toBe(20_000);
    expect(retryAfterMs(new Headers({ "retry-after": "0.25" }), clock)).toBe(250);
  });
  it("reads retry-after as an HTTP date relative to the clock", () => {
    expect(retryAfterMs(new Headers({ "retry-after": "Mon, 23 Nov 2026 12:00:30 GMT" }), clock)).toBe(30_000);
    // a date in the past means "now", not a negative wait
    expect(retryAfterMs(new Headers({ "retry-after": "Mon, 23 Nov 2026 11:59:00 GMT" }), clock)).toBe(0);
  });
  it("ignores absent, negative and unreadable values", () => {
    expect(retryAfterMs(new Headers(), clock)).toBeUndefined();
    expect(retryAfterMs(new Headers({ "retry-after": "-3" }), clock)).toBeUndefined();
    expect(retryAfterMs(new Headers({ "retry-after": "whenever" }), clock)).toBeUndefined();
  });
});

describe("anthropicRateLimit", () => {
  it("reads requests and the combined token budget with RFC 3339 resets", () => {
    const headers = new Headers({
      "anthropic-ratelimit-requests-limit": "4000",
      "anthropic-ratelimit-requests-remaining": "3999",
      "anthropic-ratelimit-requests-reset": "2026-11-23T12:00:06Z",
      "anthropic-ratelimit-tokens-limit": "480000",
      "anthropic-ratelimit-tokens-remaining": "478000",
      "anthropic-ratelimit-tokens-reset": "2026-11-23T12:00:01.5Z",
      "anthropic-ratelimit-input-tokens-remaining": "400000",
      "anthropic-ratelimit-output-tokens-remaining": "78000",
    });
    expect(anthropicRateLimit(headers, clock)).toEqual({
      remainingRequests: 3999,
      remainingTokens: 478000,
      resetRequestsMs: 6000,
      resetTokensMs: 1500,
    });
  });
  it("falls back to the tighter of input and output token budgets", () => {
    const headers = new Headers({
      "anthropic-ratelimit-input-tokens-remaining": "400000",
      "anthropic-ratelimit-input-tokens-reset": "2026-11-23T12:00:02Z",
      "anthropic-ratelimit-output-tokens-remaining": "0",
      "anthropic-ratelimit-output-tokens-reset": "2026-11-23T12:00:09Z",
    });
    expect(anthropicRateLimit(headers, clock)).toEqual({ remainingTokens: 0, resetTokensMs: 9000 });
  });
  it("is undefined without rate-limit headers (a proxy, a compatible server)", () => {
    expect(anthropicRateLimit(new Headers({ "content-type": "application/json" }), clock)).toBeUndefined();
  });
});

describe("openaiRateLimit", () => {
  it("reads remaining counts and duration resets", () => {
    const headers = new Headers({
      "x-ratelimit-limit-requests": "5000",
      "x-ratelimit-remaining-requests": "4999",
      "x-ratelimit-reset-requests": "12ms",
      "x-ratelimit-limit-tokens": "160000",
      "x-ratelimit-remaining-tokens": "159976",
      "x-ratelimit-reset-tokens": "6m0s",
    });
    expect(openaiRateLimit(headers)).toEqual({
      remainingRequests: 4999,
      remainingTokens: 159976,
      resetRequestsMs: 12,
      resetTokensMs: 360_000,
    });
  });
  it("skips Azure-style -1 placeholders", () => {
    expect(openaiRateLimit(new Headers({ "x-ratelimit-remaining-tokens": "-1" }))).toBeUndefined();
  });
});

describe("waitFromRateLimit", () => {
  it("waits for the later reset among exhausted budgets", () => {
    expect(waitFromRateLimit({ remainingRequests: 0, resetRequestsMs: 800, remainingTokens: 0, resetTokensMs: 3000 })).toBe(3000);
    expect(waitFromRateLimit({ remainingRequests: 0, resetRequestsMs: 800, remainingTokens: 10, resetTokensMs: 3000 })).toBe(800);
    expect(waitFromRateLimit({ remainingRequests: 5, resetRequestsMs: 800 })).toBeUndefined();
    expect(waitFromRateLimit(undefined)).toBeUndefined();
  });
});
