/**
 * What a respondent is asked. The system prompt is the persona (a stable
 * prefix, so vendors can cache it); the user message is the survey's
 * instructions, the question, its options and how to answer. Under structured
 * elicitation the answer is also constrained by a JSON schema.
 *
 * Elicitation modes (the study's `elicitation`): `structured` and `free_text`
 * ask each item on its own; `questionnaire` asks every item of a respondent
 * in one conversation, each turn constrained like `structured`; `logprobs`
 * asks a choice item for one token, the code of an option, and reads the
 * answer distribution from the first token's log-probabilities. Items a single
 * token cannot answer (thermometers, numbers, more than ten options) are
 * asked as `structured` in a logprobs study (`itemModeOf`).
 *
 * The schema keeps to what every vendor's strict mode accepts: an object with
 * one required `answer`, an integer `enum` of option codes for choice items,
 * a bare number for thermometer and numeric items (range constraints such as
 * `minimum` are not accepted everywhere, so the range is in the description
 * and in the text, and parse.ts checks it).
 */
import type { AnswerOption, Survey, SurveyItem } from "../config/schema.ts";
import type { AnswerSchema } from "../providers/types.ts";
import { deepFreeze } from "../util/freeze.ts";

/** The study's elicitation. */
export type PromptMode = "structured" | "free_text" | "logprobs" | "questionnaire";
export const PROMPT_MODES: readonly PromptMode[] = ["structured", "free_text", "logprobs", "questionnaire"];

/** How one item is asked and read. */
export type ItemMode = "structured" | "free_text" | "logprobs";

/** Alternatives asked for the first token in logprobs mode (the most OpenAI and vLLM return by default). */
export const TOP_LOGPROBS = 20;

/** A one-token answer of a choice item in logprobs mode, and the option code it stands for. */
export interface AnswerKey {
  key: string;
  code: number;
}

export interface ItemPrompt {
  /** The first user message. */
  user: string;
  /** The JSON schema for structured output (structured mode only). */
  schema?: AnswerSchema;
  /** logprobs mode: the one-token answers, one per option. */
  answerKeys?: AnswerKey[];
}

/**
 * The one-token answers of a choice item: its own codes when every code is a
 * digit 0–9 (a digit is one token in every vendor's tokenizer), else the
 * positions 1, 2, … of its options as listed (the model is shown those).
 * Undefined for scales and for more than ten options: no single token can
 * answer them.
 */
export function answerKeys(item: SurveyItem): AnswerKey[] | undefined {
  const options = optionsOf(item);
  if (options === undefined) return undefined;
  if (options.every((o) => Number.isInteger(o.code) && o.code >= 0 && o.code <= 9)) {
    return options.map((o) => ({ key: String(o.code), code: o.code }));
  }
  if (options.length > 9) return undefined;
  return options.map((o, i) => ({ key: String(i + 1), code: o.code }));
}

/** How `item` is asked in a study whose elicitation is `mode`. */
export function itemModeOf(mode: PromptMode, item: SurveyItem): ItemMode {
  if (mode === "questionnaire") return "structured";
  if (mode === "logprobs") return answerKeys(item) === undefined ? "structured" : "logprobs";
  return mode;
}

export function optionsOf(item: SurveyItem): AnswerOption[] | undefined {
  return item.type === "binary" || item.type === "single_choice" || item.type === "likert" ? item.options : undefined;
}

/** The allowed range of a thermometer or numeric item. */
export function rangeOf(item: SurveyItem): { min: number; max: number; integer: boolean; unit?: string } | undefined {
  if (item.type === "thermometer") return { min: item.min, max: item.max, integer: false };
  if (item.type === "numeric") {
    const range: { min: number; max: number; integer: boolean; unit?: string } = {
      min: item.min,
      max: item.max,
      integer: item.integer,
    };
    if (item.unit !== undefined) range.unit = item.unit;
    return range;
  }
  return undefined;
}

/**
 * `question` is the item text already rendered with the wave's context;
 * `mode` is how the item is asked (itemModeOf), never `questionnaire`.
 */
export function buildItemPrompt(survey: Survey, item: SurveyItem, question: string, mode: ItemMode): ItemPrompt {
  const parts: string[] = [];
  if (survey.instructions !== undefined && survey.instructions.trim() !== "") parts.push(survey.instructions.trim());
  parts.push(question.trim());
  const options = optionsOf(item);
  const keys = mode === "logprobs" ? answerKeys(item) : undefined;
  if (mode === "logprobs" && keys === undefined) throw new RangeError(`item ${item.id} cannot be asked for one token`);
  if (options !== undefined) parts.push(options.map((o, i) => `${keys?.[i]?.key ?? formatCode(o.code)} = ${o.label}`).join("\n"));
  parts.push(answerInstruction(item, mode));
  const prompt: ItemPrompt = { user: parts.join("\n\n") };
  if (mode === "structured") prompt.schema = answerSchema(item);
  if (keys !== undefined) prompt.answerKeys = keys;
  return prompt;
}

/** The sentence telling the respondent how to answer. */
export function answerInstruction(item: SurveyItem, mode: ItemMode): string {
  const what = expectedAnswer(item, mode === "logprobs" ? answerKeys(item) : undefined);
  return mode === "structured"
    ? `Reply with JSON of the form {"answer": <${what.short}>}, giving ${what.long}.`
    : `Reply with ${what.long} only.`;
}

/** The short corrective follow-up after an answer that could not be used. */
export function reaskMessage(item: SurveyItem, reason: string, mode: ItemMode): string {
  return `That answer could not be used (${reason}). ${answerInstruction(item, mode)}`;
}

function expectedAnswer(item: SurveyItem, keys: AnswerKey[] | undefined): { short: string; long: string } {
  const options = optionsOf(item);
  if (options !== undefined) {
    const codes = keys?.map((k) => k.key) ?? options.map((o) => formatCode(o.code));
    return { short: "code", long: `the code of one option (${codes.join(", ")})` };
  }
  const range = rangeOf(item)!;
  const kind = range.integer ? "a whole number" : "a number";
  const unit = range.unit === undefined ? "" : ` (${range.unit})`;
  return { short: "number", long: `${kind} from ${formatCode(range.min)} to ${formatCode(range.max)}${unit}` };
}

export function answerSchema(item: SurveyItem): AnswerSchema {
  const options = optionsOf(item);
  let answer: Record<string, unknown>;
  if (options !== undefined) {
    const codes = options.map((o) => o.code);
    answer = {
      type: codes.every(Number.isInteger) ? "integer" : "number",
      enum: codes,
      description: options.map((o) => `${formatCode(o.code)} = ${o.label}`).join("; "),
    };
  } else {
    const range = rangeOf(item)!;
    answer = {
      type: range.integer ? "integer" : "number",
      description: `from ${formatCode(range.min)} to ${formatCode(range.max)}${range.unit === undefined ? "" : ` ${range.unit}`}`,
    };
  }
  // Frozen: one schema serves every request for the item, and providers cache what they make of it by identity.
  return deepFreeze({
    name: schemaName(item.id),
    schema: { type: "object", properties: { answer }, required: ["answer"], additionalProperties: false },
  });
}

/** Vendors accept names of [A-Za-z0-9_-], at most 64 characters. */
function schemaName(itemId: string): string {
  return `answer_${itemId.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 64);
}

function formatCode(value: number): string {
  return String(value);
}
