/**
 * The OpenAI adapter against recorded Chat Completions replies (nock), on
 * api.openai.com and on an OpenAI-compatible base URL (vLLM, Ollama).
 */
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AuthError,
  BadRequestError,
  ConnectionError,
  UnreachableError,
  MalformedResponseError,
  RateLimitError,
  ServerError,
  TimeoutError,
  UsageError,
} from "../../src/errors.ts";
import { createOpenAIProvider, resolveOpenAIFeatures } from "../../src/providers/openai.ts";
import type { CompletionRequest } from "../../src/providers/types.ts";
import { generate } from "../../src/generation/run.ts";
import { ManualClock } from "../helpers/clock.ts";
import { fakeDeps, TEST_PRICE } from "../helpers/fake-provider.ts";
import { makeStudy } from "../helpers/study.ts";
import { useTempDir } from "../helpers/tmp.ts";
import { type SentRequest, after, fixture, isolateNetwork, vendorScope } from "../helpers/vendor-replay.ts";

const KEY = "fake-openai-test-key-canary-ZZZZ";
const ORIGIN = "https://api.openai.com";
const LOCAL = "http://vllm.lab.internal:8000";

const CHOICE_SCHEMA = {
  name: "party id",
  schema: {
    type: "object",
    properties: { answer: { type: "integer", enum: [1, 2, 3] } },
    required: ["answer"],
    additionalProperties: false,
  },
};

function request(overrides: Partial<CompletionRequest> = {}): CompletionRequest {
  return {
    system: "You are a 62-year-old retired teacher from rural Georgia.",
    messages: [{ role: "user", content: "Generally speaking, do you think of yourself as a Republican (1), a Democrat (2) or an independent (3)?" }],
    maxTokens: 200,
    temperature: 1,
    n: 1,
    answerSchema: CHOICE_SCHEMA,
    ...overrides,
  };
}

function official(options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  return createOpenAIProvider("gpt-6-luna", {
    apiKey: KEY,
    timeoutMs: options.timeoutMs ?? 5_000,
    env: options.env ?? { OPENAI_API_KEY: KEY },
  });
}

function selfHosted(env: NodeJS.ProcessEnv = {}) {
  return createOpenAIProvider("meta-llama/Llama-3.3-70B-Instruct", { baseURL: `${LOCAL}/v1`, timeoutMs: 5_000, env });
}

const signal = () => new AbortController().signal;
const tempDir = useTempDir();

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

isolateNetwork({ beforeEach, afterEach });

