/**
 * Planning one call: the request an ask sends, its key, what it may cost
 * (the budget's worst case, the rate limiter's token estimate), and the
 * row that records it as on the wire.
 */
import type { ResolvedPrice } from "../providers/prices.ts";
import type { CompletionRequest } from "../providers/types.ts";
import type { CachedRequest, CallStart } from "../store/calls.ts";
import type { StoreTime } from "../store/encoding.ts";
import { estimateInputTokens, worstCaseCost, worstCaseInputTokens } from "./cost.ts";
import type { Ask } from "./engine-types.ts";
import { requestKey, seedFor } from "./keys.ts";
import type { PromptUnit } from "./plan.ts";
import type { Router } from "./router.ts";
import type { StudyLike } from "./types.ts";

/** An ask made ready to send. */
export interface PlannedCall {
  ask: Ask;
  key: string;
  request: CompletionRequest;
  /** What the calls table records of the request's settings. */
  parameters: Record<string, unknown>;
  router: Router;
  price: ResolvedPrice;
  /** Tokens the rate limiter counts for it: the input estimate plus every answer at max_tokens. */
  rateTokens: number;
  /** The most it can cost: what the budget reserves before it is sent. */
  worstCostUsd: number;
}

/** An ask as the cache looks it up: its key, and the cell it asks. */
export function cachedRequest(ask: Ask, key: string): CachedRequest {
  return unitCachedRequest(ask.unit, ask.model, key);
}

/** The request with key `key` that asks `unit` of `model`, as the cache looks it up. */
export function unitCachedRequest(unit: PromptUnit, model: string, key: string): CachedRequest {
  return { key, model, wave: unit.wave.id, respondent: unit.respondentId, item: unit.item.id };
}

/** The request key of an ask: the cache's key (keys.ts). */
export function askKey(ask: Ask): string {
  return ask.key ?? unitRequestKey(ask.unit, ask.model, ask.generation, ask.n, ask.messages.slice(1));
}

/** The request key of `unit` asked of `model` for generations from `generation`, after `followUp` messages. */
export function unitRequestKey(unit: PromptUnit, model: string, generation: number, n: number, followUp: Ask["messages"] = []): string {
  const identity = { model, wave: unit.wave.id, respondent: unit.respondentId, item: unit.item.id };
  return requestKey(identity, generation, n, unit.prompt, followUp, unit.parameters);
}

export function planCall(ask: Ask, key: string, study: StudyLike, router: Router, price: ResolvedPrice): PlannedCall {
  const unit = ask.unit;
  const request = buildRequest(ask, study);
  const outputTokens = ask.n * request.maxTokens;
  return {
    ask,
    key,
    request,
    parameters: {
      temperature: request.temperature,
      max_tokens: request.maxTokens,
      seed: request.seed,
      n: ask.n,
      elicitation: unit.parameters.elicitation,
      answer_schema: request.answerSchema ?? null,
      ...(request.topLogprobs !== undefined ? { top_logprobs: request.topLogprobs } : {}),
    },
    router,
    price,
    rateTokens: estimateInputTokens(unit.system, ask.messages, unit.schema) + outputTokens,
    worstCostUsd: worstCaseCost(worstCaseInputTokens(unit.system, ask.messages, request.answerSchema), outputTokens, price),
  };
}

/** The row that records the call as on the wire (send number `tryNumber`, `reservedUsd` held for it). */
export function callStart(call: PlannedCall, run: { runId: number; study: string }, tryNumber: number, reservedUsd: number, startedAt: StoreTime): CallStart {
  const { ask } = call;
  return {
    runId: run.runId,
    requestKey: call.key,
    study: run.study,
    model: ask.model,
    wave: ask.unit.wave.id,
    respondent: ask.unit.respondentId,
    item: ask.unit.item.id,
    generation: ask.generation,
    n: ask.n,
    attempt: ask.attempt,
    try: tryNumber,
    system: ask.unit.system,
    messages: call.request.messages,
    parameters: call.parameters,
    reservedUsd,
    startedAt,
  };
}

function buildRequest(ask: Ask, study: StudyLike): CompletionRequest {
  const unit = ask.unit;
  const frame = study.waves[unit.waveIndex]!.frame;
  const request: CompletionRequest = {
    system: unit.system,
    messages: ask.messages,
    maxTokens: unit.maxTokens,
    temperature: study.study.temperature,
    seed: seedFor(study.study.seed, ask.generation),
    n: ask.n,
    // The system prompt is worth caching when a respondent is asked more than one item.
    cacheSystemPrompt: study.survey.items.length > 1,
    subject: {
      respondent: frame.profile(unit.respondentIndex),
      respondentId: unit.respondentId,
      item: unit.item,
      wave: { id: unit.wave.id, context: unit.wave.context },
      generation: ask.generation,
    },
  };
  if (ask.conversation) request.cacheMessages = true;
  if (unit.topLogprobs !== undefined) request.topLogprobs = unit.topLogprobs;
  // Every provider gets the schema; it decides how to enforce it (strict output, JSON mode, or an instruction in the prompt).
  if (unit.schema !== undefined) request.answerSchema = unit.schema;
  return request;
}
