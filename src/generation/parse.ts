/**
 * Reading an answer: the vendor's text (JSON under structured output, prose
 * otherwise) becomes the item's code or number, a refusal, or an invalid
 * answer with the reason a re-ask will quote.
 *
 * Accepted, in order: an explicit refusal; JSON `{"answer": x}` (or a bare
 * JSON value); a number alone, or a code followed by its label ("3 = Agree");
 * an option's label alone, case and punctuation aside ("strongly agree");
 * in prose, exactly one number ("I'd say 70"). Anything else, or a number out
 * of range, is invalid. Prose that declines to answer and contains no usable
 * answer is a refusal.
 */
import type { SurveyItem } from "../config/schema.ts";
import type { CompletionChoice } from "../providers/types.ts";
import { optionsOf, rangeOf, type AnswerKey } from "./prompt.ts";

export type ParseOutcome =
  | { status: "answered"; value: number; distribution?: Distribution }
  | { status: "invalid"; reason: string }
  | { status: "refusal"; reason: string };

/** An answer distribution read from log-probabilities (logprobs elicitation). */
export interface Distribution {
  /** Probability of each option code, summing to 1 (options outside the top alternatives get 0). */
  probabilities: Record<string, number>;
  /** Probability of first tokens that are no option (before renormalising over the options). */
  nonOptionMass: number;
}

const DECLINED_ACTS = "(?:answer|respond|reply|provide|share|express|give|state|comply|assist|help|participate|take|adopt|pretend|role-?play|speak|say)";
const REFUSAL_PATTERNS = [
  new RegExp(`\\bI(?: can(?:no|['’])t|['’]m (?:not able|unable|not comfortable|not going)|(?: am)? (?:not able|unable|not comfortable|not going)| won['’]t| will not| would rather not| must decline| decline| refuse)(?: to)? ${DECLINED_ACTS}`, "i"),
  /\bas an (?:AI|artificial intelligence|(?:large )?language model)\b/i,
  /\b(?:refuse|decline) to (?:answer|respond|share|say)\b/i,
  /\bprefer not to (?:answer|say|share)\b/i,
];

