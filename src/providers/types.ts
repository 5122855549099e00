/**
 * The contract between the generation engine and an LLM vendor. Providers are
 * thin adapters: one request in, one result or one typed ProviderError
 * (src/errors.ts) out. They never retry, sleep or count money; the engine
 * does that once for every vendor.
 */
import type { Cell } from "../tables/types.ts";
import type { SurveyItem } from "../config/schema.ts";

export type Vendor = "anthropic" | "openai" | "simulated";

export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

/** A JSON schema the vendor should constrain the answer to (structured output / tool input). */
export interface AnswerSchema {
  name: string;
  schema: Record<string, unknown>;
}

/**
 * What the simulated provider answers from. Real vendors see only the prompt
 * text; the simulator never reads the prompt (it does not pretend to be an
 * LLM), it reads the respondent's profile and the item directly.
 */
export interface SimulationSubject {
  respondent: Record<string, Cell>;
  respondentId: string;
  item: SurveyItem;
  wave: { id: string; context: Record<string, unknown> };
  /** 1-based index of the first generation this request asks for. */
  generation: number;
}

export interface CompletionRequest {
  /** The persona: a stable prefix, cacheable (Anthropic cache_control, OpenAI prefix caching). */
  system: string;
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  seed?: number;
  /** Choices wanted from this one call; only sent when `capabilities.multipleChoices`. */
  n: number;
  /** Structured output, when the vendor supports it. */
  answerSchema?: AnswerSchema;
  /** Ask for the top-k log-probabilities of the first output token. */
  topLogprobs?: number;
  /** Mark the system prompt as a cache breakpoint (Anthropic). */
  cacheSystemPrompt?: boolean;
  subject?: SimulationSubject;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
}

export interface CompletionChoice {
  /** The answer text (for tool use / structured output: the JSON arguments). */
  text: string;
  /** Set when the model declined to answer (OpenAI `refusal`, Anthropic `stop_reason: "refusal"`). */
  refusal?: string;
  /** Vendor's stop reason, e.g. "stop", "length", "end_turn", "max_tokens". */
  finishReason: string;
  /** Top alternatives for the first output token, when requested. */
  topLogprobs?: TokenLogprob[];
}

/**
 * Tokens billed for one call, the same way for every vendor: `inputTokens`
 * is all input, and the cached and cache-write counts are parts of it (so
 * uncached input = inputTokens - cachedInputTokens - cacheWriteTokens).
 * OpenAI reports it so already; Anthropic's `input_tokens` excludes cache
 * reads and writes, and its adapter adds them. `outputTokens` includes
 * reasoning tokens, which are billed as output.
 */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the vendor's prompt cache (billed at a discount). */
  cachedInputTokens: number;
  /** Input tokens written to the prompt cache (billed at a premium by Anthropic and newer OpenAI models). */
  cacheWriteTokens: number;
}

/** What the vendor's rate-limit headers said about the remaining budget. */
export interface RateLimitState {
  remainingRequests?: number;
  remainingTokens?: number;
  /** Milliseconds until the request budget resets. */
  resetRequestsMs?: number;
  resetTokensMs?: number;
}

export interface CompletionResult {
  choices: CompletionChoice[];
  usage: TokenUsage;
  requestId?: string;
  rateLimit?: RateLimitState;
  /** The vendor's model string from the response (may pin a dated version). */
  model?: string;
}

export interface ProviderCapabilities {
  /** Several choices from one call (OpenAI `n`). */
  multipleChoices: boolean;
  /** JSON-schema constrained output (OpenAI structured output, Anthropic tool use). */
  answerSchema: boolean;
  /** First-token log-probabilities. */
  logprobs: boolean;
  /** Explicit prompt caching breakpoints. */
  promptCaching: boolean;
  /**
   * Whether the vendor accepts a sampling temperature. `false` (Anthropic,
   * API version 2026-10-21): the model samples at temperature 1 and a
   * request must ask for exactly 1. Absent means true.
   */
  temperature?: boolean;
}

export interface Provider {
  readonly vendor: Vendor;
  /** Model name without the vendor prefix. */
  readonly model: string;
  /** `vendor:model`, as the user wrote it. */
  readonly id: string;
  readonly capabilities: ProviderCapabilities;
  /**
   * One call. Rejects with a ProviderError subclass (src/errors.ts) when the
   * vendor fails, or with `signal.reason` when the caller aborts.
   */
  complete(request: CompletionRequest, options: { signal: AbortSignal }): Promise<CompletionResult>;
}