describe("api.openai.com", () => {
  it("sends a strict json_schema chat completion and reads cached-token usage and rate limits", async () => {
    const sent: SentRequest[] = [];
    vendorScope(ORIGIN, sent).post("/v1/chat/completions").reply(200, fixture("openai", "chat-structured"), {
      "x-request-id": "req_7d0c5a0fb3e54f4c9d2e5c8b1a2f3e4d",
      "x-ratelimit-remaining-requests": "9999",
      "x-ratelimit-remaining-tokens": "3997994",
      "x-ratelimit-reset-requests": "6ms",
      "x-ratelimit-reset-tokens": "30ms",
    });
    const result = await official().complete(request({ seed: 42 }), { signal: signal() });

    expect(sent).toHaveLength(1);
    const { path, headers, body } = sent[0]!;
    expect(path).toBe("/v1/chat/completions");
    expect(headers["authorization"]).toBe(`Bearer ${KEY}`);
    expect(headers["x-stainless-retry-count"]).toBe("0");
    expect(body).toEqual({
      model: "gpt-6-luna",
      messages: [
        { role: "system", content: request().system },
        { role: "user", content: request().messages[0]!.content },
      ],
      max_completion_tokens: 200,
      seed: 42,
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "party_id",
          strict: true,
          schema: {
            type: "object",
            properties: { answer: { type: "integer", enum: [1, 2, 3] } },
            required: ["answer"],
            additionalProperties: false,
          },
        },
      },
    });
    // temperature 1 is the API default; reasoning models reject the field.
    expect(body).not.toHaveProperty("temperature");
    expect(body).not.toHaveProperty("n");

    expect(result).toEqual({
      choices: [{ text: '{"answer":2}', finishReason: "stop" }],
      usage: { inputTokens: 2006, outputTokens: 7, cachedInputTokens: 1920, cacheWriteTokens: 0 },
      model: "gpt-6-luna-2026-09-22",
      requestId: "req_7d0c5a0fb3e54f4c9d2e5c8b1a2f3e4d",
      rateLimit: { remainingRequests: 9999, remainingTokens: 3997994, resetRequestsMs: 6, resetTokensMs: 30 },
    });
  });

  it("sends a temperature other than 1", async () => {
    const sent: SentRequest[] = [];
    vendorScope(ORIGIN, sent).post("/v1/chat/completions").reply(200, fixture("openai", "chat-structured"));
    await official().complete(request({ temperature: 0.7 }), { signal: signal() });
    expect(sent[0]!.body["temperature"]).toBe(0.7);
  });

  it("asks for n choices with first-token log-probabilities, in index order", async () => {
    const sent: SentRequest[] = [];
    vendorScope(ORIGIN, sent).post("/v1/chat/completions").reply(200, fixture("openai", "chat-n3-logprobs"));
    const result = await official().complete(request({ n: 3, topLogprobs: 3, answerSchema: undefined }), { signal: signal() });
    expect(sent[0]!.body).toMatchObject({ n: 3, logprobs: true, top_logprobs: 3 });
    expect(sent[0]!.body).not.toHaveProperty("response_format");
    const top = [
      { token: "2", logprob: -0.4 },
      { token: "1", logprob: -1.3 },
      { token: "3", logprob: -2.6 },
    ];
    expect(result.choices).toEqual([
      { text: "1", finishReason: "stop", topLogprobs: top },
      { text: "2", finishReason: "stop", topLogprobs: top },
      { text: "2", finishReason: "length", topLogprobs: top },
    ]);
    expect(result.usage).toEqual({ inputTokens: 412, outputTokens: 3, cachedInputTokens: 0, cacheWriteTokens: 0 });
  });

  it("records message.refusal as a refusal, with cache-write usage", async () => {
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(200, fixture("openai", "chat-refusal"));
    const result = await official().complete(request(), { signal: signal() });
    expect(result.choices).toEqual([{ text: "", finishReason: "stop", refusal: "I'm sorry, I can't answer as this person." }]);
    expect(result.usage).toEqual({ inputTokens: 530, outputTokens: 12, cachedInputTokens: 0, cacheWriteTokens: 512 });
  });

  it("records a content filter stop as a refusal", async () => {
    const body = fixture("openai", "chat-structured");
    const choices = [{ index: 0, message: { role: "assistant", content: null, refusal: null }, logprobs: null, finish_reason: "content_filter" }];
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(200, { ...body, choices });
    const result = await official().complete(request(), { signal: signal() });
    expect(result.choices).toEqual([{ text: "", finishReason: "content_filter", refusal: "content_filter" }]);
  });

  it("rejects a schema strict mode cannot represent before any call", async () => {
    const loose = { name: "x", schema: { type: "object", properties: { answer: { type: "integer" }, why: { type: "string" } }, required: ["answer"] } };
    const error = (await failure(official().complete(request({ answerSchema: loose }), { signal: signal() }))) as BadRequestError;
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^openai:gpt-6-luna: answer schema not usable for strict structured output: .*properties\/why/);
  });
});

