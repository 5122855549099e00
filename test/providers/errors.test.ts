import { describe, expect, it } from "vitest";
import { scrub, vendorErrorBody } from "../../src/providers/errors.ts";

describe("vendorErrorBody", () => {
  it("reads Anthropic's envelope, preferring details.error_code as the code", () => {
    expect(
      vendorErrorBody({
        type: "error",
        error: { type: "rate_limit_error", message: "slow down", details: { error_code: "enforced_spend_limit_reached" } },
        request_id: "req_1",
      }),
    ).toEqual({ type: "rate_limit_error", code: "enforced_spend_limit_reached", message: "slow down" });
  });
  it("reads OpenAI's envelope and its inner object alike", () => {
    const inner = { message: "quota", type: "insufficient_quota", param: null, code: "insufficient_quota" };
    expect(vendorErrorBody({ error: inner })).toEqual({ type: "insufficient_quota", code: "insufficient_quota", message: "quota" });
    expect(vendorErrorBody(inner)).toEqual({ type: "insufficient_quota", code: "insufficient_quota", message: "quota" });
  });
  it("tolerates anything else", () => {
    expect(vendorErrorBody(undefined)).toEqual({});
    expect(vendorErrorBody("<html>")).toEqual({});
    expect(vendorErrorBody({ error: "just a string" })).toEqual({});
  });
});

describe("scrub", () => {
  const ctx = { secrets: ["sk-live-123456789"], env: { MY_API_KEY: "abcdefgh12345", SHORT_TOKEN: "abc" } };
  it("removes the key in use and secret-looking environment values, but not short ones", () => {
    expect(scrub("key sk-live-123456789 and abcdefgh12345 and abc", ctx)).toBe("key [redacted] and [redacted] and abc");
  });
  it("makes one bounded line", () => {
    const out = scrub(`a\n\tb ${"x".repeat(1000)}`, ctx);
    expect(out.startsWith("a b x")).toBe(true);
    expect(out).toHaveLength(400);
    expect(out.endsWith("…")).toBe(true);
  });
});
