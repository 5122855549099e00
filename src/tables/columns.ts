import { InputError, type InputLocation } from "../errors.ts";
import type { Cell, DataTable } from "./types.ts";

/** What locating a cell needs of its table; keeping only this lets the columns go once read. */
export type TableLocations = Pick<DataTable, "source" | "lines" | "rows">;

/** The part of a table that messages about its cells need. */
export function locationsOf(table: DataTable): TableLocations {
  return {
    source: table.source,
    ...(table.lines === undefined ? {} : { lines: table.lines }),
    ...(table.rows === undefined ? {} : { rows: table.rows }),
  };
}

/** The location of one cell, for messages: file, 1-based row, CSV line, column. */
export function cellLocation(table: TableLocations, rowIndex: number, column?: string): InputLocation {
  const line = table.lines?.[rowIndex];
  return {
    file: table.source,
    row: table.rows?.[rowIndex] ?? rowIndex + 1,
    ...(line !== undefined ? { line } : {}),
    ...(column !== undefined ? { field: column } : {}),
  };
}

/** Throws unless every named column exists, naming the first missing one and `purpose`. */
export function requireColumns(table: DataTable, names: readonly string[], purpose?: string): void {
  for (const name of names) {
    if (!(name in table.columns)) {
      const why = purpose === undefined ? "" : ` (${purpose})`;
      throw new InputError(
        { file: table.source, field: name },
        `missing column${why}; the file has: ${(table.fileColumnNames ?? table.columnNames).join(", ")}`,
      );
    }
  }
}

export function column(table: DataTable, name: string): Cell[] {
  requireColumns(table, [name]);
  return table.columns[name]!;
}

export interface NumberRules {
  /** A missing cell is allowed (becomes NaN); otherwise it is an error. */
  allowMissing?: boolean;
  min?: number;
  max?: number;
  integer?: boolean;
  /** Words for the message, e.g. "a weight"; defaults to "a number". */
  expected?: string;
}

function describe(cell: Cell): string {
  return typeof cell === "string" ? JSON.stringify(cell) : String(cell);
}

/**
 * Reads a column as numbers (NaN for an allowed missing cell), enforcing the
 * rules; the first violation is an InputError naming row, line and column.
 */
export function numberColumn(table: DataTable, name: string, rules: NumberRules = {}): Float64Array {
  const cells = column(table, name);
  const out = new Float64Array(cells.length);
  const expected = rules.expected ?? describeRules(rules);
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (cell === null || (typeof cell === "string" && cell.trim() === "")) {
      if (rules.allowMissing) {
        out[i] = NaN;
        continue;
      }
      throw new InputError(cellLocation(table, i, name), `missing value: expected ${expected}`);
    }
    const value = typeof cell === "number" ? cell : typeof cell === "string" ? decimal(cell) : NaN;
    const ok =
      Number.isFinite(value) &&
      (rules.min === undefined || value >= rules.min) &&
      (rules.max === undefined || value <= rules.max) &&
      (!rules.integer || Number.isInteger(value));
    if (!ok) throw new InputError(cellLocation(table, i, name), `expected ${expected}, got ${describe(cell)}`);
    out[i] = value;
  }
  return out;
}

/** A decimal number as text; Number() would also read "0x10" as 16. */
function decimal(text: string): number {
  const trimmed = text.trim();
  return /^[+-]?0[xob]/i.test(trimmed) ? NaN : Number(trimmed);
}

/** Weights beyond this overflow the sums of w²·y² that standard errors need. */
export const MAX_WEIGHT = 1e12;

/** Refuses a weight so large that weighted sums would overflow, naming its row. */
export function refuseHugeWeights(table: DataTable, name: string, weights: ArrayLike<number>): void {
  for (let i = 0; i < weights.length; i++) {
    if (weights[i]! > MAX_WEIGHT) {
      throw new InputError(
        cellLocation(table, i, name),
        `expected a weight up to 10^12, got ${weights[i]}: weighted sums would overflow; rescale the weights (only their ratios matter)`,
      );
    }
  }
}

function describeRules(rules: NumberRules): string {
  const kind = rules.integer ? "an integer" : "a number";
  if (rules.min !== undefined && rules.max !== undefined) return `${kind} from ${rules.min} to ${rules.max}`;
  if (rules.min === 0) return `a non-negative ${rules.integer ? "integer" : "number"}`;
  if (rules.min !== undefined) return `${kind} ≥ ${rules.min}`;
  if (rules.max !== undefined) return `${kind} ≤ ${rules.max}`;
  return kind;
}

/** Reads a column as strings; numbers are printed, missing cells become null. */
export function stringColumn(table: DataTable, name: string): (string | null)[] {
  return column(table, name).map((cell) => (cell === null ? null : String(cell)));
}
