/**
 * Algorithm 2 (weighted historical tasks, beyond exchangeability): fixed
 * weights w_j ∈ [0, 1], p_j = w_j/(Σw + 1), p_{T+1} = 1/(Σw + 1).
 * L̂ is the α_e/2 quantile of Σ p_j δ_{L_j} + p_{T+1} δ_{−∞}, the LARGEST one
 * (the largest x whose mass strictly below x is ≤ α_e/2); Û is the 1 − α_e/2
 * quantile of Σ p_j δ_{U_j} + p_{T+1} δ_{+∞}, the SMALLEST one (the smallest
 * x whose mass at or below x is ≥ 1 − α_e/2). With unit weights this is
 * Algorithm 1 exactly: masses are compared unnormalized, in units of one
 * task, with the same 1e-9 tolerance as the index rules.
 */
import { InfeasibleError } from "../errors.ts";
import { requireIndex, type Algorithm } from "./algorithm.ts";
import { gapIntervals } from "./algorithm1.ts";
import { perCoordinate, type GapSample } from "./bounds.ts";
import { DEFAULT_EXCHANGEABILITY_SHARE, splitBudget, tasksNeeded, tasksNeededForSplit, type AlphaBudget } from "./budget.ts";
import { INDEX_TOLERANCE, RankedSample } from "./order-stats.ts";
import { GapMean } from "./point-estimate.ts";

/** Values sorted once with their weights' prefix sums, for weighted quantiles with one value left out. */
export class WeightedRanked {
  readonly ranked: RankedSample;
  /** cumulative[p] = total weight of the p smallest values. */
  readonly cumulative: Float64Array;
  readonly weights: ArrayLike<number>;
  readonly total: number;

  constructor(values: ArrayLike<number>, weights: ArrayLike<number>) {
    this.ranked = RankedSample.from(values);
    this.weights = weights;
    const n = values.length;
    const byPosition = new Float64Array(n);
    for (let i = 0; i < n; i++) byPosition[this.ranked.rank[i]!] = weights[i]!;
    this.cumulative = new Float64Array(n + 1);
    for (let p = 0; p < n; p++) this.cumulative[p + 1] = this.cumulative[p]! + byPosition[p]!;
    this.total = this.cumulative[n]!;
  }

  /**
   * The largest a/2-quantile of Σ p_j δ_{x_j} + p_{T+1} δ_{−∞}, optionally
   * without value `leaveOut`: −∞ when the atom at −∞ alone exceeds a/2.
   */
  lowerQuantile(a: number, leaveOut?: number): number {
    const { sorted, rank } = this.ranked;
    const n = sorted.length;
    const r = leaveOut === undefined ? n : rank[leaveOut]!;
    const w = leaveOut === undefined ? 0 : this.weights[leaveOut]!;
    const total = this.total - w;
    // Weight strictly below position q (without the left-out value) may be at most this:
    const limit = (a / 2) * (total + 1) - 1 + INDEX_TOLERANCE;
    if (limit < 0) return -Infinity;
    const below = (q: number) => this.cumulative[q]! - (q > r ? w : 0);
    // Largest q with below(q) ≤ limit; below is nondecreasing and below(0) = 0.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (below(mid) <= limit) lo = mid;
      else hi = mid - 1;
    }
    // below(r) = below(r + 1), so q lands on the left-out value only when it is the largest.
    const q = lo === r ? r - 1 : lo;
    return q >= 0 ? sorted[q]! : -Infinity;
  }

  /**
   * The smallest (1 − a/2)-quantile of Σ p_j δ_{x_j} + p_{T+1} δ_{+∞},
   * optionally without value `leaveOut`: +∞ when the finite atoms never reach it.
   */
  upperQuantile(a: number, leaveOut?: number): number {
    const { sorted, rank } = this.ranked;
    const n = sorted.length;
    const r = leaveOut === undefined ? n : rank[leaveOut]!;
    const w = leaveOut === undefined ? 0 : this.weights[leaveOut]!;
    const total = this.total - w;
    const needed = (1 - a / 2) * (total + 1) - INDEX_TOLERANCE;
    const atOrBelow = (q: number) => this.cumulative[q + 1]! - (q >= r ? w : 0);
    if (n === 0 || atOrBelow(n - 1) < needed) return Infinity;
    // Smallest q with atOrBelow(q) ≥ needed.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (atOrBelow(mid) >= needed) hi = mid;
      else lo = mid + 1;
    }
    // atOrBelow(r) = atOrBelow(r − 1): q lands on the left-out value only when it is the smallest.
    const q = lo === r ? r + 1 : lo;
    return q < n ? sorted[q]! : Infinity;
  }
}

/** The budget for total weight W: the split of Algorithm 1 with W in place of T. */
function weightedBudget(alpha: number, totalWeight: number): AlphaBudget {
  if (!(2 / (totalWeight + 1) < alpha - INDEX_TOLERANCE)) {
    throw new InfeasibleError(
      `Algorithm 2: the weights of the historical tasks sum to ${Number(totalWeight.toFixed(3))}, and α = ${alpha} needs a sum of at least ` +
        `${tasksNeededForSplit(alpha)} for a finite interval (2/(Σw+1) < α; ${tasksNeeded(DEFAULT_EXCHANGEABILITY_SHARE * alpha)} for the default split α_e = 0.8α); ` +
        `add tasks, raise their weights or raise α`,
    );
  }
  return splitBudget(alpha, totalWeight);
}

export const algorithm2: Algorithm = {
  name: "alg2",
  title: "Algorithm 2: Algorithm 1 with fixed task weights w_j in [0, 1] (weighted quantiles)",
  joint: false,
  weighted: true,
  needsGapSe: true,
  finiteSample: false,
  prepare(sample: GapSample, alpha: number, leaveOneOut: boolean) {
    const weights = sample.weight ?? new Float64Array(sample.size).fill(1);
    let total = 0;
    for (const w of weights) total += w;
    // The budget depends on Σw, which under leave-one-out depends on the held-out
    // task; the sorted endpoints depend on it only through α_g, so cache by α_g
    // (one entry unless Σw is small enough for the raise rule to vary it).
    const byGapLevel = new Map<number, { lower: WeightedRanked; upper: WeightedRanked }[]>();
    const endpoints = (level: number) => {
      let cached = byGapLevel.get(level);
      if (cached === undefined) {
        cached = sample.gap.map((gap, k) => {
          const { lower, upper } = gapIntervals(gap, sample.se[k]!, level);
          return { lower: new WeightedRanked(lower, weights), upper: new WeightedRanked(upper, weights) };
        });
        byGapLevel.set(level, cached);
      }
      return cached;
    };
    const means = sample.gap.map((gap) => new GapMean(gap));
    if (!leaveOneOut) weightedBudget(alpha, total);
    return (leaveOut?: number) => {
      requireIndex(leaveOneOut, leaveOut);
      const budget = weightedBudget(alpha, leaveOut === undefined ? total : total - weights[leaveOut]!);
      const coords = endpoints(budget.gap);
      const tasks = leaveOut === undefined ? sample.size : sample.size - 1;
      return perCoordinate(coords.length, { tasks, budget, syntheticLevel: budget.synthetic }, (k) => [
        coords[k]!.lower.lowerQuantile(budget.exchangeability, leaveOut),
        coords[k]!.upper.upperQuantile(budget.exchangeability, leaveOut),
        means[k]!.mean(leaveOut),
      ]);
    };
  },
};
