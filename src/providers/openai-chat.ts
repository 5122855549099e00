/**
 * The OpenAI Chat Completions resource as pure functions: a
 * CompletionRequest to the request body, a response body to choices and
 * usage. Shared by the synchronous provider (openai.ts) and, later, the
 * Batch API, whose lines carry the same bodies.
 *
 * Also spoken by OpenAI-compatible servers (vLLM, Ollama, llama.cpp), which
 * may lack `n`, json_schema or logprobs: `OpenAIFeatures` says what the
 * server takes, and the request degrades to what it takes.
 */
import { createHash } from "node:crypto";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { toStrictJsonSchema } from "openai/lib/transform";
import { z } from "zod";
import { deepFreeze, isDeepFrozen } from "../util/freeze.ts";
import { MalformedBody, UnsendableRequest } from "./errors.ts";
import type { AnswerSchema, CompletionChoice, CompletionRequest, TokenUsage } from "./types.ts";

/**
 * How an answer schema is enforced: `json_schema` (strict structured
 * output), `json_object` (JSON mode; the schema goes into the prompt) or
 * `none` (the schema goes into the prompt only).
 */
export type StructuredOutputMode = "json_schema" | "json_object" | "none";
export const STRUCTURED_OUTPUT_MODES: readonly StructuredOutputMode[] = ["json_schema", "json_object", "none"];

export interface OpenAIFeatures {
  /** The server honours `n` > 1. */
  multipleChoices: boolean;
  structuredOutput: StructuredOutputMode;
  logprobs: boolean;
  /**
   * api.openai.com: `max_completion_tokens`, and temperature 1 (the API's
   * default) is left out because reasoning models reject the field.
   * Elsewhere: `max_tokens`, which every compatible server reads, and the
   * temperature is always sent because servers' defaults differ (Ollama 0.8,
   * vLLM the model's generation config).
   */
  officialEndpoint: boolean;
}

/** json_schema names must match ^[a-zA-Z0-9_-]{1,64}$. */
function schemaName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
  return cleaned === "" ? "answer" : cleaned;
}

type JsonSchemaFormat = { name: string; schema: Record<string, unknown>; strict: true };

/*
 * A study sends thousands of requests with each of a few answer schemas (one
 * per item), and making a schema strict walks and copies all of it: each is
 * made strict once and shared, frozen, so no request can change what the
 * next one sends. A schema that is itself deeply frozen (silicon's own are,
 * from prompt.ts) is found again by identity; any other by its JSON, so one
 * changed in place is a new entry, never a stale one.
 */
const strictByIdentity = new WeakMap<AnswerSchema, JsonSchemaFormat>();
const strictByJson = new Map<string, JsonSchemaFormat>();
const MAX_STRICT_FORMATS = 1000;

/** The `json_schema` of a strict structured-output request for `answer`. */
export function jsonSchemaFormat(answer: AnswerSchema): JsonSchemaFormat {
  const known = strictByIdentity.get(answer);
  if (known !== undefined) return known;
  const key = JSON.stringify([answer.name, answer.schema]);
  let format = strictByJson.get(key);
  if (format === undefined) {
    format = deepFreeze({ name: schemaName(answer.name), schema: strictSchema(answer), strict: true as const });
    if (strictByJson.size >= MAX_STRICT_FORMATS) strictByJson.clear();
    strictByJson.set(key, format);
  }
  // Frozen is for good: a schema deeply frozen now can never differ from this key.
  if (isDeepFrozen(answer)) strictByIdentity.set(answer, format);
  return format;
}

function strictSchema(answer: AnswerSchema): Record<string, unknown> {
  try {
    return toStrictJsonSchema(answer.schema) as Record<string, unknown>;
  } catch (error) {
    throw new UnsendableRequest(`answer schema not usable for strict structured output: ${(error as Error).message}`);
  }
}

function schemaInstruction(answer: AnswerSchema): string {
  return `Answer with only a JSON object that matches this JSON schema: ${JSON.stringify(answer.schema)}`;
}