describe("errors from api.openai.com", () => {
  it("429 with retry-after-ms", async () => {
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(429, fixture("openai", "error-rate-limit"), {
      "retry-after-ms": "67",
      "retry-after": "1",
      "x-request-id": "req_abc",
    });
    const error = (await failure(official().complete(request(), { signal: signal() }))) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(67);
    expect(error.message).toMatch(/^openai:gpt-6-luna: HTTP 429 tokens\/rate_limit_exceeded: Rate limit reached .*\(request id req_abc\)$/);
  });

  it("429 with retry-after in seconds", async () => {
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(429, fixture("openai", "error-rate-limit"), { "retry-after": "2" });
    const error = (await failure(official().complete(request(), { signal: signal() }))) as RateLimitError;
    expect(error.retryAfterMs).toBe(2000);
  });

  it("429 without retry-after uses the exhausted budget's reset", async () => {
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(429, fixture("openai", "error-rate-limit"), {
      "x-ratelimit-remaining-tokens": "0",
      "x-ratelimit-reset-tokens": "1.5s",
      "x-ratelimit-remaining-requests": "40",
      "x-ratelimit-reset-requests": "8s",
    });
    const error = (await failure(official().complete(request(), { signal: signal() }))) as RateLimitError;
    expect(error.retryAfterMs).toBe(1500);
  });

  it("429 insufficient_quota is not retryable", async () => {
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(429, fixture("openai", "error-quota"));
    const error = (await failure(official().complete(request(), { signal: signal() }))) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.retryable).toBe(false);
  });

  it.each([500, 502, 503])("%d is a retryable ServerError", async (status) => {
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(status, fixture("openai", "error-server"));
    const error = (await failure(official().complete(request(), { signal: signal() }))) as ServerError;
    expect(error).toBeInstanceOf(ServerError);
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(status);
  });

  it("404 model_not_found is a bad request", async () => {
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(404, fixture("openai", "error-model-not-found"));
    const error = (await failure(official().complete(request(), { signal: signal() }))) as BadRequestError;
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      "openai:gpt-6-luna: HTTP 404 invalid_request_error/model_not_found: The model `gpt-6-lunar` does not exist or you do not have access to it. — check the model name and the base URL",
    );
  });

  it("401 names OPENAI_API_KEY and hides the key even when the body echoes it", async () => {
    const echo = { error: { message: `Incorrect API key provided: ${KEY}.`, type: "invalid_request_error", param: null, code: "invalid_api_key" } };
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(401, echo);
    const error = (await failure(official().complete(request(), { signal: signal() }))) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe(
      "openai:gpt-6-luna: HTTP 401 invalid_request_error/invalid_api_key: Incorrect API key provided: [redacted]. — the key in OPENAI_API_KEY was rejected",
    );
    expect(String(error.stack)).not.toContain(KEY);
  });

  it("a secret of the environment in a message is hidden too", async () => {
    const other = "hf_othersecret0123456789";
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(400, { error: { message: `bad header ${other}`, type: "invalid_request_error" } });
    const error = (await failure(official({ env: { HF_TOKEN: other } }).complete(request(), { signal: signal() }))) as BadRequestError;
    expect(error.message).toContain("bad header [redacted]");
  });

  it("timeouts, resets and truncated bodies", async () => {
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(after(3_000, [200, fixture("openai", "chat-structured")]));
    expect(await failure(official({ timeoutMs: 150 }).complete(request(), { signal: signal() }))).toBeInstanceOf(TimeoutError);

    vendorScope(ORIGIN, []).post("/v1/chat/completions").replyWithError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { code: "ECONNREFUSED" }));
    const refused = (await failure(official().complete(request(), { signal: signal() }))) as UnreachableError;
    // Never connected: a failure the dead-server breaker counts (src/generation/breaker.ts).
    expect(refused).toBeInstanceOf(UnreachableError);
    expect(refused.reason).toBe("connection refused (ECONNREFUSED)");
    expect(refused.message).toBe("openai:gpt-6-luna: cannot connect: connection refused (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:443");

    const full = JSON.stringify(fixture("openai", "chat-structured"));
    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(200, full.slice(0, full.length - 40), { "content-type": "application/json" });
    expect(await failure(official().complete(request(), { signal: signal() }))).toBeInstanceOf(MalformedResponseError);

    vendorScope(ORIGIN, []).post("/v1/chat/completions").reply(200, { id: "x", object: "chat.completion", choices: [] });
    const empty = (await failure(official().complete(request(), { signal: signal() }))) as MalformedResponseError;
    expect(empty.message).toMatch(/not a chat completion \(choices: /);
  });
});

