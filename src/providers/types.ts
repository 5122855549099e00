/**
 * The contract between the generation engine and an LLM vendor. Providers are
 * thin adapters: one request in, one result or one typed ProviderError
 * (src/errors.ts) out. They never retry, sleep or count money; the engine
 * does that once for every vendor.
 */
import type { Cell } from "../tables/types.ts";
import type { SurveyItem } from "../config/schema.ts";
import type { ProviderError } from "../errors.ts";

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
  /**
   * The answer's JSON schema (structured elicitation), whatever the vendor
   * supports: the provider enforces it as it can (strict structured output,
   * JSON mode with the schema in the prompt, or the schema in the prompt only).
   */
  answerSchema?: AnswerSchema;
  /** Ask for the top-k log-probabilities of the first output token. */
  topLogprobs?: number;
  /**
   * The system prompt is a prefix shared by many requests (the persona):
   * Anthropic gets a cache breakpoint on it; OpenAI a `prompt_cache_key`
   * that routes requests with the same persona to the same cache.
   */
  cacheSystemPrompt?: boolean;
  /**
   * The conversation goes on after this request (a questionnaire): Anthropic
   * gets a cache breakpoint on the last message too, so the next turn reads
   * everything before it from the cache.
   */
  cacheMessages?: boolean;
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

/** One request of a batch: its custom id (silicon's request key) and the request. */
export interface BatchLine {
  customId: string;
  request: CompletionRequest;
}

/** A request as the vendor receives it in a batch, and its size there. */
export interface EncodedLine {
  customId: string;
  bytes: number;
  /** The vendor's line (OpenAI JSONL line, Anthropic `{custom_id, params}`); opaque to the engine. */
  body: unknown;
}

/** What a batch needs uploaded before it is created (OpenAI: the input file). */
export interface PreparedBatch {
  inputFileId: string;
}

export interface SubmittedBatch {
  /** The vendor's batch id. */
  id: string;
  /** OpenAI: the uploaded input file. */
  inputFileId?: string;
}

/** Where a batch's results are. */
export interface BatchRef {
  id: string;
  outputFileId?: string | null;
  errorFileId?: string | null;
}

export interface BatchState {
  /** `running` until the vendor is done with every request; `failed`: it rejected the whole batch. */
  status: "running" | "ended" | "failed";
  /** The vendor's own word, e.g. validating, in_progress, finalizing, completed, expired / in_progress, canceling, ended. */
  vendorStatus: string;
  /** Requests by state, as the vendor counts them. */
  counts: Record<string, number>;
  outputFileId?: string;
  errorFileId?: string;
  endedAt?: string;
  /** Why the whole batch failed. */
  message?: string;
}

/** One result of a batch: the response, or why there is none (an expired request is a retryable error). */
export type BatchResultLine =
  | { customId: string; result: CompletionResult }
  | { customId: string; error: ProviderError };

/**
 * A vendor's batch API (OpenAI Batch API, Anthropic Message Batches): many
 * requests in one submission, answered within 24 hours at a discount. The
 * same request bodies and replies as synchronous calls; every method rejects
 * with a typed ProviderError.
 */
export interface BatchTransport {
  /** Most requests, and bytes, one batch may hold. */
  readonly maxRequests: number;
  readonly maxBytes: number;
  /** The request as a batch line; throws BadRequestError for a request the vendor cannot take. */
  encode(line: BatchLine): EncodedLine;
  /**
   * Uploads what the batch needs before it is created (OpenAI: the JSONL
   * input file). Nothing is billed yet, so it may be retried. Absent: `submit`
   * sends the requests itself (Anthropic).
   */
  prepare?(lines: EncodedLine[], options: { signal: AbortSignal; label: string }): Promise<PreparedBatch>;
  /**
   * Creates the batch (from `prepared` when the transport has `prepare`): the
   * one call that may bill. `label` names the batch for `find` (OpenAI
   * metadata). Never retried blindly: a reply lost on the way may hide a batch
   * the vendor did create (the batcher asks `find` first).
   */
  submit(lines: EncodedLine[], options: { signal: AbortSignal; label: string; prepared?: PreparedBatch }): Promise<SubmittedBatch>;
  /**
   * A batch submitted with `label` whose confirmation never arrived (a lost
   * reply, a run killed mid-submission), looking back to batches created at
   * `since` (ISO time: when the batch was recorded, before it was sent).
   * Undefined only when it is certainly not there; rejects with an
   * UndecidedError when it cannot tell yet. A transport without labels
   * (Anthropic) matches by `customIds`, skipping the batches in `known`.
   */
  find?(
    label: string,
    options: { signal: AbortSignal; since: string; customIds: readonly string[]; known: ReadonlySet<string> },
  ): Promise<SubmittedBatch | undefined>;
  poll(batch: BatchRef, options: { signal: AbortSignal }): Promise<BatchState>;
  /** The results of an ended batch; `choices(customId)` is how many choices the request asked for. */
  results(batch: BatchRef, options: { signal: AbortSignal; choices: (customId: string) => number }): AsyncIterable<BatchResultLine>;
}

export interface Provider {
  readonly vendor: Vendor;
  /** Model name without the vendor prefix. */
  readonly model: string;
  /** `vendor:model`, as the user wrote it. */
  readonly id: string;
  /** Where its requests go (the base URL, credentials never included), for messages about an endpoint. */
  readonly endpoint?: string;
  readonly capabilities: ProviderCapabilities;
  /**
   * One call. Rejects with a ProviderError subclass (src/errors.ts) when the
   * vendor fails, or with `signal.reason` when the caller aborts.
   */
  complete(request: CompletionRequest, options: { signal: AbortSignal }): Promise<CompletionResult>;
  /** The vendor's batch API, when it has one (`silicon generate --batch`). */
  readonly batch?: BatchTransport;
}