export function chatParams(
  model: string,
  request: CompletionRequest,
  features: OpenAIFeatures,
): ChatCompletionCreateParamsNonStreaming {
  if (request.n > 1 && !features.multipleChoices) {
    throw new UnsendableRequest(`n = ${request.n} asked of a server configured without n (capabilities.multipleChoices is false)`);
  }
  const wantLogprobs = request.topLogprobs !== undefined && request.topLogprobs > 0;
  if (wantLogprobs && !features.logprobs) {
    throw new UnsendableRequest("log-probabilities asked of a server configured without them (capabilities.logprobs is false)");
  }
  const messages: ChatCompletionCreateParamsNonStreaming["messages"] = [
    { role: "system", content: request.system },
    ...request.messages.map((m) => ({ role: m.role, content: m.content })),
  ];
  const schema = request.answerSchema;
  let responseFormat: ChatCompletionCreateParamsNonStreaming["response_format"];
  if (schema !== undefined && features.structuredOutput === "json_schema") {
    responseFormat = { type: "json_schema", json_schema: jsonSchemaFormat(schema) };
  } else if (schema !== undefined) {
    // Without schema enforcement the model must read the schema. It goes after
    // the question, so the cacheable prefix (system and earlier turns) is unchanged.
    const last = messages[messages.length - 1];
    if (last !== undefined && last.role === "user" && typeof last.content === "string") {
      messages[messages.length - 1] = { role: "user", content: `${last.content}\n\n${schemaInstruction(schema)}` };
    } else {
      messages.push({ role: "user", content: schemaInstruction(schema) });
    }
    if (features.structuredOutput === "json_object") responseFormat = { type: "json_object" };
  }
  const sendTemperature = !features.officialEndpoint || request.temperature !== 1;
  return {
    model,
    messages,
    ...(features.officialEndpoint ? { max_completion_tokens: request.maxTokens } : { max_tokens: request.maxTokens }),
    ...(sendTemperature ? { temperature: request.temperature } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    ...(request.n !== 1 ? { n: request.n } : {}),
    ...(wantLogprobs ? { logprobs: true, top_logprobs: request.topLogprobs } : {}),
    ...(responseFormat !== undefined ? { response_format: responseFormat } : {}),
    ...(request.cacheSystemPrompt && features.officialEndpoint ? { prompt_cache_key: promptCacheKey(request.system) } : {}),
  };
}

/**
 * OpenAI caches prompt prefixes of 1,024 tokens and more by itself; requests
 * with the same `prompt_cache_key` are routed to the same cache, so every
 * question to one persona can read it. Compatible servers are not sent the
 * field (vLLM caches prefixes without it, and some servers reject unknown fields).
 */
export function promptCacheKey(system: string): string {
  return `silicon-${createHash("sha256").update(system).digest("hex").slice(0, 32)}`;
}

const count = z.number().int().nonnegative();
const TopLogprob = z.object({ token: z.string(), logprob: z.number() });

const UsageBody = z
  .object({
    prompt_tokens: count,
    completion_tokens: count,
    prompt_tokens_details: z
      .object({ cached_tokens: count.nullable().optional(), cache_write_tokens: count.nullable().optional() })
      .nullable()
      .optional(),
  })
  .nullable()
  .optional();

/** Just the usage of a body, for a reply that is otherwise unusable. */
const UsageOnly = z.object({ usage: UsageBody });

function toUsage(usage: z.infer<typeof UsageBody>): TokenUsage {
  const details = usage?.prompt_tokens_details;
  return {
    inputTokens: usage?.prompt_tokens ?? 0,
    outputTokens: usage?.completion_tokens ?? 0,
    cachedInputTokens: details?.cached_tokens ?? 0,
    cacheWriteTokens: details?.cache_write_tokens ?? 0,
  };
}

/** The usage of a body that is not a usable completion, when it has one (the vendor billed it). */
function billedUsageOf(body: unknown): TokenUsage | undefined {
  const parsed = UsageOnly.safeParse(body);
  return parsed.success && parsed.data.usage !== null && parsed.data.usage !== undefined ? toUsage(parsed.data.usage) : undefined;
}

const ChatCompletionBody = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        index: z.number().int().nonnegative(),
        finish_reason: z.string().nullable().optional(),
        message: z.object({
          content: z.string().nullable().optional(),
          refusal: z.string().nullable().optional(),
        }),
        logprobs: z
          .object({
            content: z
              .array(z.object({ token: z.string(), logprob: z.number(), top_logprobs: z.array(TopLogprob).optional() }))
              .nullable()
              .optional(),
          })
          .nullable()
          .optional(),
      }),
    )
    .min(1),
  usage: UsageBody,
});

type ChoiceBody = z.infer<typeof ChatCompletionBody>["choices"][number];

export interface ParsedChatCompletion {
  choices: CompletionChoice[];
  usage: TokenUsage;
  model?: string;
}

function toChoice(choice: ChoiceBody): CompletionChoice {
  const finishReason = choice.finish_reason ?? "unknown";
  const refusal = choice.message.refusal ?? (finishReason === "content_filter" ? "content_filter" : undefined);
  const first = choice.logprobs?.content?.[0];
  const top = first?.top_logprobs?.map(({ token, logprob }) => ({ token, logprob }));
  return {
    text: choice.message.content ?? "",
    finishReason,
    ...(refusal !== undefined && refusal !== null ? { refusal } : {}),
    ...(top !== undefined ? { topLogprobs: top } : {}),
  };
}

/**
 * Reads a chat completion. A refusal is `message.refusal` (structured
 * output) or `finish_reason: "content_filter"`. Fewer choices than `n`
 * asked for is malformed: a server that ignores `n` must be configured
 * without it (SILICON_OPENAI_N=false).
 */
export function parseChatCompletion(body: unknown, n: number): ParsedChatCompletion {
  const parsed = ChatCompletionBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "body";
    throw new MalformedBody(`not a chat completion (${where}: ${issue?.message ?? "invalid"})`, { usage: billedUsageOf(body) });
  }
  const completion = parsed.data;
  if (completion.choices.length !== n) {
    throw new MalformedBody(
      `asked for ${n} choices and got ${completion.choices.length}; if the server ignores n, set SILICON_OPENAI_N=false`,
      { retryable: false, usage: billedUsageOf(body) },
    );
  }
  const choices = [...completion.choices].sort((a, b) => a.index - b.index).map(toChoice);
  return {
    choices,
    usage: toUsage(completion.usage),
    ...(completion.model !== undefined ? { model: completion.model } : {}),
  };
}
