/**
 * The fake vendor speaks Chat Completions well enough for the official SDK,
 * and its faults and counters do what tests rely on.
 */
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { FakeVendor, startFakeVendor, type FakeVendorOptions } from "./fake-vendor.ts";

let vendor: FakeVendor | undefined;
afterEach(async () => {
  await vendor?.close();
  vendor = undefined;
});

async function client(options: FakeVendorOptions = {}, apiKey = "sk-test-key-123456"): Promise<OpenAI> {
  vendor = await startFakeVendor(options);
  return new OpenAI({ apiKey, baseURL: vendor.baseURL, maxRetries: 0, timeout: 2_000 });
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
    const openai = await client({ script: (r) => (["slow", "malformed", "truncated"] as const)[r.number - 1], slowMs: 300 });
    await expect(openai.chat.completions.create(request, { timeout: 100 })).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    await expect(openai.chat.completions.create(request)).rejects.toThrow();
    await expect(openai.chat.completions.create(request)).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 300)); // the slow one finishes its work
    expect(vendor!.stats.billed).toBe(3);
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