describe("an OpenAI-compatible server at a custom base URL", () => {
  it("sends no Authorization header without a key, max_tokens, and always the temperature", async () => {
    const sent: SentRequest[] = [];
    vendorScope(LOCAL, sent).post("/v1/chat/completions").reply(200, fixture("openai", "vllm-chat"));
    const result = await selfHosted().complete(request(), { signal: signal() });
    const { headers, body } = sent[0]!;
    expect(headers["authorization"]).toBeUndefined();
    expect(body).toMatchObject({ model: "meta-llama/Llama-3.3-70B-Instruct", max_tokens: 200, temperature: 1 });
    expect(body).not.toHaveProperty("max_completion_tokens");
    expect(result).toEqual({
      choices: [{ text: '{"answer": 3}', finishReason: "stop" }],
      usage: { inputTokens: 301, outputTokens: 7, cachedInputTokens: 0, cacheWriteTokens: 0 },
      model: "meta-llama/Llama-3.3-70B-Instruct",
    });
  });

  it("sends the key when one is set (a hosted compatible service)", async () => {
    const sent: SentRequest[] = [];
    vendorScope(LOCAL, sent).post("/v1/chat/completions").reply(200, fixture("openai", "vllm-chat"));
    const provider = createOpenAIProvider("m", { apiKey: KEY, baseURL: `${LOCAL}/v1`, timeoutMs: 5_000, env: {} });
    await provider.complete(request(), { signal: signal() });
    expect(sent[0]!.headers["authorization"]).toBe(`Bearer ${KEY}`);
  });

  it("a server that wants a key after all says which variable to set", async () => {
    vendorScope(LOCAL, []).post("/v1/chat/completions").reply(401, { error: { message: "Unauthorized", type: "auth_error" } });
    const error = (await failure(selfHosted().complete(request(), { signal: signal() }))) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe(
      "openai:meta-llama/Llama-3.3-70B-Instruct: HTTP 401 auth_error: Unauthorized — the server wants a key: set OPENAI_API_KEY",
    );
  });

  it("does not send n by default: the engine makes k calls", async () => {
    expect(selfHosted().capabilities).toEqual({
      multipleChoices: false,
      answerSchema: true,
      logprobs: true,
      promptCaching: false,
      temperature: true,
    });
    const error = (await failure(selfHosted().complete(request({ n: 2 }), { signal: signal() }))) as BadRequestError;
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.message).toMatch(/n = 2 asked of a server configured without n/);
  });

  it("with SILICON_OPENAI_N=true sends n, and a server that ignores it is caught", async () => {
    const sent: SentRequest[] = [];
    vendorScope(LOCAL, sent).post("/v1/chat/completions").reply(200, fixture("openai", "vllm-chat"));
    const provider = selfHosted({ SILICON_OPENAI_N: "true" });
    expect(provider.capabilities.multipleChoices).toBe(true);
    const error = (await failure(provider.complete(request({ n: 3 }), { signal: signal() }))) as MalformedResponseError;
    expect(sent[0]!.body["n"]).toBe(3);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/asked for 3 choices and got 1; if the server ignores n, set SILICON_OPENAI_N=false/);
  });

  it("SILICON_OPENAI_STRUCTURED_OUTPUT=json_object puts the schema in the prompt and asks for JSON mode", async () => {
    const sent: SentRequest[] = [];
    vendorScope(LOCAL, sent).post("/v1/chat/completions").reply(200, fixture("openai", "vllm-chat"));
    const provider = selfHosted({ SILICON_OPENAI_STRUCTURED_OUTPUT: "json_object" });
    expect(provider.capabilities.answerSchema).toBe(false);
    await provider.complete(request(), { signal: signal() });
    const body = sent[0]!.body;
    expect(body["response_format"]).toEqual({ type: "json_object" });
    const messages = body["messages"] as { role: string; content: string }[];
    expect(messages).toHaveLength(2);
    expect(messages[0]).toEqual({ role: "system", content: request().system });
    expect(messages[1]!.content).toBe(
      `${request().messages[0]!.content}\n\nAnswer with only a JSON object that matches this JSON schema: ${JSON.stringify(CHOICE_SCHEMA.schema)}`,
    );
  });

  for (const mode of ["json_object", "none"] as const) {
    it(`SILICON_OPENAI_STRUCTURED_OUTPUT=${mode} reaches the wire from a structured study run (generate)`, async () => {
      const sent: SentRequest[] = [];
      vendorScope(LOCAL, sent).post("/v1/chat/completions").times(3).reply(200, fixture("openai", "vllm-chat"));
      const provider = selfHosted({ SILICON_OPENAI_STRUCTURED_OUTPUT: mode });
      const study = makeStudy({ respondents: 1, items: [{ id: "approve", type: "binary", text: "Approve?" }], study: { models: [provider.id] } });
      const summary = await generate(study, { deps: fakeDeps(provider, TEST_PRICE), clock: new ManualClock(), resultsDir: tempDir() });
      expect(summary.kind).toBe("run");
      expect(sent.length).toBeGreaterThan(0);
      const body = sent[0]!.body;
      if (mode === "json_object") expect(body["response_format"]).toEqual({ type: "json_object" });
      else expect(body).not.toHaveProperty("response_format");
      const messages = body["messages"] as { role: string; content: string }[];
      expect(messages.at(-1)!.content).toMatch(/\n\nAnswer with only a JSON object that matches this JSON schema: \{"type":"object"/);
    });
  }

  it("SILICON_OPENAI_STRUCTURED_OUTPUT=none sends no response_format", async () => {
    const sent: SentRequest[] = [];
    vendorScope(LOCAL, sent).post("/v1/chat/completions").reply(200, fixture("openai", "vllm-chat"));
    await selfHosted({ SILICON_OPENAI_STRUCTURED_OUTPUT: "none" }).complete(request(), { signal: signal() });
    expect(sent[0]!.body).not.toHaveProperty("response_format");
    expect(JSON.stringify(sent[0]!.body["messages"])).toContain("matches this JSON schema");
  });

  it("SILICON_OPENAI_LOGPROBS=false refuses log-probabilities before any call", async () => {
    const provider = selfHosted({ SILICON_OPENAI_LOGPROBS: "no" });
    expect(provider.capabilities.logprobs).toBe(false);
    expect(await failure(provider.complete(request({ topLogprobs: 5 }), { signal: signal() }))).toBeInstanceOf(BadRequestError);
  });
});

