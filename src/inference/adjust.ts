/**
 * Regression-adjusted calibration (beyond the paper; split-conformal). A
 * model m(x) of the gap Δ̂ on task features known before the target's real
 * data (the synthetic estimate, the subgroup, the item, …) is fit on one half
 * of the historical tasks, split by a grouping the user names (--split-by);
 * the residuals Δ̂_j − m(x_j) of the other half are calibrated like gaps, and
 * a target gets θ̃̂ + m(x) + the calibrated residual bounds. Cross-fit: tasks
 * (and targets) whose split group is in half A use the model fit on half B
 * with A's tasks as calibration, and the other way round; a target from a new
 * group uses the model of half B and calibration half A. The model is never
 * fit on the calibration tasks nor on the target's split group, so the
 * residuals of the calibration half and the target are exchangeable whenever
 * the tasks are: the guarantee of every algorithm carries over unchanged.
 */
import { UsageError } from "../errors.ts";
import { multiply, ridgeSolve, sparseRows } from "./ridge.ts";
import { attributeOf, gapOf, hasColumn, type TaskRecord } from "./task-record.ts";

export interface AdjustOptions {
  /** Column whose values are kept together: all tasks of a value are in one half. */
  splitBy: string;
  /**
   * Used instead for a pool whose history has a single `splitBy` value (e.g.
   * split by item where one item is all there is); without it that is an error.
   */
  splitByFallback?: string;
  /**
   * Feature terms: a column (numeric columns enter linearly, standardized;
   * others one-hot, and task, model, group, coord, item and subgroup always
   * one-hot), `col^2` for a numeric column's square, `a:b` for the
   * interaction of categorical columns. Empty: an intercept only, which
   * centres the gaps.
   */
  features: readonly string[];
  /** Ridge penalty λ on every coefficient but the intercept (features standardized). */
  ridge: number;
  /** Seed of the split into halves. */
  seed: number;
}

export const DEFAULT_RIDGE = 1;
export const DEFAULT_SEED = 1;

/** The default split: by item when the table has one (tasks of an item stay together), else by task. */
export function defaultSplitBy(rows: readonly TaskRecord[]): string {
  return hasColumn(rows, "item") ? "item" : "task";
}

/** The default features: syn_est and its square, plus subgroup and item where present and not the split. */
export function defaultFeatures(rows: readonly TaskRecord[], splitBy: string): string[] {
  const terms = ["syn_est", "syn_est^2"];
  for (const column of ["subgroup", "item"]) if (column !== splitBy && hasColumn(rows, column)) terms.push(column);
  return terms;
}

/** A fitted gap model. */
export interface GapModel {
  predict(row: TaskRecord): number;
  /** Residual standard deviation on the rows it was fit on (Algorithm 3's scale). */
  residualSd: number;
  /** Number of coefficients, intercept included. */
  columns: number;
}

interface CompiledTerm {
  width: number;
  /** Writes this term's nonzeros for `row`, columns offset by `base`. */
  encode(row: TaskRecord, base: number, index: number[], value: number[]): void;
}

function numericValue(row: TaskRecord, column: string): number {
  if (column === "syn_est") return row.syn_est;
  const text = attributeOf(row, column);
  return text === undefined ? NaN : Number(text);
}

/** Columns that name things: one-hot even when their values look like numbers (e.g. SPSS codes). */
const CATEGORICAL = new Set(["task", "model", "role", "group", "coord", "item", "subgroup"]);

function isNumericColumn(rows: readonly TaskRecord[], column: string): boolean {
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

function compileTerm(term: string, rows: readonly TaskRecord[]): CompiledTerm | undefined {
  const square = term.endsWith("^2");
  const parts = (square ? term.slice(0, -2) : term).split(":").map((p) => p.trim());
  for (const part of parts) {
    if (part === "") throw new UsageError(`--features: empty column name in "${term}"`);
    if (part !== "syn_est" && !hasColumn(rows, part)) throw new UsageError(`--features: no task has a value in column "${part}" (from "${term}")`);
  }
  if (parts.length === 1 && isNumericColumn(rows, parts[0]!)) {
    const column = parts[0]!;
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
    if (!(sd > 0)) return undefined; // constant on the fit half: nothing to learn
    return {
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
  if (square) throw new UsageError(`--features: "${term}" squares a column that is not numeric`);
  const key = (row: TaskRecord) => parts.map((part) => attributeOf(row, part) ?? "").join("\u001f");
  const levels = new Map<string, number>();
  for (const row of rows) {
    const k = key(row);
    if (!levels.has(k)) levels.set(k, levels.size);
  }
  return {
    width: levels.size,
    encode(row, base, index, value) {
      // A level the fit half never saw contributes nothing: the intercept's average.
      const level = levels.get(key(row));
      if (level !== undefined) {
        index.push(base + level);
        value.push(1);
      }
    },
  };
}

/** Fits m(x) to the rows' observed gaps by ridge least squares. */
export function fitGapModel(rows: readonly TaskRecord[], features: readonly string[], ridge: number): GapModel {
  const terms = features.map((term) => compileTerm(term, rows)).filter((t): t is CompiledTerm => t !== undefined);
  let columns = 1;
  const bases = terms.map((t) => {
    const base = columns;
    columns += t.width;
    return base;
  });
  const encode = (row: TaskRecord) => {
    const index = [0];
    const value = [1];
    terms.forEach((t, i) => t.encode(row, bases[i]!, index, value));
    return { index, value };
  };
  const x = sparseRows(columns, rows.map(encode));
  const y = Float64Array.from(rows, gapOf);
  const beta = ridgeSolve(x, y, ridge);
  let squares = 0;
  for (let i = 0; i < rows.length; i++) squares += (y[i]! - multiply(x, beta, i)) ** 2;
  const residualSd = rows.length > 1 ? Math.sqrt(squares / (rows.length - 1)) : 0;
  return {
    columns,
    residualSd,
    predict(row) {
      const { index, value } = encode(row);
      let sum = 0;
      for (let e = 0; e < index.length; e++) sum += value[e]! * beta[index[e]!]!;
      return sum;
    },
  };
}

/** 32-bit FNV-1a of the text, mixed with the seed and finalized (murmur3's fmix). */
function hash(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Splits the distinct values into two halves of equal size (±1), seeded:
 * values are ordered by a seeded hash and assigned alternately, so the split
 * is reproducible and does not depend on row order.
 */
export function splitHalves(values: Iterable<string>, seed: number): Map<string, 0 | 1> {
  const distinct = [...new Set(values)];
  const keyed = distinct.map((v) => ({ v, h: hash(v, seed) }));
  keyed.sort((a, b) => a.h - b.h || (a.v < b.v ? -1 : a.v > b.v ? 1 : 0));
  return new Map(keyed.map(({ v }, i) => [v, (i % 2) as 0 | 1]));
}
