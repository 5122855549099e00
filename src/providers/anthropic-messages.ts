/**
 * The Anthropic Messages resource as pure functions: a CompletionRequest to
 * the request body, and a response body to choices and usage. The
 * synchronous provider (anthropic.ts) and, later, Message Batches share
 * them: a batch item carries the same params and returns the same Message.
 *
 * Wire format: API version 2026-10-21, which the SDK (1.x) sends. That
 * version rejects temperature, top_p and top_k, so requests carry none.
 */
import type { MessageCreateParamsNonStreaming } from "@anthropic-ai/sdk/resources/messages";
import { transformJSONSchema } from "@anthropic-ai/sdk/lib/transform-json-schema";
import { z } from "zod";
import { MalformedBody, UnsendableRequest } from "./errors.ts";
import type { CompletionChoice, CompletionRequest, TokenUsage } from "./types.ts";

/** The only sampling temperature the API uses (it accepts no `temperature` field). */
export const ANTHROPIC_TEMPERATURE = 1;

/**
 * Structured output through `output_config.format` (generally available,
 * not a beta) rather than forced tool use: Claude Opus 5.5, Sonnet 5.5 and
 * Fable 5.1 reject a forced `tool_choice`, and on models that always think
 * forced tool use is refused too. The SDK's own transform moves keywords
 * the API does not enforce (minimum, maximum, …) into the description, so
 * any answer schema is accepted; silicon validates the answer anyway.
 */
function outputFormat(schema: Record<string, unknown>): { type: "json_schema"; schema: Record<string, unknown> } {
  try {
    return { type: "json_schema", schema: transformJSONSchema(schema) };
  } catch (error) {
    throw new UnsendableRequest(`answer schema not usable for structured output: ${(error as Error).message}`);
  }
}

export function messageParams(model: string, request: CompletionRequest): MessageCreateParamsNonStreaming {
  if (request.n !== 1) {
    throw new UnsendableRequest(`the Messages API returns one answer per call; got n = ${request.n} (capabilities.multipleChoices is false)`);
  }
  if (request.topLogprobs !== undefined && request.topLogprobs > 0) {
    throw new UnsendableRequest("the Messages API returns no log-probabilities (capabilities.logprobs is false)");
  }
  if (request.temperature !== ANTHROPIC_TEMPERATURE) {
    throw new UnsendableRequest(
      `the Messages API (version 2026-10-21) accepts no temperature and samples at ${ANTHROPIC_TEMPERATURE}; ` +
        `got temperature ${request.temperature} — set temperature: ${ANTHROPIC_TEMPERATURE} in the study`,
    );
  }
  return {
    model,
    max_tokens: request.maxTokens,
    system: [
      {
        type: "text",
        text: request.system,
        ...(request.cacheSystemPrompt ? { cache_control: { type: "ephemeral" as const } } : {}),
      },
    ],
    messages: request.messages.map((m, i) =>
      // A conversation that goes on marks its last turn: the next request reads all of this from the cache.
      request.cacheMessages && i === request.messages.length - 1
        ? { role: m.role, content: [{ type: "text" as const, text: m.content, cache_control: { type: "ephemeral" as const } }] }
        : { role: m.role, content: m.content },
    ),
    ...(request.answerSchema !== undefined ? { output_config: { format: outputFormat(request.answerSchema.schema) } } : {}),
  };
}

const count = z.number().int().nonnegative();

const UsageBody = z.object({
  input_tokens: count,
  output_tokens: count,
  cache_read_input_tokens: count.nullable().optional(),
  cache_creation_input_tokens: count.nullable().optional(),
});

/** Silicon's TokenUsage: Anthropic counts cache reads and writes apart from `input_tokens`. */
function toUsage(usage: z.infer<typeof UsageBody>): TokenUsage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  return { inputTokens: usage.input_tokens + cacheRead + cacheWrite, outputTokens: usage.output_tokens, cachedInputTokens: cacheRead, cacheWriteTokens: cacheWrite };
}

/** The usage of a body that is not a usable message, when it has one (the vendor billed it). */
function billedUsageOf(body: unknown): TokenUsage | undefined {
  const parsed = z.object({ usage: UsageBody }).safeParse(body);
  return parsed.success ? toUsage(parsed.data.usage) : undefined;
}

const MessageBody = z.object({
  type: z.literal("message"),
  model: z.string(),
  content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullable(),
  stop_details: z
    .object({ category: z.string().nullable().optional(), explanation: z.string().nullable().optional() })
    .nullable()
    .optional(),
  usage: UsageBody,
});

export interface ParsedMessage {
  choice: CompletionChoice;
  usage: TokenUsage;
  model: string;
}

function refusalText(details: z.infer<typeof MessageBody>["stop_details"]): string {
  if (details?.explanation) return details.explanation;
  return details?.category ? `refused (${details.category})` : "refused";
}

/**
 * Reads a Message. The answer is the concatenated text blocks (thinking
 * blocks are not the answer); `stop_reason: "refusal"` marks a refusal.
 * Usage: Anthropic counts cache reads and writes apart from
 * `input_tokens`; silicon's `inputTokens` is their sum (see TokenUsage).
 */
export function parseMessage(body: unknown): ParsedMessage {
  const parsed = MessageBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "body";
    throw new MalformedBody(`not a Messages API message (${where}: ${issue?.message ?? "invalid"})`, { usage: billedUsageOf(body) });
  }
  const message = parsed.data;
  const texts: string[] = [];
  for (const block of message.content) {
    if (block.type !== "text") continue;
    if (typeof block.text !== "string") throw new MalformedBody("a text block without text", { usage: toUsage(message.usage) });
    texts.push(block.text);
  }
  const stopReason = message.stop_reason ?? "unknown";
  return {
    choice: {
      text: texts.join(""),
      finishReason: stopReason,
      ...(stopReason === "refusal" ? { refusal: refusalText(message.stop_details) } : {}),
    },
    usage: toUsage(message.usage),
    model: message.model,
  };
}
