/**
 * The fake vendor speaks Chat Completions well enough for the official SDK,
 * and its faults and counters do what tests rely on.
 */
import OpenAI, { toFile } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { ConnectionError, MalformedResponseError, OverloadedError, type ProviderError, RateLimitError, ServerError } from "../../src/errors.ts";
import { createProvider } from "../../src/providers/index.ts";
import type { CompletionRequest } from "../../src/providers/types.ts";
import { FakeVendor, startFakeVendor, type FakeVendorOptions } from "./fake-vendor.ts";

let vendor: FakeVendor | undefined;
afterEach(async () => {
  await vendor?.close();
  vendor = undefined;
});

async function client(options: FakeVendorOptions = {}, apiKey = "sk-test-key-123456"): Promise<OpenAI> {
  vendor = await startFakeVendor(options);
  // Far beyond any answer's latency on a busy machine: only a held ("slow") response meets a timeout.
  return new OpenAI({ apiKey, baseURL: vendor.baseURL, maxRetries: 0, timeout: 30_000 });
}

const schema = {
  type: "json_schema" as const,
  json_schema: {
    name: "answer_q",
    strict: true,
    schema: { type: "object", properties: { answer: { type: "integer", enum: [1, 2, 3] } }, required: ["answer"], additionalProperties: false },
  },
};

const request = {
  model: "fake-model",
  messages: [
    { role: "system" as const, content: "You are a 40-year-old voter." },
    { role: "user" as const, content: "Approve?\n\n1 = Yes\n2 = No\n3 = Unsure" },
  ],
};

