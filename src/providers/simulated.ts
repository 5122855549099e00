/**
 * `simulated:<name>`: an offline, seeded provider for demos and tests. It
 * never reads the prompt and never pretends to be an LLM: it answers from
 * request.subject (profile, item, wave, generation) with a documented
 * parametric model (docs/simulated-provider.md), and returns the answer in
 * the text form a real vendor returns under structured output.
 */
import type { SurveyItem } from "../config/schema.ts";
import { BadRequestError, UsageError } from "../errors.ts";
import { sample, temper, type AnswerDistribution } from "../simulation/distribution.ts";
import { parseSimulatedModel } from "../simulation/models.ts";
import { uniformFromKey } from "../simulation/random.ts";
import { siliconDistribution } from "../simulation/respondent.ts";
import { answerKeys } from "../generation/prompt.ts";
import { simulatedBatchTransport } from "./simulated-batch.ts";
import type { CompletionChoice, CompletionRequest, CompletionResult, Provider, TokenLogprob } from "./types.ts";

export interface SimulatedProviderOptions {
  /**
   * Simulated latency per call in ms: a number, or [min, max] for a
   * deterministic per-request value in that range. Default: the environment
   * variable SILICON_SIMULATED_LATENCY_MS ("50" or "20-80"), else none.
   */
  latencyMs?: number | [number, number];
  env?: NodeJS.ProcessEnv;
}

export function createSimulatedProvider(model: string, options: SimulatedProviderOptions = {}): Provider {
  const parsed = parseSimulatedModel(model);
  const latency = options.latencyMs ?? latencyFromEnv((options.env ?? process.env)["SILICON_SIMULATED_LATENCY_MS"]);
  const id = `simulated:${model}`;
  const provider: Provider = {
    vendor: "simulated",
    model,
    id,
    capabilities: { multipleChoices: true, answerSchema: true, logprobs: true, promptCaching: false },
    async complete(request: CompletionRequest, { signal }: { signal: AbortSignal }): Promise<CompletionResult> {
      signal.throwIfAborted();
      const subject = request.subject;
      if (subject === undefined) {
        throw new BadRequestError(id, "the request has no subject: the simulated provider answers from the respondent's profile, never from the prompt", {
          retryable: false,
        });
      }
      const seed = request.seed ?? 0;
      const base = siliconDistribution(parsed, subject.item, subject.respondent, subject.wave);
      const tempered = temper(base, request.temperature);
      const drawKey = `draw|${id}|${seed}|${subject.wave.id}|${subject.respondentId}|${subject.item.id}`;
      const choices: CompletionChoice[] = [];
      for (let j = 0; j < Math.max(1, request.n); j++) {
        const value = sample(tempered, uniformFromKey(`${drawKey}|${subject.generation + j}`));
        const choice: CompletionChoice = { text: answerText(value, subject.item, request.answerSchema?.schema), finishReason: "stop" };
        if (request.topLogprobs !== undefined && request.topLogprobs > 0) {
          const top = topLogprobs(base, request.topLogprobs, subject.item);
          if (top !== undefined) choice.topLogprobs = top;
        }
        choices.push(choice);
      }
      if (latency !== undefined) await sleep(latencyFor(latency, drawKey + `|${subject.generation}`), signal);
      const promptChars = request.system.length + request.messages.reduce((sum, m) => sum + m.content.length, 0);
      return {
        choices,
        usage: {
          inputTokens: Math.ceil(promptChars / 4),
          outputTokens: choices.reduce((sum, c) => sum + Math.max(1, Math.ceil(c.text.length / 4)), 0),
          cachedInputTokens: 0,
          cacheWriteTokens: 0,
        },
        model: id,
        requestId: `sim-${(uniformFromKey(drawKey + `|${subject.generation}|id`) * 2 ** 52).toString(36)}`,
      };
    },
  };
  return { ...provider, batch: simulatedBatchTransport(provider) };
}

/**
 * The answer as a vendor would return it: JSON matching the answer schema
 * when one is given (structured output / tool input), else plain text — the
 * option label for choice items, the number for scales.
 */
export function answerText(value: number, item: SurveyItem, schema: Record<string, unknown> | undefined): string {
  const label = "options" in item ? item.options.find((o) => o.code === value)?.label : undefined;
  if (schema === undefined) return label ?? String(value);
  return JSON.stringify(fillSchema(schema, { value, label }, true));
}

