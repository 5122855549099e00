/**
 * Scoring calibrated intervals against held-out real estimates, and the
 * summaries evaluate and compare print. Coverage is judged against the
 * held-out task's θ̂ (its finite-sample real estimate), as the paper does.
 */
import type { IntervalRow } from "../inference/calibrate.ts";
import { betaQuantile } from "../inference/quantiles.ts";

/** Confidence level of the coverage intervals evaluate reports. */
export const COVERAGE_CONFIDENCE = 0.95;

/**
 * Exact (Clopper–Pearson) interval for a binomial proportion: k covered of
 * n at `confidence`; guaranteed at least that coverage for every true
 * proportion (conservative, unlike Wald or Wilson). [NaN, NaN] for n = 0.
 */
export function clopperPearson(k: number, n: number, confidence = COVERAGE_CONFIDENCE): [number, number] {
  if (n === 0) return [NaN, NaN];
  const a = 1 - confidence;
  const lower = k === 0 ? 0 : betaQuantile(a / 2, k, n - k + 1);
  const upper = k === n ? 1 : betaQuantile(1 - a / 2, k + 1, n - k);
  return [lower, upper];
}

/** One held-out task (all coordinates of a vector task for joint methods) and how it was covered. */
export interface EvaluatedTask {
  task: string;
  model: string;
  group?: string;
  rows: (IntervalRow & { real_est: number })[];
  /** Every coordinate inside its interval (joint coverage for rectangles). */
  covered: boolean;
  naiveCovered: boolean;
}

/** The figures of DESIGN.md's evaluate --json, per model. */
export interface CoverageSummary {
  tasks: number;
  coverage: number;
  mean_width: number;
  median_width: number;
  naive_coverage: number;
  naive_median_width: number;
}

export function scoreTask(task: string, model: string, group: string | undefined, rows: IntervalRow[], real: number[]): EvaluatedTask {
  const scored = rows.map((row, k) => ({ ...row, real_est: real[k]! }));
  return {
    task,
    model,
    ...(group === undefined ? {} : { group }),
    rows: scored,
    covered: scored.every((r) => r.real_est >= r.lower && r.real_est <= r.upper),
    naiveCovered: scored.every((r) => r.real_est >= r.naive_lower && r.real_est <= r.naive_upper),
  };
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Quantile by linear interpolation between order statistics (R's default, type 7). */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export function standardDeviation(values: readonly number[]): number {
  if (values.length < 2) return NaN;
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

/**
 * Coverage over tasks; widths over interval rows (each coordinate of a
 * vector task is one width).
 */
export function summarize(tasks: readonly EvaluatedTask[]): CoverageSummary {
  const widths: number[] = [];
  const naiveWidths: number[] = [];
  let covered = 0;
  let naiveCovered = 0;
  for (const t of tasks) {
    if (t.covered) covered += 1;
    if (t.naiveCovered) naiveCovered += 1;
    for (const r of t.rows) {
      widths.push(r.upper - r.lower);
      naiveWidths.push(r.naive_upper - r.naive_lower);
    }
  }
  const n = tasks.length;
  return {
    tasks: n,
    coverage: n > 0 ? covered / n : NaN,
    mean_width: mean(widths),
    median_width: median(widths),
    naive_coverage: n > 0 ? naiveCovered / n : NaN,
    naive_median_width: median(naiveWidths),
  };
}

/** Tasks by model, models in order of first appearance. */
export function byModel<T extends { model: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const list = out.get(item.model);
    if (list === undefined) out.set(item.model, [item]);
    else list.push(item);
  }
  return out;
}
