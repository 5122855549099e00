/**
 * Algorithm 1 (population target, scalar; SPEC-inference.md): per-task gap
 * intervals [L_j, U_j] at α_g, then L̂ = L_(k_lo(α_e)), Û = U_(k_hi(α_e)),
 * output [ℓ̃ + L̂, ũ + Û] with [ℓ̃, ũ] the target's synthetic interval at α_s.
 * Algorithm 5 is the same with the gap intervals at α_g/T each.
 * Coordinates of a vector sample are each calibrated on their own.
 */
import { requireIndex, type Algorithm, type BoundsFor } from "./algorithm.ts";
import { perCoordinate, type GapSample } from "./bounds.ts";
import { splitBudget, type AlphaBudget } from "./budget.ts";
import { kHi, kLo, RankedSample } from "./order-stats.ts";
import { GapMean } from "./point-estimate.ts";
import { zCritical } from "./quantiles.ts";

/** Lower and upper endpoints Δ̂_j ∓ z_{1−a/2}·se_j of the historical gap intervals, one coordinate. */
export function gapIntervals(gap: ArrayLike<number>, se: ArrayLike<number>, a: number): { lower: Float64Array; upper: Float64Array } {
  const z = zCritical(a);
  const lower = new Float64Array(gap.length);
  const upper = new Float64Array(gap.length);
  for (let j = 0; j < gap.length; j++) {
    const half = se[j]! === 0 ? 0 : z * se[j]!;
    lower[j] = gap[j]! - half;
    upper[j] = gap[j]! + half;
  }
  return { lower, upper };
}

/**
 * Algorithms 1 and 5 differ only in the gap intervals' level: `gapLevel`
 * maps the budget and T to it.
 */
export function prepareOrderStatisticMethod(
  sample: GapSample,
  alpha: number,
  leaveOneOut: boolean,
  gapLevel: (budget: AlphaBudget, tasks: number) => number,
): BoundsFor {
  const tasks = leaveOneOut ? sample.size - 1 : sample.size;
  const budget = splitBudget(alpha, tasks);
  const level = gapLevel(budget, tasks);
  const lo = kLo(tasks, budget.exchangeability);
  const hi = kHi(tasks, budget.exchangeability);
  const coords = sample.gap.map((gap, k) => {
    const { lower, upper } = gapIntervals(gap, sample.se[k]!, level);
    return { lower: RankedSample.from(lower), upper: RankedSample.from(upper), gapMean: new GapMean(gap) };
  });
  return (leaveOut?: number) => {
    requireIndex(leaveOneOut, leaveOut);
    return perCoordinate(coords.length, { tasks, budget, syntheticLevel: budget.synthetic }, (k) => {
      const c = coords[k]!;
      return [c.lower.kth(lo, leaveOut), c.upper.kth(hi, leaveOut), c.gapMean.mean(leaveOut)];
    });
  };
}

export const algorithm1: Algorithm = {
  name: "alg1",
  title: "Algorithm 1: population target; α split into synthetic, gap and exchangeability steps",
  joint: false,
  weighted: false,
  needsGapSe: true,
  finiteSample: false,
  prepare: (sample, alpha, leaveOneOut) => prepareOrderStatisticMethod(sample, alpha, leaveOneOut, (budget) => budget.gap),
};
