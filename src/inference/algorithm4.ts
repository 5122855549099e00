/**
 * Algorithm 4 (finite-sample target θ̂_{T+1}): the observed gaps
 * Δ̂_j = θ̂_j − θ̃̂_j, output [θ̃̂ + Δ̂_(k_lo(α)), θ̃̂ + Δ̂_(k_hi(α))]. No budget
 * split and no per-task interval; coverage of θ̂ is in [1−α, 1−α+2/(T+1)]
 * without ties (Theorem 4). The quantity held-out evaluation can check.
 */
import { requireIndex, type Algorithm } from "./algorithm.ts";
import { perCoordinate } from "./bounds.ts";
import { wholeBudget } from "./budget.ts";
import { kHi, kLo, RankedSample } from "./order-stats.ts";
import { GapMean } from "./point-estimate.ts";

export const algorithm4: Algorithm = {
  name: "alg4",
  title: "Algorithm 4: finite-sample target θ̂; order statistics of the observed gaps, no budget split",
  joint: false,
  weighted: false,
  needsGapSe: false,
  finiteSample: true,
  prepare(sample, alpha, leaveOneOut) {
    const tasks = leaveOneOut ? sample.size - 1 : sample.size;
    const budget = wholeBudget(alpha, tasks);
    const lo = kLo(tasks, alpha);
    const hi = kHi(tasks, alpha);
    const coords = sample.gap.map((gap) => ({ ranked: RankedSample.from(gap), gapMean: new GapMean(gap) }));
    return (leaveOut?: number) => {
      requireIndex(leaveOneOut, leaveOut);
      return perCoordinate(coords.length, { tasks, budget, syntheticLevel: null }, (k) => {
        const c = coords[k]!;
        return [c.ranked.kth(lo, leaveOut), c.ranked.kth(hi, leaveOut), c.gapMean.mean(leaveOut)];
      });
    };
  },
};