describe("resolveOpenAIFeatures", () => {
  it("defaults by endpoint", () => {
    expect(resolveOpenAIFeatures(undefined, {})).toEqual({ officialEndpoint: true, multipleChoices: true, structuredOutput: "json_schema", logprobs: true });
    expect(resolveOpenAIFeatures("https://api.openai.com/v1", {})).toMatchObject({ officialEndpoint: true, multipleChoices: true });
    expect(resolveOpenAIFeatures("http://localhost:11434/v1", {})).toEqual({ officialEndpoint: false, multipleChoices: false, structuredOutput: "json_schema", logprobs: true });
  });
  it("explicit options win over the environment", () => {
    expect(resolveOpenAIFeatures(undefined, { SILICON_OPENAI_N: "false" }, { multipleChoices: true }).multipleChoices).toBe(true);
    expect(resolveOpenAIFeatures(undefined, { SILICON_OPENAI_N: "0" }).multipleChoices).toBe(false);
  });
  it("a bad value names the variable and what it takes", () => {
    expect(() => resolveOpenAIFeatures(undefined, { SILICON_OPENAI_N: "maybe" })).toThrow(UsageError);
    expect(() => resolveOpenAIFeatures(undefined, { SILICON_OPENAI_N: "maybe" })).toThrow(
      'environment variable SILICON_OPENAI_N: expected true or false, got "maybe"',
    );
    expect(() => resolveOpenAIFeatures(undefined, { SILICON_OPENAI_STRUCTURED_OUTPUT: "xml" })).toThrow(
      'environment variable SILICON_OPENAI_STRUCTURED_OUTPUT: expected one of json_schema, json_object, none, got "xml"',
    );
  });
});

describe("prompt caching", () => {
  it("routes requests sharing a persona to one cache with prompt_cache_key on api.openai.com, not elsewhere", async () => {
    const sent: SentRequest[] = [];
    vendorScope(ORIGIN, sent).post("/v1/chat/completions").times(2).reply(200, fixture("openai", "chat-structured"));
    vendorScope(LOCAL, sent).post("/v1/chat/completions").reply(200, fixture("openai", "vllm-chat"));
    await official().complete(request({ cacheSystemPrompt: true }), { signal: signal() });
    await official().complete(request({ cacheSystemPrompt: true, messages: [{ role: "user", content: "Another question?" }] }), { signal: signal() });
    await selfHosted().complete(request({ cacheSystemPrompt: true, answerSchema: undefined }), { signal: signal() });
    // sha256 of the persona, so the same persona always gets the same key.
    const key = "silicon-" + createHash("sha256").update(request().system).digest("hex").slice(0, 32);
    expect(sent.map((s) => s.body["prompt_cache_key"])).toEqual([key, key, undefined]);
    // The persona is the prefix: the system message comes first, the question last.
    expect((sent[1]!.body["messages"] as { role: string }[]).map((m) => m.role)).toEqual(["system", "user"]);
  });
});
