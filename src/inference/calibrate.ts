/**
 * The calibration facade: historical tasks and targets in, one interval per
 * target coordinate out, in the intervals-table shape of DESIGN.md. Pure: no
 * I/O. Each cell's bounds are computed once, so calibrating 100,000 targets
 * costs one sort per cell plus O(1) per target.
 */
import { InfeasibleError, UsageError } from "../errors.ts";
import type { AdjustOptions } from "./adjust.ts";
import { calibrateSample, type MethodName } from "./algorithm.ts";
import { applyBounds, naiveInterval, type Bounds, type IntervalForm } from "./bounds.ts";
import type { AlphaBudget } from "./budget.ts";
import { calibratedShare, DEFAULT_LAMBDA, intersectWithReal } from "./intersect.ts";
import { METHODS, naiveLevel } from "./methods.ts";
import { inCell, planCalibration, rowError, type AdjustmentChoice, type Cell, type PlanOptions, type Unit, type WeightSpec } from "./plan.ts";
import { withOtherModels } from "./stack.ts";
import type { TaskRecord } from "./task-record.ts";

export interface CalibrationOptions {
  method: MethodName;
  /** Total error level, in (0, 1). */
  alpha: number;
  /** Clip intervals and estimates to this scale (e.g. [0, 1]); null or absent: no clipping. */
  range?: readonly [number, number] | null;
  /**
   * The form of each target's synthetic interval (and of the naive baseline):
   * "wald" (default) or "logit" for proportions, which needs syn_n.
   */
  interval?: IntervalForm;
  /** Mondrian strata: columns whose values each get their own calibration. */
  strata?: readonly string[];
  /** Regression adjustment (split-conformal); see adjust.ts. */
  adjust?: AdjustOptions;
  /** Algorithm 2's weights (default: the `weight` column). */
  weights?: WeightSpec;
  /**
   * Section 4.4: targets with a real estimate and SE (a small real sample)
   * get the intersection of the calibrated interval at (1 − λ)α with their
   * real interval at λα. Scalar population methods only.
   */
  intersectReal?: { lambda: number };
  locate?: PlanOptions["locate"];
  /**
   * "skip": a target that cannot be calibrated — no history for its model,
   * coordinates or stratum, or too little for α — is left out and listed in
   * the result's `skipped` instead of failing the whole call (the
   * chronological protocol, whose early waves have little history).
   */
  uncalibratable?: "error" | "skip";
}

/** One row of the intervals table (DESIGN.md, "Intervals table"). */
export interface IntervalRow {
  task: string;
  model: string;
  coord: string;
  method: MethodName;
  alpha: number;
  lower: number;
  upper: number;
  /** The bias-corrected point estimate. */
  estimate: number;
  naive_lower: number;
  naive_upper: number;
}

/** What one calibration cell contributed, for summaries. */
export interface CellSummary {
  label: string;
  model: string;
  coords: string[];
  tasks: number;
  targets: number;
  budget: AlphaBudget;
  /** L̂_k, Û_k and the mean gap per coordinate. */
  lower: number[];
  upper: number[];
  meanGap: number[];
  /** Median width of this cell's target intervals (over coordinates too). */
  medianWidth: number;
}

export interface CalibrationResult {
  intervals: IntervalRow[];
  cells: CellSummary[];
  /** Targets left out (only with uncalibratable "skip"), with the reason. */
  skipped: { task: string; model: string; reason: string }[];
  notes: string[];
  /** Per cell, what the cross-fitted adjustment chose (empty without --adjust). */
  adjustments: AdjustmentChoice[];
}

export function validateAlpha(alpha: number, option = "--alpha"): void {
  if (!(alpha > 0 && alpha < 1)) throw new UsageError(`${option} must be a number in (0, 1), got ${alpha}`);
}

/**
 * [0, 1] when every real and synthetic estimate lies in it (proportions),
 * else null: the scale of a tasks table is otherwise unknown.
 */
export function detectRange(rows: readonly TaskRecord[]): [number, number] | null {
  const inUnit = (x: number | undefined) => x === undefined || (x >= 0 && x <= 1);
  return rows.length > 0 && rows.every((row) => inUnit(row.real_est) && inUnit(row.syn_est)) ? [0, 1] : null;
}