describe("the fake vendor", () => {
  it("answers structured output with n choices, usage and headers", async () => {
    const openai = await client({ requestsPerMinute: 100 });
    const { data, response } = await openai.chat.completions.create({ ...request, n: 3, response_format: schema, seed: 1 }).withResponse();
    expect(data.choices).toHaveLength(3);
    for (const choice of data.choices) expect([1, 2, 3]).toContain(JSON.parse(choice.message.content!).answer);
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-request-id")).toMatch(/^req_fake\d+$/);
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("99");
    expect(vendor!.stats).toMatchObject({ received: 1, billed: 1 });
    expect(vendor!.stats.keyOfResponse.get(data.id)).toBe(vendor!.stats.keyOfResponse.get(response.headers.get("x-request-id")!));
  });

  it("answers the same request the same way and counts it twice", async () => {
    const openai = await client();
    const a = await openai.chat.completions.create({ ...request, response_format: schema });
    const b = await openai.chat.completions.create({ ...request, response_format: schema });
    expect(a.choices[0]!.message.content).toBe(b.choices[0]!.message.content);
    expect(vendor!.repeatedPaidKeys()).toHaveLength(1);
  });

  it("returns first-token logprobs and free-text codes", async () => {
    const openai = await client();
    const data = await openai.chat.completions.create({ ...request, logprobs: true, top_logprobs: 3 });
    expect(["1", "2", "3"]).toContain(data.choices[0]!.message.content);
    expect(data.choices[0]!.logprobs!.content![0]!.top_logprobs).toHaveLength(3);
  });

  it("enforces its requests-per-minute limit with 429 and retry-after", async () => {
    const openai = await client({ requestsPerMinute: 2, windowMs: 60_000 });
    await openai.chat.completions.create(request);
    await openai.chat.completions.create(request);
    const error = await openai.chat.completions.create(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const headers = (error as InstanceType<typeof OpenAI.RateLimitError>).headers;
    expect(Number(headers.get("retry-after"))).toBeGreaterThan(58);
    expect(vendor!.stats).toMatchObject({ received: 3, billed: 2, faults: { "rate-limit": 1 } });
  });

  it.each([
    ["500", OpenAI.InternalServerError],
    ["502", OpenAI.InternalServerError],
    ["503", OpenAI.InternalServerError],
    ["429", OpenAI.RateLimitError],
    ["reset", OpenAI.APIConnectionError],
  ] as const)("injects %s faults", async (fault, errorClass) => {
    const openai = await client({ script: () => fault });
    await expect(openai.chat.completions.create(request)).rejects.toBeInstanceOf(errorClass);
    expect(vendor!.stats.billed).toBe(0);
  });

  it("bills slow, malformed and truncated responses", async () => {
    // The slow response waits for the client to give up: a timeout whatever the machine's load.
    const openai = await client({ script: (r) => (["slow", "malformed", "truncated"] as const)[r.number - 1], slowMs: "abandoned" });
    await expect(openai.chat.completions.create(request, { timeout: 100 })).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    await expect(openai.chat.completions.create(request)).rejects.toThrow();
    await expect(openai.chat.completions.create(request)).rejects.toThrow();
    await vendor!.settled(); // the slow one finishes its work
    expect(vendor!.stats).toMatchObject({ billed: 3, delivered: { responses: 0 } });
    expect(vendor!.count(vendor!.stats.byKey.keys().next().value!)).toEqual({ received: 3, billed: 3, unusable: 3 });
  });

  it("sends retry-after-ms with injected throttling when asked", async () => {
    const openai = await client({ script: () => "429", retryAfterMs: 40 });
    const error = (await openai.chat.completions.create(request).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(error.headers.get("retry-after-ms")).toBe("40");
    expect(error.headers.get("retry-after")).toBe("1");
  });

  it("counts the tokens of responses delivered intact", async () => {
    const openai = await client({ usage: () => ({ input: 120, output: 7 }), script: (r) => (r.number === 2 ? "truncated" : undefined) });
    await openai.chat.completions.create(request);
    await expect(openai.chat.completions.create(request)).rejects.toThrow();
    expect(vendor!.stats.delivered).toEqual({ responses: 1, inputTokens: 120, outputTokens: 7, cachedInputTokens: 0 });
  });

  it("answers a wrong key with 401 echoing the header it got", async () => {
    const openai = await client({ apiKey: "sk-right-key-000000" }, "sk-canary-key-999999");
    const error = await openai.chat.completions.create(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as Error).message).toContain("sk-canary-key-999999");
  });

  it("reports cached prompt tokens for a repeated system prompt", async () => {
    const openai = await client({ prefixCaching: true });
    const first = await openai.chat.completions.create(request);
    const second = await openai.chat.completions.create({ ...request, messages: [request.messages[0]!, { role: "user", content: "Other?" }] });
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    expect(second.usage?.prompt_tokens_details?.cached_tokens).toBe(Math.ceil("You are a 40-year-old voter.".length / 4));
  });
});

describe("the fake vendor speaking the Anthropic Messages API", () => {
  async function anthropic(options: FakeVendorOptions = {}) {
    vendor = await startFakeVendor(options);
    return createProvider("anthropic:claude-fake", {
      env: { ANTHROPIC_API_KEY: "sk-ant-test-123456", ANTHROPIC_BASE_URL: vendor.anthropicBaseURL },
      timeoutMs: 30_000,
    });
  }
  const completion: CompletionRequest = {
    system: "You are a 40-year-old voter.",
    messages: [{ role: "user", content: "Approve?\n\n1 = Yes\n2 = No\n3 = Unsure" }],
    maxTokens: 50,
    temperature: 1,
    n: 1,
    answerSchema: { name: "answer_q", schema: schema.json_schema.schema },
  };
  const signal = new AbortController().signal;

  it("answers structured output through the official SDK, with usage and request id", async () => {
    const provider = await anthropic({ prefixCaching: true });
    const first = await provider.complete(completion, { signal });
    const second = await provider.complete(completion, { signal });
    expect([1, 2, 3]).toContain(JSON.parse(first.choices[0]!.text).answer);
    expect(first.requestId).toMatch(/^req_fake\d+$/);
    expect(vendor!.stats.keyOfResponse.get(first.requestId!)).toBeDefined();
    expect(first.usage.cachedInputTokens).toBe(0);
    expect(second.usage.cachedInputTokens).toBe(Math.ceil(completion.system.length / 4));
    expect(second.usage.inputTokens).toBe(first.usage.inputTokens);
    expect(vendor!.stats.authorizations).toEqual(new Set(["Bearer sk-ant-test-123456"]));
    expect(vendor!.repeatedPaidKeys()).toHaveLength(1);
  });

  it.each([
    ["429", RateLimitError],
    ["500", ServerError],
    ["529", OverloadedError],
    ["reset", ConnectionError],
    ["malformed", MalformedResponseError],
    ["truncated", MalformedResponseError],
  ] as const)("injects %s faults in Anthropic's error shape", async (fault, errorClass) => {
    const provider = await anthropic({ script: () => fault, retryAfterMs: 30 });
    const error = await provider.complete(completion, { signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errorClass);
    if (fault === "429" || fault === "529") expect((error as ProviderError).retryAfterMs).toBe(30);
  });

  it("refuses with stop_reason refusal", async () => {
    const provider = await anthropic({ refusalRate: 1 });
    const result = await provider.complete(completion, { signal });
    expect(result.choices[0]).toMatchObject({ finishReason: "refusal", refusal: expect.stringContaining("can't share") });
  });
});

describe("the fake vendor's OpenAI Batch API", () => {
  const line = (customId: string, content: string) =>
    JSON.stringify({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body: { ...request, messages: [request.messages[0]!, { role: "user", content }], response_format: schema } });

  it("takes a JSONL file, runs the batch after a delay, bills each line once, and returns output and error files", async () => {
    const openai = await client({ batchDelayMs: 80, batchLineFault: (r) => (JSON.stringify(r.body).includes("expire me") ? "batch_expired" : undefined) });
    const jsonl = [line("a", "Approve?\n\n1 = Yes\n2 = No\n3 = Unsure"), line("b", "expire me\n\n1 = Yes\n2 = No\n3 = Unsure")].join("\n") + "\n";
    const file = await openai.files.create({ file: await toFile(Buffer.from(jsonl), "silicon-x.jsonl"), purpose: "batch" });
    const created = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { silicon_batch: "silicon-x-1" } });
    expect((await openai.batches.retrieve(created.id)).status).toBe("in_progress");
    expect(vendor!.stats).toMatchObject({ billed: 0, batches: { created: 1, lines: 2, billedLines: 0 } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const done = await openai.batches.retrieve(created.id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 2, completed: 1, failed: 1 } });
    const output = (await (await openai.files.content(done.output_file_id!)).text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(output).toHaveLength(1);
    expect(output[0]).toMatchObject({ custom_id: "a", response: { status_code: 200, body: { object: "chat.completion" } } });
    const errors = (await (await openai.files.content(done.error_file_id!)).text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(errors[0]).toMatchObject({ custom_id: "b", response: null, error: { code: "batch_expired" } });
    expect(vendor!.stats).toMatchObject({ billed: 1, batches: { billedLines: 1 } });
    // A line's key is the hash of its body, as for the same request sent synchronously.
    const key = vendor!.stats.keyOfResponse.get(output[0].response.request_id)!;
    expect(vendor!.count(key)).toEqual({ received: 1, billed: 1, unusable: 0 });
    // Looking again bills nothing more.
    await openai.batches.retrieve(created.id);
    expect(vendor!.stats.billed).toBe(1);
  });

  it("can create a batch and lose the response, which a listing by metadata then finds", async () => {
    const openai = await client({ batchCallFault: (call) => (call.operation === "create" ? "create-lost" : undefined) });
    const file = await openai.files.create({ file: await toFile(Buffer.from(line("a", "Approve?") + "\n"), "x.jsonl"), purpose: "batch" });
    await expect(
      openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { silicon_batch: "silicon-y-7" } }),
    ).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    const page = await openai.batches.list({ limit: 100 });
    expect(page.data.map((b) => b.metadata?.["silicon_batch"])).toEqual(["silicon-y-7"]);
  });
});
