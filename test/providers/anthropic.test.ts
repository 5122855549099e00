/**
 * The Anthropic adapter against recorded Messages API replies (nock): what
 * it sends, what it reads, and how every failure is classified.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AuthError,
  BadRequestError,
  ConnectionError,
  MalformedResponseError,
  OverloadedError,
  ProviderError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "../../src/errors.ts";
import { createAnthropicProvider } from "../../src/providers/anthropic.ts";
import type { CompletionRequest } from "../../src/providers/types.ts";
import { type SentRequest, after, fixture, isolateNetwork, vendorScope } from "../helpers/vendor-replay.ts";

const KEY = "fake-anthropic-test-key-canary-AAAA";
const ORIGIN = "https://api.anthropic.com";
const NOW = Date.parse("2026-11-23T12:00:00Z");

const LIKERT_SCHEMA = {
  name: "likert answer",
  schema: {
    type: "object",
    properties: { answer: { type: "integer", enum: [1, 2, 3, 4] } },
    required: ["answer"],
    additionalProperties: false,
  },
};

function request(overrides: Partial<CompletionRequest> = {}): CompletionRequest {
  return {
    system: "You are a 47-year-old woman from Ohio who works as a nurse.",
    messages: [{ role: "user", content: "Do you approve of the way the president is handling his job? 1 = strongly approve … 4 = strongly disapprove." }],
    maxTokens: 200,
    temperature: 1,
    n: 1,
    answerSchema: LIKERT_SCHEMA,
    cacheSystemPrompt: true,
    ...overrides,
  };
}

function provider(options: { timeoutMs?: number } = {}) {
  return createAnthropicProvider("claude-sonnet-5-5", {
    apiKey: KEY,
    timeoutMs: options.timeoutMs ?? 5_000,
    env: { ANTHROPIC_API_KEY: KEY },
    now: () => NOW,
  });
}

const signal = () => new AbortController().signal;

/** The rejection of `promise`, which must reject. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

isolateNetwork({ beforeEach, afterEach });

describe("a successful call", () => {
  it("sends the Messages API body and headers the API reference describes", async () => {
    const sent: SentRequest[] = [];
    vendorScope(ORIGIN, sent).post("/v1/messages").reply(200, fixture("anthropic", "message-structured"), {
      "request-id": "req_011CSHoEeqs5C35K2UUqR7Fy",
      "anthropic-ratelimit-requests-remaining": "49",
      "anthropic-ratelimit-requests-reset": "2026-11-23T12:00:01Z",
      "anthropic-ratelimit-tokens-remaining": "39000",
      "anthropic-ratelimit-tokens-reset": "2026-11-23T12:00:04Z",
    });
    const result = await provider().complete(request(), { signal: signal() });

    expect(sent).toHaveLength(1);
    const { headers, body } = sent[0]!;
    expect(headers["anthropic-version"]).toBe("2026-10-21");
    // SDK 1.x sends the key as a bearer token; no x-api-key, no retries counted.
    expect(headers["authorization"]).toBe(`Bearer ${KEY}`);
    expect(headers["x-api-key"]).toBeUndefined();
    expect(headers["x-stainless-retry-count"]).toBe("0");
    expect(headers["content-type"]).toMatch(/application\/json/);
    expect(body).toEqual({
      model: "claude-sonnet-5-5",
      max_tokens: 200,
      system: [
        {
          type: "text",
          text: "You are a 47-year-old woman from Ohio who works as a nurse.",
          cache_control: { type: "ephemeral" },
        },
      ],
      messages: [{ role: "user", content: request().messages[0]!.content }],
      output_config: {
        format: {
          type: "json_schema",
          schema: {
            type: "object",
            properties: { answer: { enum: [1, 2, 3, 4] } },
            additionalProperties: false,
            required: ["answer"],
          },
        },
      },
    });
    expect(body).not.toHaveProperty("temperature");
    expect(body).not.toHaveProperty("tools");

    expect(result).toEqual({
      choices: [{ text: '{"answer":4}', finishReason: "end_turn" }],
      usage: { inputTokens: 112 + 1843, outputTokens: 9, cachedInputTokens: 1843, cacheWriteTokens: 0 },
      model: "claude-sonnet-5-5",
      requestId: "req_011CSHoEeqs5C35K2UUqR7Fy",
      rateLimit: { remainingRequests: 49, remainingTokens: 39000, resetRequestsMs: 1000, resetTokensMs: 4000 },
    });
  });

  it("leaves out the cache breakpoint and the output format when not asked for", async () => {
    const sent: SentRequest[] = [];
    vendorScope(ORIGIN, sent).post("/v1/messages").reply(200, fixture("anthropic", "message-structured"));
    await provider().complete(request({ cacheSystemPrompt: false, answerSchema: undefined }), { signal: signal() });
    expect(sent[0]!.body["system"]).toEqual([{ type: "text", text: request().system }]);
    expect(sent[0]!.body).not.toHaveProperty("output_config");
  });

  it("in a conversation that goes on, marks the last turn as a cache breakpoint too", async () => {
    const sent: SentRequest[] = [];
    vendorScope(ORIGIN, sent).post("/v1/messages").reply(200, fixture("anthropic", "message-structured"));
    const messages = [
      { role: "user" as const, content: "Question 1" },
      { role: "assistant" as const, content: '{"answer":2}' },
      { role: "user" as const, content: "Question 2" },
    ];
    await provider().complete(request({ messages, cacheMessages: true }), { signal: signal() });
    expect(sent[0]!.body["messages"]).toEqual([
      { role: "user", content: "Question 1" },
      { role: "assistant", content: '{"answer":2}' },
      { role: "user", content: [{ type: "text", text: "Question 2", cache_control: { type: "ephemeral" } }] },
    ]);
    expect((sent[0]!.body["system"] as { cache_control?: unknown }[])[0]!.cache_control).toEqual({ type: "ephemeral" });
  });

  it("moves schema keywords the API does not enforce into the description", async () => {
    const sent: SentRequest[] = [];
    vendorScope(ORIGIN, sent).post("/v1/messages").reply(200, fixture("anthropic", "message-thinking"));
    const thermometer = {
      name: "thermometer",
      schema: { type: "object", properties: { answer: { type: "number", minimum: 0, maximum: 100 } }, required: ["answer"] },
    };
    await provider().complete(request({ answerSchema: thermometer }), { signal: signal() });
    expect(sent[0]!.body["output_config"]).toEqual({
      format: {
        type: "json_schema",
        schema: {
          type: "object",
          properties: { answer: { type: "number", description: "{minimum: 0, maximum: 100}" } },
          additionalProperties: false,
          required: ["answer"],
        },
      },
    });
  });

  it("answers with the text blocks only, and counts cache writes as input", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(200, fixture("anthropic", "message-thinking"));
    const result = await provider().complete(request(), { signal: signal() });
    expect(result.choices).toEqual([{ text: '{"answer":72}', finishReason: "end_turn" }]);
    expect(result.usage).toEqual({ inputTokens: 15 + 1900, outputTokens: 141, cachedInputTokens: 0, cacheWriteTokens: 1900 });
    expect(result.rateLimit).toBeUndefined();
    expect(result.requestId).toBeUndefined();
  });

  it("records a refusal as such, with the vendor's explanation", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(200, fixture("anthropic", "message-refusal"));
    const result = await provider().complete(request(), { signal: signal() });
    expect(result.choices).toEqual([
      {
        text: "",
        finishReason: "refusal",
        refusal: "The request could be related to an area that was determined as harmful.",
      },
    ]);
    expect(result.usage).toEqual({ inputTokens: 230, outputTokens: 3, cachedInputTokens: 0, cacheWriteTokens: 0 });
  });
});

describe("requests the Messages API cannot take fail before any call", () => {
  // No interceptor is set up: a request would fail as a ConnectionError.
  it.each([
    ["a temperature other than 1", { temperature: 0.7 }, /accepts no temperature.*set temperature: 1/],
    ["n > 1", { n: 3 }, /one answer per call; got n = 3/],
    ["log-probabilities", { topLogprobs: 5 }, /no log-probabilities/],
    ["a schema without a type", { answerSchema: { name: "x", schema: { properties: {} } } }, /answer schema not usable/],
  ])("%s", async (_label, overrides, message) => {
    const error = await failure(provider().complete(request(overrides), { signal: signal() }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).retryable).toBe(false);
    expect((error as Error).message).toMatch(/^anthropic:claude-sonnet-5-5: /);
    expect((error as Error).message).toMatch(message);
  });
});

describe("HTTP errors become typed ProviderErrors", () => {
  it("429 with retry-after in seconds", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(429, fixture("anthropic", "error-rate-limit"), {
      "retry-after": "20",
      "request-id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    });
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(20_000);
    expect(error.status).toBe(429);
    expect(error.message).toBe(
      "anthropic:claude-sonnet-5-5: HTTP 429 rate_limit_error: This request would exceed your organization's rate limit of 50 requests per minute. " +
        "For details, refer to: https://docs.claude.com/en/api/rate-limits. (request id req_011CSHoEeqs5C35K2UUqR7Fy)",
    );
  });

  it("429 with retry-after as an HTTP date", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(429, fixture("anthropic", "error-rate-limit"), {
      "retry-after": "Mon, 23 Nov 2026 12:00:45 GMT",
    });
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as RateLimitError;
    expect(error.retryAfterMs).toBe(45_000);
  });

  it("429 without retry-after waits for the exhausted budget's reset", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(429, fixture("anthropic", "error-rate-limit"), {
      "anthropic-ratelimit-requests-remaining": "12",
      "anthropic-ratelimit-requests-reset": "2026-11-23T12:00:02Z",
      "anthropic-ratelimit-output-tokens-remaining": "0",
      "anthropic-ratelimit-output-tokens-reset": "2026-11-23T12:00:07Z",
    });
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as RateLimitError;
    expect(error.retryAfterMs).toBe(7_000);
  });

  it("429 for a spend limit is not retryable", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(429, fixture("anthropic", "error-spend-limit"));
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/rate_limit_error\/enforced_spend_limit_reached: .*retrying does not lift/);
  });

  it("529 overloaded_error", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(529, fixture("anthropic", "error-overloaded"));
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as OverloadedError;
    expect(error).toBeInstanceOf(OverloadedError);
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(529);
    expect(error.message).toBe("anthropic:claude-sonnet-5-5: HTTP 529 overloaded_error: Overloaded");
  });

  it("overloaded_error under another status is still an overload", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(503, fixture("anthropic", "error-overloaded"), { "retry-after": "3" });
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as OverloadedError;
    expect(error).toBeInstanceOf(OverloadedError);
    expect(error.retryAfterMs).toBe(3000);
  });

  it.each([500, 502, 503, 504])("%d is a retryable server error", async (status) => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(status, fixture("anthropic", "error-api"));
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as ServerError;
    expect(error).toBeInstanceOf(ServerError);
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(status);
  });

  it("a proxy's HTML error page becomes one short line", async () => {
    const page = `<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n${"<p>upstream</p>\n".repeat(100)}</body></html>`;
    vendorScope(ORIGIN, []).post("/v1/messages").reply(502, page, { "content-type": "text/html" });
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as ServerError;
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).not.toMatch(/\n/);
    expect(error.message.length).toBeLessThan(460);
    expect(error.message).toMatch(/^anthropic:claude-sonnet-5-5: HTTP 502: 502 <html> <head><title>502 Bad Gateway/);
  });

  it("x-should-retry: false overrides a 5xx", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(500, fixture("anthropic", "error-api"), { "x-should-retry": "false" });
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as ServerError;
    expect(error.retryable).toBe(false);
  });

  it("401 names the environment variable and never echoes the key", async () => {
    const echo = { type: "error", error: { type: "authentication_error", message: `invalid x-api-key: Bearer ${KEY}` } };
    vendorScope(ORIGIN, []).post("/v1/messages").reply(401, echo);
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      "anthropic:claude-sonnet-5-5: HTTP 401 authentication_error: invalid x-api-key: Bearer [redacted] — the key in ANTHROPIC_API_KEY was rejected",
    );
    expect(JSON.stringify(error)).not.toContain(KEY);
    expect(String(error.stack)).not.toContain(KEY);
  });

  it("403 is an auth error", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(403, { type: "error", error: { type: "permission_error", message: "no access" } });
    expect(await failure(provider().complete(request(), { signal: signal() }))).toBeInstanceOf(AuthError);
  });

  it("404 for an unknown model is a bad request with a hint", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(404, fixture("anthropic", "error-not-found"));
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as BadRequestError;
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/HTTP 404 not_found_error: model: claude-sonet-5-5 .* check the model name/);
  });
});

describe("transport failures", () => {
  it("a response later than the timeout is a retryable TimeoutError", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(after(3_000, [200, fixture("anthropic", "message-structured")]));
    const started = Date.now();
    const error = await failure(provider({ timeoutMs: 150 }).complete(request(), { signal: signal() }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("the caller's abort cancels the request and rejects with the caller's reason", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(after(3_000, [200, fixture("anthropic", "message-structured")]));
    const controller = new AbortController();
    const reason = new Error("run cancelled");
    setTimeout(() => controller.abort(reason), 50);
    const started = Date.now();
    const error = await failure(provider().complete(request(), { signal: controller.signal }));
    expect(error).toBe(reason);
    expect(error).not.toBeInstanceOf(ProviderError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("an already aborted signal sends nothing", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(provider().complete(request(), { signal: controller.signal }));
    expect((error as DOMException).name).toBe("AbortError");
  });

  it("a connection reset is a retryable ConnectionError", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").replyWithError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as ConnectionError;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe("anthropic:claude-sonnet-5-5: connection failed: ECONNRESET socket hang up");
  });
});

describe("malformed 2xx bodies", () => {
  it("truncated JSON", async () => {
    const full = JSON.stringify(fixture("anthropic", "message-structured"));
    vendorScope(ORIGIN, []).post("/v1/messages").reply(200, full.slice(0, 80), { "content-type": "application/json" });
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as MalformedResponseError;
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/^anthropic:claude-sonnet-5-5: malformed response: body is not valid JSON/);
  });

  it("JSON without the fields a message has", async () => {
    const { usage: _dropped, ...rest } = fixture("anthropic", "message-structured");
    vendorScope(ORIGIN, []).post("/v1/messages").reply(200, rest);
    const error = (await failure(provider().complete(request(), { signal: signal() }))) as MalformedResponseError;
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(/malformed response: not a Messages API message \(usage: /);
    expect(error.status).toBe(200);
  });

  it("a body that is not JSON at all", async () => {
    vendorScope(ORIGIN, []).post("/v1/messages").reply(200, "<html>captive portal</html>", { "content-type": "text/html" });
    const error = await failure(provider().complete(request(), { signal: signal() }));
    expect(error).toBeInstanceOf(MalformedResponseError);
  });
});
