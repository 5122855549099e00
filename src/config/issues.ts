/**
 * Words for zod issues (STYLE.md §2: finding a problem and wording it are
 * separate). One short clause per issue, written for someone editing YAML by
 * hand: "expected a whole number ≥ 1, got -1", "unknown key "generation";
 * did you mean "generations"?".
 */
import type { z } from "zod";
import { editDistance } from "../util/edit-distance.ts";

export type Issue = z.core.$ZodIssue;

export interface IssueContext {
  /** The parsed document, to quote the offending value. */
  data: unknown;
  /** The root schema, to list the keys a mapping allows. */
  schema: z.ZodType;
  /** What the whole file should be, e.g. "a study (name, survey, persona, waves, models)". */
  what: string;
}

const TYPE_WORDS: Record<string, string> = {
  string: "a text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  tuple: "a list",
  object: "a mapping (key: value lines)",
  record: "a mapping (key: value lines)",
};

/** The wording of one issue; the location is printed by the caller. */
export function describeIssue(issue: Issue, context: IssueContext): string {
  const value = writtenValue(context.data, issue.path);
  switch (issue.code) {
    case "invalid_type": {
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      if (issue.path.length === 0) return `expected ${context.what}, got ${kindOf(value)}`;
      if (value === undefined) return `missing: expected ${expected}`;
      return `expected ${expected}, got ${quote(value)}`;
    }
    case "invalid_value":
      return `expected ${oneOf(issue.values)}, got ${quote(value)}`;
    case "invalid_union": {
      if (issue.discriminator !== undefined && "options" in issue && issue.options !== undefined) {
        const what = issue.discriminator === "type" && issue.path.includes("items") ? "item type" : issue.discriminator;
        if (value === undefined) return `missing: expected one of ${issue.options.join(", ")}`;
        return `unknown ${what} ${quote(value)}: expected one of ${issue.options.join(", ")}`;
      }
      if (value === undefined) return `missing: expected ${alternatives(issue.errors)}`;
      return `${quote(value)} does not match any allowed form`;
    }
    case "unrecognized_keys": {
      const key = issue.keys[0]!;
      const allowed = allowedKeys(context.schema, context.data, issue.path);
      const near = allowed === undefined ? undefined : closest(key, allowed);
      const hint =
        near !== undefined ? `; did you mean "${near}"?` : allowed !== undefined ? `; allowed keys: ${allowed.join(", ")}` : "";
      return `unknown key "${key}"${hint}`;
    }
    case "too_small":
      return `${boundWords(issue.origin, "min", issue.minimum, issue.inclusive)}${gotClause(issue.origin, value)}`;
    case "too_big":
      return `${boundWords(issue.origin, "max", issue.maximum, issue.inclusive)}${gotClause(issue.origin, value)}`;
    case "invalid_format":
      return `${issue.message}, got ${quote(value)}`;
    case "not_multiple_of":
      return `expected a multiple of ${issue.divisor}, got ${quote(value)}`;
    default:
      return issue.message;
  }
}

/** "a text or a mapping (key: value lines)": the types a union's forms expect. */
function alternatives(errors: readonly (readonly Issue[])[]): string {
  const kinds = errors.flatMap((issues) => issues.filter((i) => i.code === "invalid_type").map((i) => TYPE_WORDS[i.expected] ?? i.expected));
  return [...new Set(kinds)].join(" or ") || "a value";
}

/**
 * zod keeps checking after a type error (e.g. `min(3)` on a string that
 * should have been a list); such follow-up issues on the same path only
 * repeat the first one and are not counted.
 */
export function isRedundantIssue(issue: Issue, earlier: readonly Issue[]): boolean {
  const key = JSON.stringify(issue.path);
  return earlier.some(
    (e) => JSON.stringify(e.path) === key && (e.code === "invalid_type" || e.code === "invalid_union"),
  );
}

