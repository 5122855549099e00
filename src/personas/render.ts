/**
 * Question texts with wave context: `Do you approve of the way {{president}}
 * is handling his job?`. Strict like personas: a context key the text uses
 * but the wave lacks is an InputError naming the survey file and item.
 */
import type { SurveyItem } from "../config/schema.ts";
import { InputError } from "../errors.ts";
import { compileText, unprintable, type CompiledText } from "./engine.ts";

/** Compiled texts by survey file and item text; the engine renders each item once per wave and respondent. */
const cache = new Map<string, CompiledText>();

/** The compiled question text of `item` (syntax errors are InputErrors naming file and item). */
export function compileQuestion(item: SurveyItem, file: string): CompiledText {
  const key = `${file}\u0000${item.text}`;
  let compiled = cache.get(key);
  if (compiled === undefined) {
    compiled = compileText(item.text, { file, field: `${item.id}.text` });
    if (cache.size > 10_000) cache.clear();
    cache.set(key, compiled);
  }
  return compiled;
}

/** The context keys an item's text uses. */
export function questionFields(item: SurveyItem, file: string): string[] {
  return compileQuestion(item, file).fields;
}

export function renderQuestion(item: SurveyItem, context: Record<string, unknown>, file: string): string {
  const compiled = compileQuestion(item, file);
  for (const field of compiled.fields) {
    const value = context[field];
    if (!Object.hasOwn(context, field) || value === null || value === undefined) {
      const has = Object.keys(context);
      throw new InputError(
        { file, field: `${item.id}.text` },
        `the question uses {{${field}}}, which the wave context does not define (${has.length > 0 ? `it has: ${has.join(", ")}` : "it is empty"})`,
      );
    }
    const problem = unprintable(value, field);
    if (problem !== undefined && (compiled.printed.has(field) || typeof value === "string")) {
      throw new InputError({ file, field: `${item.id}.text` }, `{{${field}}}: the wave context's "${field}" ${problem}`);
    }
  }
  return compiled.run(context).trim();
}
