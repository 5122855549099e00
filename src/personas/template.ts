/**
 * Persona templates (`personas/*.hbs`): handlebars rendered from one profile
 * row plus the wave's context, strictly. A field the template uses that the
 * row lacks, or a missing value in a field printed without a guard, is an
 * InputError naming the template, the field and the respondent.
 */
import { existsSync, statSync } from "node:fs";
import { InputError } from "../errors.ts";
import type { Cell } from "../tables/types.ts";
import { readTextFile } from "../util/text-file.ts";
import { compileText, MissingFieldError, templateError, unprintable, type CompiledText } from "./engine.ts";

export interface PersonaTemplate {
  /** Path as the user gave it; used in messages. */
  file: string;
  /** Top-level fields the template uses (frame columns or wave-context keys), in order of first use. */
  fields: string[];
  /**
   * Fields whose value is printed or passed to a helper without a guard
   * (`{{#if x}}`, `{{#unless x}}`, `{{with_default x "…"}}`, `eq`): a respondent
   * with a missing value there is an error rather than a prompt with a hole.
   */
  requiredFields: string[];
  /**
   * The persona for one respondent. Profile values win over context keys of
   * the same name (loadStudy refuses templates that would hit such a clash).
   */
  render(profile: Record<string, Cell>, context: Record<string, unknown>, respondentId: string): string;
}

export function compilePersona(path: string): PersonaTemplate {
  if (!existsSync(path)) throw new InputError({ file: path }, "file not found");
  if (statSync(path).isDirectory()) throw new InputError({ file: path }, "is a folder: expected a handlebars (.hbs) template");
  // Windows line endings would put "\r" into every prompt.
  const source = readTextFile(path).replace(/\r\n?/g, "\n");
  if (source.trim() === "") throw new InputError({ file: path }, "the template is empty: expected the persona text");
  return personaFromText(path, source);
}

/** A persona template from text, as if read from `file` (tests, generated studies). */
export function personaFromText(file: string, source: string): PersonaTemplate {
  const compiled = compileText(source, { file });
  if (!compiled.hasText) throw new InputError({ file }, "the template has only comments: expected the persona text");
  const required = compiled.required;
  return {
    file,
    fields: compiled.fields,
    requiredFields: compiled.fields.filter((f) => required.has(f)),
    render: (profile, context, respondentId) => renderPersona(file, compiled, profile, context, respondentId),
  };
}

function renderPersona(
  file: string,
  compiled: CompiledText,
  profile: Record<string, Cell>,
  context: Record<string, unknown>,
  respondentId: string,
): string {
  const row: Record<string, unknown> = { ...context, ...profile };
  // Only the fields the template names are handed over: a whole-row access
  // ({{lookup . "approve"}}, {{#each this}}) must not reach the real answers,
  // which the study check refuses by name.
  const data: Record<string, unknown> = {};
  for (const field of compiled.fields) {
    if (!Object.hasOwn(row, field)) {
      throw new InputError({ file, field }, `respondent "${respondentId}" has no field "${field}" (not a column of the frame nor a key of the wave context)`);
    }
    const value = row[field];
    data[field] = value;
    const problem = value === null || value === undefined ? undefined : unprintable(value, field);
    if (problem !== undefined && (compiled.printed.has(field) || typeof value === "string")) {
      const whose = Object.hasOwn(profile, field) ? `respondent "${respondentId}"'s "${field}"` : `the wave context's "${field}"`;
      throw new InputError({ file, field }, `${whose} ${problem}`);
    }
    if (compiled.required.has(field) && (value === null || value === undefined || (typeof value === "string" && value.trim() === ""))) {
      throw new InputError(
        { file, field },
        `respondent "${respondentId}" has no value for "${field}"; if it may be missing, guard it with {{#if ${field}}}…{{/if}} or {{with_default ${field} "…"}}`,
      );
    }
  }
  let text: string;
  try {
    text = compiled.run(data).trim();
  } catch (error) {
    if (error instanceof MissingFieldError) {
      throw new InputError({ file, field: error.field }, `respondent "${respondentId}": {{lookup}} of "${error.field}", which the value it looks in does not have`, { cause: error });
    }
    // Strict lookups below the top level, e.g. {{address.city}} without a city.
    const e = templateError(error, { file }, `respondent "${respondentId}"`);
    throw new InputError(e.location, e.problem.replace(/"(\w+)" not defined in \[object Object\]/, 'no field "$1"'), { cause: error });
  }
  if (text === "") {
    throw new InputError({ file }, `the persona of respondent "${respondentId}" is empty: every part of the template is conditional and none applies`);
  }
  return text;
}