interface Answer {
  value: number;
  label: string | undefined;
}

type JsonSchema = Record<string, unknown>;

/**
 * Fills a JSON schema with the answer. The answer goes into the property
 * chosen by answerProperty; other required properties get a neutral value
 * of their type ("" for text, 0, false, [], {}).
 */
function fillSchema(schema: JsonSchema, answer: Answer, isAnswer: boolean): unknown {
  const type = schema["type"];
  const properties = schema["properties"] as Record<string, JsonSchema> | undefined;
  if ((type === "object" || (type === undefined && properties !== undefined)) && properties !== undefined) {
    const required = (schema["required"] as string[] | undefined) ?? [];
    const names = Object.keys(properties);
    const answerKey = isAnswer ? answerProperty(properties, required) : undefined;
    const out: Record<string, unknown> = {};
    for (const name of names) {
      if (name === answerKey) out[name] = fillSchema(properties[name]!, answer, true);
      else if (required.includes(name)) out[name] = fillSchema(properties[name]!, answer, false);
    }
    return out;
  }
  for (const key of ["anyOf", "oneOf"]) {
    const branches = schema[key] as JsonSchema[] | undefined;
    if (branches !== undefined && isAnswer) {
      const match = branches.find((b) => b["const"] === answer.value || b["const"] === answer.label) ?? branches[0];
      return match === undefined ? answer.value : fillSchema(match, answer, true);
    }
  }
  if (!isAnswer) return neutral(type);
  if (schema["const"] !== undefined) return schema["const"];
  const allowed = schema["enum"] as unknown[] | undefined;
  if (allowed !== undefined) {
    return allowed.find((v) => v === answer.value) ?? allowed.find((v) => v === answer.label) ?? allowed.find((v) => v === String(answer.value)) ?? answer.value;
  }
  if (type === "string") return answer.label ?? String(answer.value);
  if (type === "boolean") return answer.value === 1;
  return answer.value;
}

/** The property meant for the answer: `answer`, else the first that constrains a value (enum, const, a number), else the only or first required one. */
function answerProperty(properties: Record<string, JsonSchema>, required: string[]): string | undefined {
  const names = Object.keys(properties);
  if (names.includes("answer")) return "answer";
  const constrained = names.find((name) => {
    const p = properties[name]!;
    return ["enum", "const", "anyOf", "oneOf"].some((k) => p[k] !== undefined) || p["type"] === "integer" || p["type"] === "number";
  });
  return constrained ?? (names.length === 1 ? names[0] : (required[0] ?? names[0]));
}

function neutral(type: unknown): unknown {
  switch (type) {
    case "string":
      return "";
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    case "array":
      return [];
    case "object":
      return {};
    default:
      return null;
  }
}

/**
 * The exact answer distribution (before temperature) as first-token
 * log-probabilities: one token per answer value, most likely first. The
 * token is the one-token answer logprobs elicitation shows for the option
 * (its code when every code is a digit, else its position: answerKeys), or
 * the value as text. Undefined for continuous answers (no finite token set).
 */
function topLogprobs(dist: AnswerDistribution, k: number, item: SurveyItem): TokenLogprob[] | undefined {
  if (dist.kind !== "discrete") return undefined;
  const keys = answerKeys(item);
  const token = (value: number) => keys?.find((key) => key.code === value)?.key ?? String(value);
  const entries = dist.values.map((value, i) => ({ token: token(value), logprob: Math.log(dist.probs[i]!) }));
  entries.sort((a, b) => b.logprob - a.logprob);
  return entries.slice(0, k);
}

function latencyFromEnv(value: string | undefined): number | [number, number] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const range = /^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$/.exec(value);
  if (range) return [Number(range[1]), Number(range[2])];
  const n = Number(value);
  if (Number.isFinite(n) && n >= 0) return n;
  throw new UsageError(`SILICON_SIMULATED_LATENCY_MS: expected milliseconds such as "50" or a range such as "20-80", got "${value}"`);
}

function latencyFor(latency: number | [number, number], key: string): number {
  if (typeof latency === "number") return latency;
  return latency[0] + (latency[1] - latency[0]) * uniformFromKey(`latency|${key}`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
