/**
 * What a respondent is asked. The system prompt is the persona (a stable
 * prefix, so vendors can cache it); the user message is the survey's
 * instructions, the question, its options and how to answer. Under structured
 * elicitation the answer is also constrained by a JSON schema.
 *
 * The schema keeps to what every vendor's strict mode accepts: an object with
 * one required `answer`, an integer `enum` of option codes for choice items,
 * a bare number for thermometer and numeric items (range constraints such as
 * `minimum` are not accepted everywhere, so the range is in the description
 * and in the text, and parse.ts checks it).
 */
import type { AnswerOption, Survey, SurveyItem } from "../config/schema.ts";
import type { AnswerSchema } from "../providers/types.ts";

/** How answers are asked for in this version (logprobs and questionnaire come later). */
export type PromptMode = "structured" | "free_text";

export interface ItemPrompt {
  /** The first user message. */
  user: string;
  /** The JSON schema for structured output (structured mode only). */
  schema?: AnswerSchema;
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

/** `question` is the item text already rendered with the wave's context. */
export function buildItemPrompt(survey: Survey, item: SurveyItem, question: string, mode: PromptMode): ItemPrompt {
  const parts: string[] = [];
  if (survey.instructions !== undefined && survey.instructions.trim() !== "") parts.push(survey.instructions.trim());
  parts.push(question.trim());
  const options = optionsOf(item);
  if (options !== undefined) parts.push(options.map((o) => `${formatCode(o.code)} = ${o.label}`).join("\n"));
  parts.push(answerInstruction(item, mode));
  const prompt: ItemPrompt = { user: parts.join("\n\n") };
  if (mode === "structured") prompt.schema = answerSchema(item);
  return prompt;
}

/** The sentence telling the respondent how to answer. */
export function answerInstruction(item: SurveyItem, mode: PromptMode): string {
  const what = expectedAnswer(item);
  return mode === "structured"
    ? `Reply with JSON of the form {"answer": <${what.short}>}, giving ${what.long}.`
    : `Reply with ${what.long} only.`;
}

/** The short corrective follow-up after an answer that could not be used. */
export function reaskMessage(item: SurveyItem, reason: string, mode: PromptMode): string {
  return `That answer could not be used (${reason}). ${answerInstruction(item, mode)}`;
}

function expectedAnswer(item: SurveyItem): { short: string; long: string } {
  const options = optionsOf(item);
  if (options !== undefined) {
    const codes = options.map((o) => formatCode(o.code));
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
  return {
    name: schemaName(item.id),
    schema: { type: "object", properties: { answer }, required: ["answer"], additionalProperties: false },
  };
}

/** Vendors accept names of [A-Za-z0-9_-], at most 64 characters. */
function schemaName(itemId: string): string {
  return `answer_${itemId.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 64);
}

function formatCode(value: number): string {
  return String(value);
}
