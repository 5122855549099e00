/**
 * The few handlebars helpers persona writers need. Each takes cells as they
 * come from a frame (strings from CSV, numbers from Parquet or SPSS, null when
 * missing) and returns plain text; none of them ever compiles its input.
 */
import type { HelperOptions } from "handlebars";

type Helper = (...args: unknown[]) => unknown;

function text(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}

/** `{{lowercase party}}` → "democrat". */
export function lowercase(value: unknown): string {
  return text(value).toLowerCase();
}

/** `{{uppercase region}}` → "SOUTH". */
export function uppercase(value: unknown): string {
  return text(value).toUpperCase();
}

/** `{{capitalize gender}}` → "Woman": first letter upper case, the rest as is. */
export function capitalize(value: unknown): string {
  const s = text(value);
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Words spoken with a leading vowel sound although spelled with a consonant, and the reverse. */
const AN_WORDS = /^(hour|honest|honou?r|heir|herb\b)/i;
const A_WORDS = /^(uni([^nmd]|$)|use|usu|uti|eu|one\b|once\b|ur[aeiou])/i;

/**
 * `{{article party}}` → "a Democrat", "an Independent"; `{{article age}}` →
 * "an 18", "an 80", "a 45" (numbers by how they are read aloud).
 */
export function article(value: unknown): string {
  const word = text(value).trim();
  if (word === "") return "";
  return `${startsWithVowelSound(word) ? "an" : "a"} ${word}`;
}

function startsWithVowelSound(word: string): boolean {
  const digits = /^\d[\d,]*/.exec(word)?.[0]?.replace(/,/g, "");
  if (digits !== undefined) {
    // Read aloud: 8, 80-89, 800... start with "eight"; 11 and 18 (and 11,000, 18,000...) with "eleven"/"eighteen".
    if (digits.startsWith("8")) return true;
    return digits.length % 3 === 2 && (digits.startsWith("11") || digits.startsWith("18"));
  }
  if (AN_WORDS.test(word)) return true;
  if (A_WORDS.test(word)) return false;
  // All-caps abbreviations read letter by letter: an FBI agent, an MBA, a UN official.
  if (/^[A-Z]{2,}\b/.test(word)) return /^[AEFHILMNORSX]/.test(word) && !/^U/.test(word);
  return /^[aeiou]/i.test(word);
}

/**
 * `{{number income}}` → "45,000"; `{{number share decimals=1}}` → "12.5".
 * Text that is not a number is returned unchanged.
 */
export function number(value: unknown, options?: HelperOptions): string {
  const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  if (!Number.isFinite(n)) return text(value);
  const decimals = options?.hash?.decimals as number | undefined;
  return n.toLocaleString("en-US", decimals === undefined ? { maximumFractionDigits: 2 } : { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** `{{with_default religion "no particular religion"}}`: the value, or the fallback when it is missing or empty. */
export function withDefault(value: unknown, fallback: unknown): unknown {
  return value === null || value === undefined || (typeof value === "string" && value.trim() === "") ? text(fallback) : value;
}

/** `{{#if (eq party "Democrat")}}`: equal as text, so a CSV "2" equals the number 2. */
export function eq(a: unknown, b: unknown): boolean {
  return a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);
}

/** The helpers, by the name templates use. The last argument handlebars passes is its options object. */
export const PERSONA_HELPERS: Record<string, Helper> = {
  lowercase: (value) => lowercase(value),
  uppercase: (value) => uppercase(value),
  capitalize: (value) => capitalize(value),
  article: (value) => article(value),
  number: (value, options) => number(value, options as HelperOptions),
  with_default: (value, fallback) => withDefault(value, fallback),
  eq: (a, b) => eq(a, b),
};

/**
 * Helpers (and built-in blocks) whose arguments may be missing: a field used
 * only through them is optional, so a respondent without a value is fine.
 * Value: which argument positions are guarded ("all" or the first only).
 */
export const GUARDING_HELPERS: Record<string, "first" | "all"> = {
  with_default: "first",
  eq: "all",
  if: "all",
  unless: "all",
};
