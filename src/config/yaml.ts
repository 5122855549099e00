/**
 * YAML input files (study, survey) with line numbers: parse with the `yaml`
 * package and its LineCounter, validate with a zod schema, and turn the first
 * problem into one InputError line that names file, line and field, e.g.
 * `study.yaml: line 12, field "waves[1].role": expected "historical" or "target"`.
 */
import { existsSync, statSync } from "node:fs";
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { InputError, type InputLocation } from "../errors.ts";
import { readTextFile } from "../util/text-file.ts";
import { describeIssue, isRedundantIssue, valueAt, type Issue } from "./issues.ts";

export type YamlPath = readonly (string | number)[];

export interface YamlSource {
  /** Path as the user gave it; used in messages. */
  file: string;
  doc: Document;
  lineCounter: LineCounter;
  /** The document as plain JavaScript data. */
  data: unknown;
}

/** Reads and parses a YAML file; a missing file or a syntax error is an InputError with its line. */
export function readYamlFile(file: string): YamlSource {
  if (!existsSync(file)) throw new InputError({ file }, "file not found");
  if (statSync(file).isDirectory()) throw new InputError({ file }, "is a folder: expected a YAML file");
  return parseYaml(file, readTextFile(file));
}

/** Parses YAML text as if read from `file`. */
export function parseYaml(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error !== undefined) {
    const line = error.linePos?.[0]?.line ?? lineCounter.linePos(error.pos[0]).line;
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more problems)` : "";
    throw new InputError({ file, line }, `invalid YAML: ${yamlProblem(error.code, error.message)}${more}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    // An alias with no anchor, or aliases nested past the limit (a "billion laughs" file).
    throw new InputError({ file }, `invalid YAML: ${yamlProblem("", error instanceof Error ? error.message : String(error))}`);
  }
  return { file, doc, lineCounter, data };
}

function yamlProblem(code: string, message: string): string {
  if (code === "DUPLICATE_KEY") return "a key appears twice in the same mapping";
  if (code === "TAB_AS_INDENT") return "tabs are not allowed for indentation; use spaces";
  // The package appends " at line L, column C" and a code frame; the location is already printed.
  const first = message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  return first.charAt(0).toLowerCase() + first.slice(1);
}

/** `["waves", 1, "role"]` → `waves[1].role`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/**
 * The line of the deepest node along `path` that exists (a missing key is
 * reported at its parent mapping), or of `key` itself within that mapping.
 */
export function lineOf(source: YamlSource, path: YamlPath, key?: string): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth);
    const node = prefix.length === 0 ? source.doc.contents : source.doc.getIn(prefix, true);
    if (!isNode(node)) continue;
    let offset = node.range?.[0];
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === key);
      if (pair !== undefined && isNode(pair.key)) offset = pair.key.range?.[0] ?? offset;
    }
    if (offset !== undefined) return source.lineCounter.linePos(offset).line;
  }
  return undefined;
}

/** An InputLocation for a field of a YAML file: its line and dotted path. */
export function locate(source: YamlSource, path: YamlPath, key?: string): InputLocation {
  const line = lineOf(source, path, key);
  const fullPath = key === undefined ? path : [...path, key];
  return {
    file: source.file,
    ...(line !== undefined ? { line } : {}),
    ...(fullPath.length > 0 ? { field: formatPath(fullPath) } : {}),
  };
}

/**
 * Validates the document with `schema`. On failure, throws one InputError for
 * the first problem, located by line and field, counting the others.
 */
export function validateYaml<S extends z.ZodType>(source: YamlSource, schema: S, what: string): z.output<S> {
  if (source.data === null || source.data === undefined) {
    throw new InputError({ file: source.file }, `the file is empty: expected ${what}`);
  }
  const result = schema.safeParse(source.data);
  if (result.success) return result.data;
  const issues = (result.error.issues as Issue[]).filter((issue, i, all) => !isRedundantIssue(issue, all.slice(0, i)));
  const issue = typoFirst(issues, source.data);
  const path = issue.path.filter((k): k is string | number => typeof k !== "symbol");
  const unknownKey = issue.code === "unrecognized_keys" ? issue.keys[0] : undefined;
  const location = locate(source, path, unknownKey);
  const problem = describeIssue(issue, { data: source.data, schema, what });
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  throw new InputError(location, problem + more);
}

/**
 * A misspelt key shows up twice: the right key is missing, the wrong one is
 * unknown. The unknown key (with its "did you mean") is the better message.
 */
function typoFirst(issues: Issue[], data: unknown): Issue {
  const first = issues[0]!;
  if (first.code !== "invalid_type" || valueAt(data, first.path) !== undefined) return first;
  const parent = JSON.stringify(first.path.slice(0, -1));
  return issues.find((i) => i.code === "unrecognized_keys" && JSON.stringify(i.path) === parent) ?? first;
}