/** Intervals-table rows for one target unit from its cell's bounds. */
export function intervalRows(unit: Unit, bounds: Bounds, shift: ArrayLike<number>, options: CalibrationOptions): IntervalRow[] {
  const algorithm = METHODS[options.method];
  const d = unit.rows.length;
  return unit.rows.map((row, k) => {
    const target = { estimate: row.syn_est, se: row.syn_se, ...(row.syn_n === undefined ? {} : { n: row.syn_n }) };
    const form = options.interval ?? "wald";
    if (form === "logit") requireLogitInputs(row, options);
    const out = applyBounds(target, bounds, k, shift[k]!, options.range, form);
    const naive = naiveInterval(target, naiveLevel(algorithm, options.alpha, d), options.range, form);
    return {
      task: unit.task,
      model: unit.model,
      coord: row.coord ?? "",
      method: options.method,
      alpha: options.alpha,
      lower: out.lower,
      upper: out.upper,
      estimate: out.estimate,
      naive_lower: naive.lower,
      naive_upper: naive.upper,
    };
  });
}

/** The logit interval is for proportions with a known n; anything else is a located error, not a silent Wald. */
function requireLogitInputs(row: TaskRecord, options: CalibrationOptions): void {
  if (!(row.syn_est >= 0 && row.syn_est <= 1)) {
    throw rowError(planOptions(options), row, "syn_est", `the logit interval is for proportions: expected a value in [0, 1], got ${row.syn_est}`);
  }
  if (row.syn_n === undefined || !(row.syn_n >= 2)) {
    throw rowError(planOptions(options), row, "syn_n", `the logit interval needs the synthetic sample size (df = syn_n − 1): expected a number ≥ 2, got ${row.syn_n ?? "nothing"}`);
  }
}

export function planOptions(options: CalibrationOptions): PlanOptions {
  return {
    algorithm: METHODS[options.method],
    ...(options.strata === undefined ? {} : { strata: options.strata }),
    ...(options.adjust === undefined ? {} : { adjust: options.adjust }),
    ...(options.weights === undefined ? {} : { weights: options.weights }),
    ...(options.locate === undefined ? {} : { locate: options.locate }),
    ...(options.uncalibratable === undefined ? {} : { missingHistory: options.uncalibratable }),
    alpha: options.alpha,
  };
}

