/**
 * Regression-adjusted calibration (beyond the paper). The default,
 * cross-fitted mode (CV+) is in cross-fit.ts; this module holds the options,
 * the gap model and the exact split-conformal variant (mode "split"). A
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
import { compileDesign } from "./design.ts";
import { multiply, ridgeSolve, sparseRows } from "./ridge.ts";
import { gapOf, hasColumn, type TaskRecord } from "./task-record.ts";

export interface AdjustOptions {
  /**
   * "cv" (default): cross-fitted, every task both fits and calibrates
   * (CV+, cross-fit.ts; Algorithms 1, 4 and 5, others fall back to "split").
   * "split": the exact split-conformal variant described above.
   */
  mode?: "cv" | "split";
  /** Column whose values are kept together: all tasks of a value are in one half (one fold). */
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
   * centres the gaps. "auto": chosen per calibration by cross-validation on
   * its own tasks (cross-fit.ts), plain calibration kept where nothing helps.
   */
  features: readonly string[] | "auto";
  /** Ridge penalty λ on every coefficient but the intercept (features standardized). */
  ridge: number;
  /** Seed of the split into halves (folds). */
  seed: number;
  /** Folds of the cross-fitted mode (default min(groups, 10)). */
  folds?: number;
}

export const DEFAULT_RIDGE = 1;
export const DEFAULT_SEED = 1;

/** The default split: by item when the table has one (tasks of an item stay together), else by task. */
export function defaultSplitBy(rows: readonly TaskRecord[]): string {
  return hasColumn(rows, "item") ? "item" : "task";
}

/** The default features of the split variant: syn_est and its square, plus subgroup and item where present and not the split. */
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

/** Fits m(x) to the rows' observed gaps by ridge least squares. */
export function fitGapModel(rows: readonly TaskRecord[], features: readonly string[], ridge: number): GapModel {
  const design = compileDesign(features, rows);
  const x = sparseRows(design.columns, rows.map(design.encode));
  const y = Float64Array.from(rows, gapOf);
  const beta = ridgeSolve(x, y, ridge);
  let squares = 0;
  for (let i = 0; i < rows.length; i++) squares += (y[i]! - multiply(x, beta, i)) ** 2;
  const residualSd = rows.length > 1 ? Math.sqrt(squares / (rows.length - 1)) : 0;
  return {
    columns: design.columns,
    residualSd,
    predict(row) {
      const { index, value } = design.encode(row);
      let sum = 0;
      for (let e = 0; e < index.length; e++) sum += value[e]! * beta[index[e]!]!;
      return sum;
    },
  };
}

/** 32-bit FNV-1a of the text, mixed with the seed and finalized (murmur3's fmix). */
export function hash(text: string, seed: number): number {
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
