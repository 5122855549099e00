import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { InputError } from "../errors.ts";
import type { Cell, DataTable } from "./types.ts";

// sav-reader is CommonJS and exports only a `require` entry.
const require = createRequire(import.meta.url);
const { SavBufferReader } = require("sav-reader") as {
  SavBufferReader: new (buffer: Buffer) => SavReader;
};

interface SavVariable {
  name: string;
  /** 0 numeric, 1 string */
  type: number;
  missing: unknown;
}

interface SavReader {
  meta: {
    sysvars: SavVariable[];
    valueLabels: { appliesToNames?: string[]; entries: { val: number | string; label: string }[] }[];
  };
  open(): Promise<void>;
  readAllRows(includeNulls?: boolean): Promise<Record<string, Cell>[]>;
}

/**
 * Reads an SPSS .sav file (as Pew and ANES ship them). Numeric columns keep
 * their codes; value labels are returned beside them so that personas can say
 * "Republican" rather than 2. User-missing codes become missing (null), as
 * haven does by default, so 998 "Don't know" never enters a mean.
 */
export async function readSav(path: string): Promise<DataTable> {
  let reader: SavReader;
  let rows: Record<string, Cell>[];
  try {
    reader = new SavBufferReader(readFileSync(path));
    await reader.open();
    rows = await reader.readAllRows(true);
  } catch (error) {
    throw new InputError({ file: path }, `not a readable SPSS .sav file: ${savProblem(error)}`, { cause: error });
  }
  const variables = reader.meta.sysvars;
  const columnNames = variables.map((v) => v.name);
  const columns: Record<string, Cell[]> = {};
  for (const variable of variables) {
    const isMissing = userMissingTest(variable.missing);
    columns[variable.name] = rows.map((row) => {
      const cell = row[variable.name] ?? null;
      if (typeof cell === "string") return cell.trimEnd() === "" ? null : cell.trimEnd();
      return cell !== null && isMissing(cell) ? null : cell;
    });
  }
  const valueLabels: Record<string, Map<number, string>> = {};
  for (const record of reader.meta.valueLabels) {
    for (const name of record.appliesToNames ?? []) {
      const labels = (valueLabels[name] ??= new Map());
      for (const entry of record.entries) {
        if (typeof entry.val === "number") labels.set(entry.val, entry.label);
      }
    }
  }
  return { source: path, format: "sav", columnNames, numRows: rows.length, columns, valueLabels };
}

/** sav-reader reports user-missing values as a number, `{ values }`, or a range `{ min, max }`. */
function userMissingTest(missing: unknown): (value: Cell) => boolean {
  if (missing === null || missing === undefined) return () => false;
  if (typeof missing === "number") return (value) => value === missing;
  const spec = missing as { values?: unknown[]; min?: number; max?: number; value?: number };
  const values = new Set(spec.values ?? (spec.value !== undefined ? [spec.value] : []));
  const inRange = (value: number) =>
    spec.min !== undefined && spec.max !== undefined && value >= spec.min && value <= spec.max;
  return (value) => values.has(value) || (typeof value === "number" && inRange(value));
}

/** What sav-reader's failure means, in words (it throws plain strings, too). */
function savProblem(error: unknown): string {
  const detail = error instanceof Error ? error.message : String(error);
  // Its stream reader runs out of bytes mid-record.
  if (/No data read even after wait/.test(detail)) return "the file ends early (truncated or incompletely copied?)";
  if (/Not a valid \.sav file/.test(detail)) return "it does not start as an SPSS system file does ($FL2); is it another format renamed .sav?";
  return detail.replace(/\s+/g, " ").trim() || "unknown problem";
}