/** Calibrates every target against the historical tasks of its model (and coordinate, stratum, half). */
export function calibrate(history: readonly TaskRecord[], targets: readonly TaskRecord[], options: CalibrationOptions): CalibrationResult {
  validateAlpha(options.alpha);
  const algorithm = METHODS[options.method];
  const lambda = options.intersectReal?.lambda;
  if (lambda !== undefined) {
    if (algorithm.joint || algorithm.finiteSample) {
      throw new UsageError(`--intersect-real needs a scalar population method (alg1, alg2 or alg5), not ${options.method}`);
    }
    validateAlpha(lambda, "--lambda");
  }
  ({ history, targets, options } = stackedForAdjustment(history, targets, options));
  const plan = planCalibration(history, targets, planOptions(options));
  const cache = new Map<Cell, Map<number, Bounds>>();
  const boundsAt = (cell: Cell, alpha: number) => {
    let byAlpha = cache.get(cell);
    if (byAlpha === undefined) cache.set(cell, (byAlpha = new Map()));
    let bounds = byAlpha.get(alpha);
    if (bounds === undefined) {
      bounds = inCell(cell, () => calibrateSample(algorithm, cell.sample, alpha, cell.scale === undefined ? {} : { scale: cell.scale }));
      byAlpha.set(alpha, bounds);
    }
    return bounds;
  };
  // CV+ bounds depend on the target's fold predictions: prepared once per cell and α, then per target.
  const crossFitted = new Map<Cell, Map<number, (row: TaskRecord) => Bounds>>();
  const targetBounds = (cell: Cell, alpha: number, row: TaskRecord) => {
    const bounds = boundsAt(cell, alpha);
    if (cell.crossFit === undefined) return bounds;
    let byAlpha = crossFitted.get(cell);
    if (byAlpha === undefined) crossFitted.set(cell, (byAlpha = new Map()));
    let prepared = byAlpha.get(alpha);
    if (prepared === undefined) byAlpha.set(alpha, (prepared = inCell(cell, () => cell.crossFit!.prepare(alpha))));
    return prepared(row);
  };
  const intervals: IntervalRow[] = [];
  const targetsPerCell = new Map<Cell, number>();
  const widthsPerCell = new Map<Cell, number[]>();
  const record = (cell: Cell, rows: IntervalRow[]) => {
    targetsPerCell.set(cell, (targetsPerCell.get(cell) ?? 0) + 1);
    let widths = widthsPerCell.get(cell);
    if (widths === undefined) widthsPerCell.set(cell, (widths = []));
    for (const r of rows) if (!Number.isNaN(r.lower)) widths.push(r.upper - r.lower);
    intervals.push(...rows);
  };
  let emptyIntersections = 0;
  const skipped = plan.unplaced.map(({ unit, reason }) => ({ task: unit.task, model: unit.model, reason }));
  for (const { unit, pool } of plan.targets) {
    const { cell, shift } = pool.place(unit);
    if (cell === undefined) {
      const strata = options.strata ?? [];
      const row = unit.rows[0]!;
      const reason = `no historical task of model "${unit.model}" shares this target's stratum (${strata.join(", ")})`;
      if (strata.length === 0) throw new InfeasibleError(`no historical tasks to calibrate task "${unit.task}" on`);
      if (options.uncalibratable === "skip") {
        skipped.push({ task: unit.task, model: unit.model, reason });
        continue;
      }
      throw rowError(planOptions(options), row, strata[0]!, reason);
    }
    const row = unit.rows[0]!;
    const withReal = lambda !== undefined && row.real_est !== undefined && row.real_se !== undefined;
    let bounds: Bounds;
    try {
      bounds = targetBounds(cell, withReal ? calibratedShare(options.alpha, lambda) : options.alpha, row);
    } catch (error) {
      if (options.uncalibratable !== "skip" || !(error instanceof InfeasibleError)) throw error;
      skipped.push({ task: unit.task, model: unit.model, reason: error.message });
      continue;
    }
    if (!withReal) {
      record(cell, intervalRows(unit, bounds, shift, options));
      continue;
    }
    const [out] = intervalRows(unit, bounds, shift, options);
    const both = intersectWithReal(out!, { estimate: row.real_est!, se: row.real_se! }, options.alpha, lambda);
    if (both.empty) emptyIntersections += 1;
    // The point estimate stays inside what is reported: where the intersection
    // excludes the bias-corrected estimate, the nearest end of it is the best guess.
    const estimate = both.empty ? out!.estimate : Math.min(Math.max(out!.estimate, both.lower), both.upper);
    record(cell, [{ ...out!, lower: both.lower, upper: both.upper, estimate }]);
  }
  const notes = [...plan.notes];
  if (emptyIntersections > 0) {
    notes.push(
      `${emptyIntersections} target(s) with a real sample: the calibrated and real intervals do not overlap, evidence against ` +
        `exchangeability for them; their lower and upper are left empty`,
    );
  }
  const cells: CellSummary[] = [];
  for (const pool of plan.pools) {
    for (const cell of pool.cells.values()) {
      const count = targetsPerCell.get(cell) ?? 0;
      if (count === 0) continue;
      const bounds = boundsAt(cell, options.alpha);
      cells.push({
        label: cell.label,
        model: pool.model,
        coords: pool.coords,
        tasks: bounds.tasks,
        targets: count,
        budget: bounds.budget,
        lower: Array.from(bounds.lower),
        upper: Array.from(bounds.upper),
        meanGap: Array.from(bounds.meanGap),
        medianWidth: middle(widthsPerCell.get(cell) ?? []),
      });
    }
  }
  return { intervals, cells, skipped, notes, adjustments: plan.adjustments };
}

/** One line: the features each calibration's cross-fitted adjustment chose, or that plain calibration was kept. */
export function describeAdjustments(adjustments: readonly AdjustmentChoice[]): string {
  const width = (x: number) => (Number.isFinite(x) ? x.toPrecision(3) : String(x));
  const parts = adjustments.map((a) =>
    a.applied
      ? `${a.label}: ${a.blocks.join(" + ")} (inner-CV width ${width(a.adjustedWidth)} vs ${width(a.plainWidth)} plain, K = ${a.folds}, λ = ${a.ridge})`
      : `${a.label}: plain (no feature narrowed the inner-CV width ${width(a.plainWidth)})`,
  );
  return `regression adjustment (cross-fitted, CV+): ${parts.join("; ")}`;
}

export { DEFAULT_LAMBDA };

/**
 * With the automatic adjustment, every row gets the other models' synthetic
 * estimates of its task as features (stacking; history and targets alike,
 * synthetic data only). Errors still locate the row the caller gave.
 */
export function stackedForAdjustment(
  history: readonly TaskRecord[],
  targets: readonly TaskRecord[],
  options: CalibrationOptions,
): { history: readonly TaskRecord[]; targets: readonly TaskRecord[]; options: CalibrationOptions } {
  if (options.adjust?.features !== "auto") return { history, targets, options };
  const { rows, original } = withOtherModels([...history, ...targets]);
  if (original.size === 0) return { history, targets, options };
  const locate = options.locate;
  return {
    history: rows.slice(0, history.length),
    targets: rows.slice(history.length),
    options: locate === undefined ? options : { ...options, locate: (row, field) => locate(original.get(row) ?? row, field) },
  };
}

function middle(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const h = (sorted.length - 1) / 2;
  return (sorted[Math.floor(h)]! + sorted[Math.ceil(h)]!) / 2;
}
