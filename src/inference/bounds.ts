/**
 * What calibration against historical tasks produces, and how a target's
 * synthetic estimate becomes an interval with it. Every algorithm turns a
 * `GapSample` (the historical tasks of one calibration cell) into `Bounds`:
 * offsets added to the target's synthetic interval, coordinate by coordinate.
 */
import type { AlphaBudget } from "./budget.ts";
import { zCritical } from "./quantiles.ts";
import { clipInterval, logitInterval, type Interval } from "./survey.ts";

/**
 * The observed gaps of T historical tasks with d coordinates, column-major:
 * `gap[k][j]` is Δ̂_j = θ̂_j − θ̃̂_j of coordinate k of task j (minus the gap
 * model's prediction when regression-adjusted), `se[k][j]` its standard error.
 */
export interface GapSample {
  size: number;
  dims: number;
  gap: Float64Array[];
  se: Float64Array[];
  /** Algorithm 2's task weights w_j in [0, 1]; absent means all 1. */
  weight?: Float64Array;
}

/** Offsets a calibration cell adds to a target's synthetic interval. */
export interface Bounds {
  /** T, the historical tasks used (one fewer than the cell under leave-one-out). */
  tasks: number;
  budget: AlphaBudget;
  /**
   * Two-sided error level of the target's synthetic interval per coordinate
   * (α_s, or α_s/d for a rectangle); null when the synthetic estimate enters
   * as a point (Algorithm 4).
   */
  syntheticLevel: number | null;
  /** L̂_k and Û_k per coordinate: output is [ℓ̃_k + L̂_k, ũ_k + Û_k]. */
  lower: Float64Array;
  upper: Float64Array;
  /** Mean historical gap per coordinate: the bias correction of the point estimate. */
  meanGap: Float64Array;
  /** Algorithm 3's calibrated score t̂ (absent for the other methods). */
  score?: number;
}

/**
 * Bounds for d coordinates calibrated one by one: `each(k)` gives
 * [L̂_k, Û_k, mean gap_k].
 */
export function perCoordinate(
  dims: number,
  common: Pick<Bounds, "tasks" | "budget" | "syntheticLevel">,
  each: (k: number) => readonly [number, number, number],
): Bounds {
  const bounds: Bounds = { ...common, lower: new Float64Array(dims), upper: new Float64Array(dims), meanGap: new Float64Array(dims) };
  for (let k = 0; k < dims; k++) [bounds.lower[k], bounds.upper[k], bounds.meanGap[k]] = each(k);
  return bounds;
}

/** A target's synthetic estimate and standard error, one coordinate. */
export interface SyntheticEstimate {
  estimate: number;
  se: number;
  /** Units behind the estimate; the logit form needs it (df = n − 1). */
  n?: number;
}

/**
 * How the target's synthetic interval C(D̃) is formed: "wald", θ̃̂ ± z·se; or
 * "logit", for proportions, `svyciprop(method = "logit")` (SPEC "Weighted
 * estimation"), which stays inside (0, 1) and is asymmetric near its ends.
 */
export type IntervalForm = "wald" | "logit";

/** The synthetic interval at two-sided level `a`, unclipped. */
export function syntheticInterval(target: SyntheticEstimate, a: number, form: IntervalForm = "wald"): Interval {
  if (target.se === 0) return { lower: target.estimate, upper: target.estimate };
  if (form === "logit") return logitInterval(target.estimate, target.se, a, (target.n ?? NaN) - 1);
  const half = zCritical(a) * target.se;
  return { lower: target.estimate - half, upper: target.estimate + half };
}

/** One coordinate's calibrated interval and bias-corrected estimate. */
export interface CalibratedCoordinate extends Interval {
  estimate: number;
}

/**
 * [ℓ̃_k + L̂_k, ũ_k + Û_k] for coordinate k, with [ℓ̃, ũ] the synthetic interval
 * at `syntheticLevel` (or the point θ̃̂ when null); `shift` is the gap model's
 * prediction m(x) for the target (0 without adjustment). Clipped to `range`.
 */
export function applyBounds(
  target: SyntheticEstimate,
  bounds: Bounds,
  coordinate = 0,
  shift = 0,
  range?: readonly [number, number] | null,
  form: IntervalForm = "wald",
): CalibratedCoordinate {
  const synthetic =
    bounds.syntheticLevel === null ? { lower: target.estimate, upper: target.estimate } : syntheticInterval(target, bounds.syntheticLevel, form);
  const interval = {
    lower: synthetic.lower + shift + bounds.lower[coordinate]!,
    upper: synthetic.upper + shift + bounds.upper[coordinate]!,
  };
  const estimate = target.estimate + shift + bounds.meanGap[coordinate]!;
  if (range === undefined || range === null) return { ...interval, estimate };
  return { ...clipInterval(interval, range), estimate: Math.min(Math.max(estimate, range[0]), range[1]) };
}

/** The naive baseline C_a(D̃): the synthetic interval treating synthetic data as real. */
export function naiveInterval(
  target: SyntheticEstimate,
  a: number,
  range?: readonly [number, number] | null,
  form: IntervalForm = "wald",
): Interval {
  const interval = syntheticInterval(target, a, form);
  return range === undefined || range === null ? interval : clipInterval(interval, range);
}

/** Builds a one-coordinate GapSample from plain arrays (se defaults to 0). */
export function scalarSample(gaps: ArrayLike<number>, se?: ArrayLike<number>, weight?: ArrayLike<number>): GapSample {
  const n = gaps.length;
  return {
    size: n,
    dims: 1,
    gap: [Float64Array.from(gaps)],
    se: [se === undefined ? new Float64Array(n) : Float64Array.from(se)],
    ...(weight === undefined ? {} : { weight: Float64Array.from(weight) }),
  };
}

/** The sample with task `index` removed (used by tests and naive re-computation, not by the fast paths). */
export function withoutTask(sample: GapSample, index: number): GapSample {
  const drop = (a: Float64Array) => {
    const out = new Float64Array(a.length - 1);
    out.set(a.subarray(0, index), 0);
    out.set(a.subarray(index + 1), index);
    return out;
  };
  return {
    size: sample.size - 1,
    dims: sample.dims,
    gap: sample.gap.map(drop),
    se: sample.se.map(drop),
    ...(sample.weight === undefined ? {} : { weight: drop(sample.weight) }),
  };
}
