/**
 * What the vendor adapters add to a call, apart from the network: building
 * the body (schema transform included), the SDK pipeline, the deadline,
 * validating the reply and reading the headers. Measured against a fake
 * fetch that answers at once with a recorded reply, and reported as a ratio
 * to the least any client does: one fetch of the same reply plus JSON.parse.
 * Vendor latency is hundreds of milliseconds; the point is to show the
 * adapter costs a negligible fraction of it.
 */
import { readFileSync } from "node:fs";
import { createAnthropicProvider } from "../src/providers/anthropic.ts";
import { createOpenAIProvider } from "../src/providers/openai.ts";
import type { CompletionRequest, Provider } from "../src/providers/types.ts";
import { type Report, timeMs } from "./harness.ts";

const CALLS = 2_000;

function recorded(path: string, headers: Record<string, string>): typeof fetch {
  const body = readFileSync(new URL(`../test/fixtures/providers/${path}`, import.meta.url), "utf8");
  return async () => new Response(body, { status: 200, headers: { "content-type": "application/json", ...headers } });
}

const request: CompletionRequest = {
  system: "You are a 47-year-old woman from Ohio who works as a nurse. ".repeat(20),
  messages: [{ role: "user", content: "Do you approve of the way the president is handling his job? Answer 1 to 4." }],
  maxTokens: 200,
  temperature: 1,
  n: 1,
  cacheSystemPrompt: true,
  answerSchema: {
    name: "answer",
    schema: { type: "object", properties: { answer: { type: "integer", enum: [1, 2, 3, 4] } }, required: ["answer"], additionalProperties: false },
  },
};

async function perCallMs(fn: () => Promise<unknown>): Promise<number> {
  const total = await timeMs(async () => {
    for (let i = 0; i < CALLS; i++) await fn();
  }, 3);
  return total / CALLS;
}

async function bench(report: Report, vendor: string, fetch: typeof globalThis.fetch, provider: Provider): Promise<void> {
  const signal = new AbortController().signal;
  const bare = await perCallMs(async () => JSON.parse(await (await fetch("http://x", { method: "POST", body: JSON.stringify(request) })).text()));
  const adapter = await perCallMs(() => provider.complete(request, { signal }));
  report({ name: `${vendor}: adapter call (fake fetch)`, value: adapter * 1000, unit: "µs/call" });
  report({ name: `${vendor}: ratio to bare fetch + JSON.parse`, value: adapter / bare, unit: "×", note: `bare ${(bare * 1000).toFixed(1)} µs/call` });
}

export default async function (report: Report): Promise<void> {
  const anthropicFetch = recorded("anthropic/message-structured.json", {
    "request-id": "req_1",
    "anthropic-ratelimit-requests-remaining": "49",
    "anthropic-ratelimit-requests-reset": "2026-11-23T12:00:01Z",
  });
  await bench(
    report,
    "anthropic",
    anthropicFetch,
    createAnthropicProvider("claude-sonnet-5-5", { apiKey: "k", timeoutMs: 60_000, env: {}, fetch: anthropicFetch }),
  );
  const openaiFetch = recorded("openai/chat-structured.json", { "x-request-id": "req_1", "x-ratelimit-remaining-requests": "9999", "x-ratelimit-reset-requests": "6ms" });
  await bench(
    report,
    "openai",
    openaiFetch,
    createOpenAIProvider("gpt-6-luna", { apiKey: "k", timeoutMs: 60_000, env: {}, fetch: openaiFetch }),
  );
}
