/**
 * Feature terms of a gap model compiled into sparse design rows. A term is a
 * column (numeric columns enter linearly, standardized on the rows the term
 * is compiled on; other columns one-hot), `col^2` for a numeric column's
 * square, or `a:b` for the interaction of categorical columns. Pure: the
 * standardization and the levels come from the rows given, never from the
 * targets' outcomes.
 */
import { UsageError } from "../errors.ts";
import { attributeOf, hasColumn, type TaskRecord } from "./task-record.ts";

export interface CompiledTerm {
  term: string;
  width: number;
  /** Writes this term's nonzeros for `row`, columns offset by `base`. */
  encode(row: TaskRecord, base: number, index: number[], value: number[]): void;
}

export interface CompileOptions {
  /**
   * The group (fold unit) of a row. A categorical level is kept only when it
   * occurs in at least two groups: a level seen in one group cannot carry
   * anything to a new group, and in cross-validation it only adds noise.
   */
  groupOf?: (row: TaskRecord) => string;
}

/** Columns that name things: one-hot even when their values look like numbers (e.g. SPSS codes). */
export const CATEGORICAL = new Set(["task", "model", "role", "group", "coord", "item", "subgroup"]);

function numericValue(row: TaskRecord, column: string): number {
  if (column === "syn_est") return row.syn_est;
  if (column === "syn_se") return row.syn_se;
  const text = attributeOf(row, column);
  return text === undefined ? NaN : Number(text);
}

export function isNumericColumn(rows: readonly TaskRecord[], column: string): boolean {
  if (column === "syn_est" || column === "syn_se") return true;
  if (CATEGORICAL.has(column)) return false;
  let seen = false;
  for (const row of rows) {
    const text = attributeOf(row, column);
    if (text === undefined) continue;
    if (!Number.isFinite(Number(text))) return false;
    seen = true;
  }
  return seen;
}

function numericTerm(term: string, column: string, square: boolean, rows: readonly TaskRecord[]): CompiledTerm | undefined {
  const raw = (row: TaskRecord) => {
    const v = numericValue(row, column);
    return square ? v * v : v;
  };
  let sum = 0;
  let count = 0;
  for (const row of rows) {
    const v = raw(row);
    if (Number.isFinite(v)) {
      sum += v;
      count += 1;
    }
  }
  const mean = count > 0 ? sum / count : 0;
  let squares = 0;
  for (const row of rows) {
    const v = raw(row);
    if (Number.isFinite(v)) squares += (v - mean) ** 2;
  }
  const sd = count > 1 ? Math.sqrt(squares / (count - 1)) : 0;
  if (!(sd > 0)) return undefined; // constant on these rows: nothing to learn
  return {
    term,
    width: 1,
    encode(row, base, index, value) {
      const v = raw(row);
      // A missing value sits at the mean: no contribution.
      if (Number.isFinite(v)) {
        index.push(base);
        value.push((v - mean) / sd);
      }
    },
  };
}

function categoricalTerm(term: string, parts: string[], rows: readonly TaskRecord[], options: CompileOptions): CompiledTerm | undefined {
  const key = (row: TaskRecord) => parts.map((part) => attributeOf(row, part) ?? "").join("\u001f");
  const groups = new Map<string, Set<string>>();
  for (const row of rows) {
    const k = key(row);
    let seen = groups.get(k);
    if (seen === undefined) groups.set(k, (seen = new Set()));
    if (options.groupOf !== undefined && seen.size < 2) seen.add(options.groupOf(row));
  }
  const levels = new Map<string, number>();
  for (const [k, seen] of groups) if (options.groupOf === undefined || seen.size >= 2) levels.set(k, levels.size);
  if (levels.size < 2 && options.groupOf !== undefined) return undefined;
  return {
    term,
    width: levels.size,
    encode(row, base, index, value) {
      // A level the fit never saw contributes nothing: the intercept's average.
      const level = levels.get(key(row));
      if (level !== undefined) {
        index.push(base + level);
        value.push(1);
      }
    },
  };
}

/** Compiles one term on `rows`; undefined when it carries nothing there (a constant, a single level). */
export function compileTerm(term: string, rows: readonly TaskRecord[], options: CompileOptions = {}): CompiledTerm | undefined {
  const square = term.endsWith("^2");
  const base = square ? term.slice(0, -2) : term;
  // A column whose name holds ":" (syn_est@simulated:steady) is that column, not an interaction.
  const parts = base.includes(":") && hasColumn(rows, base) ? [base] : base.split(":").map((p) => p.trim());
  for (const part of parts) {
    if (part === "") throw new UsageError(`--features: empty column name in "${term}"`);
    if (part !== "syn_est" && part !== "syn_se" && !hasColumn(rows, part)) {
      throw new UsageError(`--features: no task has a value in column "${part}" (from "${term}")`);
    }
  }
  if (parts.length === 1 && isNumericColumn(rows, parts[0]!)) return numericTerm(term, parts[0]!, square, rows);
  if (square) throw new UsageError(`--features: "${term}" squares a column that is not numeric`);
  return categoricalTerm(term, parts, rows, options);
}

/** Terms laid side by side after an intercept (column 0). */
export interface Design {
  columns: number;
  terms: CompiledTerm[];
  /** First column of each term. */
  bases: number[];
  encode(row: TaskRecord): { index: number[]; value: number[] };
}

export function compileDesign(features: readonly string[], rows: readonly TaskRecord[], options: CompileOptions = {}): Design {
  const terms = features.map((term) => compileTerm(term, rows, options)).filter((t): t is CompiledTerm => t !== undefined);
  let columns = 1;
  const bases = terms.map((t) => {
    const base = columns;
    columns += t.width;
    return base;
  });
  return {
    columns,
    terms,
    bases,
    encode(row) {
      const index = [0];
      const value = [1];
      terms.forEach((t, i) => t.encode(row, bases[i]!, index, value));
      return { index, value };
    },
  };
}
