import { describe, expect, it } from "vitest";
import {
  AuthError,
  BadRequestError,
  ConnectionError,
  MalformedResponseError,
  OverloadedError,
  RateLimitError,
  ServerError,
} from "../../src/errors.ts";
import { backoffMs, DEFAULT_RETRY, onFailure } from "../../src/generation/retry.ts";

const never = () => 0;

describe("onFailure", () => {
  it("honours the vendor's retry-after exactly", () => {
    const error = new RateLimitError("openai", "429 Too Many Requests", { status: 429, retryable: true, retryAfterMs: 7_250 });
    expect(onFailure(error, 1, () => 0.9)).toEqual({ kind: "retry", delayMs: 7_250 });
  });

  it("backs off exponentially with jitter when there is no retry-after", () => {
    const error = new ServerError("openai", "500", { status: 500, retryable: true });
    expect(onFailure(error, 1, never)).toEqual({ kind: "retry", delayMs: 500 });
    expect(onFailure(error, 3, never)).toEqual({ kind: "retry", delayMs: 2_000 });
    expect(onFailure(error, 3, () => 1)).toEqual({ kind: "retry", delayMs: 1_500 });
    expect(backoffMs(10, never)).toBe(30_000); // capped
  });

  it("gives up after maxTries with the last error as the reason", () => {
    const error = new OverloadedError("anthropic", "529 overloaded", { status: 529, retryable: true });
    expect(onFailure(error, DEFAULT_RETRY.maxTries, never)).toEqual({
      kind: "give-up",
      reason: "gave up after 6 tries; last OverloadedError: anthropic: 529 overloaded",
    });
  });

  it("gives up at once on a non-retryable vendor failure", () => {
    const error = new MalformedResponseError("openai", "body is not JSON", { retryable: false });
    expect(onFailure(error, 1, never)).toEqual({ kind: "give-up", reason: "MalformedResponseError: openai: body is not JSON" });
  });

  it("gives up rather than stall on a retry-after beyond the limit", () => {
    const error = new RateLimitError("openai", "429", { status: 429, retryable: true, retryAfterMs: 3_600_000 });
    expect(onFailure(error, 1, never)).toMatchObject({ kind: "give-up" });
  });

  it("stops the run on a bad key, a bad request or a bug", () => {
    expect(onFailure(new AuthError("openai", "401", { status: 401, retryable: false }), 1, never)).toEqual({ kind: "fatal" });
    expect(onFailure(new BadRequestError("openai", "404 model", { status: 404, retryable: false }), 1, never)).toEqual({ kind: "fatal" });
    expect(onFailure(new TypeError("x is undefined"), 1, never)).toEqual({ kind: "fatal" });
  });

  it("retries connection resets", () => {
    const error = new ConnectionError("openai", "ECONNRESET", { retryable: true });
    expect(onFailure(error, 2, never)).toEqual({ kind: "retry", delayMs: 1_000 });
  });
});