const NUMBER = /[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?/gi;

export function parseAnswer(item: SurveyItem, choice: CompletionChoice): ParseOutcome {
  const refused = vendorRefusal(choice);
  if (refused !== undefined) return refused;
  const text = stripFence(choice.text.trim());
  if (text === "") {
    return {
      status: "invalid",
      reason: choice.finishReason === "length" || choice.finishReason === "max_tokens"
        ? "empty answer (stopped at max_tokens)"
        : "empty answer",
    };
  }
  const candidate = fromJson(text);
  const outcome = candidate === undefined ? fromProse(item, text) : fromValue(item, candidate);
  const prose = candidate === undefined ? text : typeof candidate === "string" ? candidate : undefined;
  if (outcome.status === "invalid" && prose !== undefined && looksLikeRefusal(prose)) {
    return { status: "refusal", reason: `refused: ${clip(prose)}` };
  }
  if (outcome.status === "invalid" && (choice.finishReason === "length" || choice.finishReason === "max_tokens")) {
    return { status: "invalid", reason: `${outcome.reason}; the answer was cut off at max_tokens` };
  }
  return outcome;
}

function vendorRefusal(choice: CompletionChoice): ParseOutcome | undefined {
  if (choice.refusal !== undefined && choice.refusal.trim() !== "") {
    return { status: "refusal", reason: `refused: ${clip(choice.refusal)}` };
  }
  if (choice.finishReason === "content_filter") {
    return { status: "refusal", reason: "refused: the vendor's content filter stopped the answer" };
  }
  return undefined;
}

/**
 * logprobs elicitation: the answer distribution from the first token's top
 * alternatives. Each alternative that is an answer key once spaces (and the
 * tokenizers' word-start marks Ġ and ▁) are stripped counts for its option;
 * alternatives naming the same option add up. The options' share of
 * probability is renormalised to 1 and tempered as sampling at `temperature`
 * would (p^(1/T), the mode at T = 0); what the model put elsewhere is
 * reported as `nonOptionMass`. The value is the distribution's expected code.
 */
export function parseLogprobs(item: SurveyItem, choice: CompletionChoice, keys: readonly AnswerKey[], temperature: number): ParseOutcome {
  const refused = vendorRefusal(choice);
  if (refused !== undefined) return refused;
  const top = choice.topLogprobs ?? [];
  const mass = new Map<number, number>(keys.map((k) => [k.code, 0]));
  let optionMass = 0;
  for (const { token, logprob } of top) {
    const key = keys.find((k) => k.key === token.replace(/^[\sĠ▁]+|\s+$/g, ""));
    if (key === undefined || !Number.isFinite(logprob)) continue;
    const p = Math.exp(logprob);
    mass.set(key.code, mass.get(key.code)! + p);
    optionMass += p;
  }
  if (!(optionMass > 0)) {
    const seen = top.slice(0, 5).map((t) => JSON.stringify(t.token)).join(", ");
    return { status: "invalid", reason: `no option code among the likely first tokens${seen === "" ? "" : ` (${seen})`}` };
  }
  const tempered = temper([...mass.values()].map((p) => p / optionMass), temperature);
  const probabilities: Record<string, number> = {};
  let value = 0;
  [...mass.keys()].forEach((code, i) => {
    probabilities[String(code)] = tempered[i]!;
    value += code * tempered[i]!;
  });
  return { status: "answered", value, distribution: { probabilities, nonOptionMass: Math.min(1, Math.max(0, 1 - optionMass)) } };
}

/** p^(1/T), renormalised; at T = 0 all mass on the most likely (shared equally on ties). */
function temper(p: number[], temperature: number): number[] {
  if (temperature === 1) return p;
  if (temperature <= 0) {
    const top = Math.max(...p);
    const ties = p.filter((x) => x === top).length;
    return p.map((x) => (x === top ? 1 / ties : 0));
  }
  // In logs, so that small probabilities at low temperature do not underflow to 0/0.
  const logs = p.map((x) => (x > 0 ? Math.log(x) / temperature : -Infinity));
  const max = Math.max(...logs);
  const weights = logs.map((l) => Math.exp(l - max));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

export function looksLikeRefusal(text: string): boolean {
  return REFUSAL_PATTERNS.some((pattern) => pattern.test(text));
}

/** The JSON answer value, or undefined when the text is not JSON. */
function fromJson(text: string): unknown {
  if (!/^[{["\d.+-]|^(true|false|null)$/.test(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
    const record = parsed as Record<string, unknown>;
    if ("answer" in record) return record.answer;
    const keys = Object.keys(record);
    return keys.length === 1 ? record[keys[0]!] : new MissingAnswer(keys);
  }
  return parsed;
}

class MissingAnswer {
  readonly keys: string[];
  constructor(keys: string[]) {
    this.keys = keys;
  }
}

function fromValue(item: SurveyItem, value: unknown): ParseOutcome {
  if (value instanceof MissingAnswer) {
    return { status: "invalid", reason: `JSON without an "answer" field (fields: ${value.keys.join(", ") || "none"})` };
  }
  if (typeof value === "number") return validate(item, value);
  if (typeof value === "string") return fromProse(item, value.trim());
  return { status: "invalid", reason: `expected a number as the answer, got ${clip(JSON.stringify(value) ?? String(value))}` };
}

function fromProse(item: SurveyItem, text: string): ParseOutcome {
  const bare = normalize(text);
  if (/^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$/.test(bare)) return validate(item, Number(bare));
  const options = optionsOf(item);
  if (options !== undefined) {
    const byLabel = options.filter((o) => normalize(o.label) === bare);
    if (byLabel.length === 1) return { status: "answered", value: byLabel[0]!.code };
    // "3 = Agree", "3. Agree", "(3) Agree": a code and, if given, its own label.
    const coded = /^\(?([-+]?\d+(?:\.\d+)?)\)?\s*(?:[=.):-]|\s)\s*(.+)$/.exec(bare);
    if (coded !== null) {
      const code = Number(coded[1]);
      const named = options.find((o) => normalize(o.label) === coded[2]);
      if (named !== undefined) {
        if (named.code === code) return { status: "answered", value: code };
        return { status: "invalid", reason: `code ${code} does not match the label "${named.label}" (code ${named.code})` };
      }
    }
  }
  const numbers = text.match(NUMBER) ?? [];
  if (numbers.length === 1) return validate(item, Number(numbers[0]));
  if (numbers.length > 1) {
    return { status: "invalid", reason: `ambiguous answer with several numbers: "${clip(text)}"` };
  }
  return { status: "invalid", reason: `no ${options === undefined ? "number" : "option code"} in the answer "${clip(text)}"` };
}

function validate(item: SurveyItem, value: number): ParseOutcome {
  if (!Number.isFinite(value)) return { status: "invalid", reason: `${value} is not a number` };
  const options = optionsOf(item);
  if (options !== undefined) {
    if (options.some((o) => o.code === value)) return { status: "answered", value };
    return { status: "invalid", reason: `${value} is not one of the codes ${options.map((o) => o.code).join(", ")}` };
  }
  const range = rangeOf(item)!;
  if (value < range.min || value > range.max) {
    return { status: "invalid", reason: `${value} is outside ${range.min} to ${range.max}` };
  }
  if (range.integer && !Number.isInteger(value)) return { status: "invalid", reason: `${value} is not a whole number` };
  return { status: "answered", value };
}

/** Lower case, single spaces, no surrounding quotes or closing punctuation. */
function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/^["'“”‘’*\s]+|["'“”‘’*.!,;:\s]+$/g, "");
}

function stripFence(text: string): string {
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(text);
  return fenced === null ? text : fenced[1]!.trim();
}

function clip(text: string, max = 120): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}