function boundWords(origin: string, side: "min" | "max", bound: number | bigint, inclusive: boolean | undefined): string {
  const b = Number(bound);
  if (origin === "array" || origin === "set") {
    return side === "min" ? `expected at least ${b} item${b === 1 ? "" : "s"}` : `expected at most ${b} item${b === 1 ? "" : "s"}`;
  }
  if (origin === "string") {
    if (side === "min" && b === 1) return "expected a non-empty text";
    return side === "min" ? `expected at least ${b} characters` : `expected at most ${b} characters`;
  }
  const op = side === "min" ? (inclusive ? "≥" : ">") : inclusive ? "≤" : "<";
  const kind = origin === "int" ? "a whole number" : "a number";
  return `expected ${kind} ${op} ${b}`;
}

function gotClause(origin: string, value: unknown): string {
  if (origin === "array" || origin === "set") return Array.isArray(value) ? `, got ${value.length}` : "";
  if (origin === "string") return "";
  return value === undefined ? "" : `, got ${quote(value)}`;
}

function oneOf(values: readonly unknown[]): string {
  const quoted = values.map((v) => quote(v));
  if (quoted.length === 1) return quoted[0]!;
  return `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}

/** A short, quoted rendering of a YAML value for messages. */
export function quote(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return kindOf(value);
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return quote(value);
}

interface SchemaDef {
  type: string;
  shape?: Record<string, { def: SchemaDef }>;
  innerType?: { def: SchemaDef };
  element?: { def: SchemaDef };
  valueType?: { def: SchemaDef };
  items?: { def: SchemaDef }[];
  options?: { def: SchemaDef }[];
  discriminator?: string;
  in?: { def: SchemaDef };
}

/** The keys the object schema at `path` allows (walking defaults, lists, unions by their discriminator). */
function allowedKeys(schema: z.ZodType, data: unknown, path: readonly PropertyKey[]): string[] | undefined {
  let def: SchemaDef | undefined = (schema as unknown as { def: SchemaDef }).def;
  let depth = 0;
  while (def !== undefined) {
    switch (def.type) {
      case "default":
      case "prefault":
      case "optional":
      case "nullable":
        def = def.innerType?.def;
        continue;
      case "pipe":
        def = def.in?.def;
        continue;
      case "union": {
        const here = valueAt(data, path.slice(0, depth)) as Record<string, unknown> | undefined;
        const tag = def.discriminator === undefined ? undefined : here?.[def.discriminator];
        def = def.options?.find((o) => o.def.shape?.[def!.discriminator!] && literalOf(o.def.shape[def!.discriminator!]!.def) === tag)?.def;
        continue;
      }
    }
    if (depth === path.length) return def.type === "object" && def.shape ? Object.keys(def.shape) : undefined;
    const key = path[depth++];
    if (def.type === "object") def = def.shape?.[key as string]?.def;
    else if (def.type === "array") def = def.element?.def;
    else if (def.type === "tuple") def = def.items?.[key as number]?.def;
    else if (def.type === "record") def = def.valueType?.def;
    else return undefined;
  }
  return undefined;
}

function literalOf(def: SchemaDef): unknown {
  const values = (def as unknown as { values?: unknown[] }).values;
  return values?.[0];
}

/** The allowed key within edit distance 2 of `key`, if exactly one is nearest. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** The value at `path` in the parsed data, or undefined. */
/**
 * The value the issue is about, as written. A shorthand the schema expands (a
 * bare string standing for a mapping, e.g. an endpoint's URL for `{base_url}`)
 * has no value at the expanded path: quote the shorthand instead.
 */
function writtenValue(data: unknown, path: readonly PropertyKey[]): unknown {
  const value = valueAt(data, path);
  if (value !== undefined || path.length === 0) return value;
  const parent = valueAt(data, path.slice(0, -1));
  return parent !== null && typeof parent !== "object" ? parent : undefined;
}

export function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key as string];
  }
  return value;
}
