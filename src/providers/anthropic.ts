/**
 * `anthropic:<model>`: the Messages API through the official SDK. A thin
 * adapter: one request, one Message or one typed ProviderError. The SDK's
 * retries are off (the engine retries, once, for every vendor).
 */
import Anthropic from "@anthropic-ai/sdk";
import { anthropicBatchTransport } from "./anthropic-batch.ts";
import { messageParams, parseMessage } from "./anthropic-messages.ts";
import { redactUrlCredentials } from "../util/secrets.ts";
import { callVendor } from "./call.ts";
import type { FailureContext } from "./errors.ts";
import { type Clock, anthropicRateLimit } from "./headers.ts";
import type { CompletionRequest, CompletionResult, Provider, ProviderCapabilities } from "./types.ts";

export interface AnthropicProviderOptions {
  apiKey: string;
  /** Default https://api.anthropic.com; the registry passes ANTHROPIC_BASE_URL here. */
  baseURL?: string;
  /** Per request, from sending to the last byte of the body. */
  timeoutMs: number;
  fetch?: typeof fetch;
  /** Secret-looking values of this environment never appear in messages. */
  env: NodeJS.ProcessEnv;
  now?: Clock;
}

export const ANTHROPIC_CAPABILITIES: ProviderCapabilities = {
  multipleChoices: false,
  answerSchema: true,
  logprobs: false,
  promptCaching: true,
  temperature: false,
};

export function createAnthropicProvider(model: string, options: AnthropicProviderOptions): Provider {
  const id = `anthropic:${model}`;
  const now = options.now ?? Date.now;
  const client = new Anthropic({
    apiKey: options.apiKey,
    // null, not undefined: the SDK would otherwise read ANTHROPIC_BASE_URL from
    // process.env, and the registry resolves it from the environment it was given.
    baseURL: options.baseURL ?? null,
    maxRetries: 0,
    timeout: Math.ceil(options.timeoutMs),
    logLevel: "off",
    openTelemetry: false,
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  });
  const rateLimit = (headers: Headers) => anthropicRateLimit(headers, now);
  const context: FailureContext = {
    provider: id,
    secrets: [options.apiKey],
    env: options.env,
    keyVariable: "ANTHROPIC_API_KEY",
    now,
    rateLimit,
  };

  function complete(request: CompletionRequest, { signal }: { signal: AbortSignal }): Promise<CompletionResult> {
    return callVendor({
      context,
      sdk: Anthropic,
      signal,
      timeoutMs: options.timeoutMs,
      build: () => messageParams(model, request),
      send: (params, deadline) => client.messages.create(params, { signal: deadline }).withResponse(),
      parse: (data) => {
        const message = parseMessage(data);
        return { choices: [message.choice], usage: message.usage, model: message.model };
      },
      requestIdHeader: "request-id",
      rateLimit,
    });
  }

  const endpoint = redactUrlCredentials(options.baseURL ?? "https://api.anthropic.com");
  return { vendor: "anthropic", model, id, endpoint, capabilities: ANTHROPIC_CAPABILITIES, complete, batch: anthropicBatchTransport(client, model, context) };
}
