/**
 * Rectangles for d-dimensional targets (SPEC-inference.md, Algorithm 3), e.g.
 * approval among co-partisans and among the opposition.
 *
 * Algorithm 3: nested rectangles S_t = ∏_k [c_k − t·s_k, c_k + t·s_k] with
 * centre and scales fixed before the data. Each historical task's gap
 * rectangle (coordinates at α_g/d) gets the score r_j = inf{t : R_j ⊆ S_t};
 * t̂ = r_(ceil((T+1)(1 − α_e))), and the output is the target's synthetic
 * rectangle (coordinates at α_s/d) plus S_t̂. Joint coverage ≥ 1 − α.
 * The centre is 0 here: a regression-adjusted calibration (adjust.ts) centres
 * each coordinate with its gap model and supplies the scales.
 *
 * The per-coordinate (Bonferroni) variant the paper used for Pew approval:
 * Algorithm 1 on each coordinate at α/d, combined as a rectangle.
 */
import { InfeasibleError } from "../errors.ts";
import { requireIndex, type Algorithm } from "./algorithm.ts";
import { prepareOrderStatisticMethod } from "./algorithm1.ts";
import type { Bounds, GapSample } from "./bounds.ts";
import { splitBudget } from "./budget.ts";
import { kOneSided, RankedSample } from "./order-stats.ts";
import { GapMean } from "./point-estimate.ts";
import { zCritical } from "./quantiles.ts";

/**
 * r_j = max_k max((U_jk − c_k)/s_k, (c_k − L_jk)/s_k) with c = 0 and the gap
 * intervals Δ̂_jk ± z_{1−a/(2d)}·se_jk, i.e. max_k (|Δ̂_jk| + z·se_jk)/s_k.
 */
export function rectangleScores(sample: GapSample, gapLevel: number, scale?: ArrayLike<number>): Float64Array {
  const z = zCritical(gapLevel / sample.dims);
  const scores = new Float64Array(sample.size).fill(-Infinity);
  for (let k = 0; k < sample.dims; k++) {
    const gap = sample.gap[k]!;
    const se = sample.se[k]!;
    const s = scale === undefined ? 1 : scale[k]!;
    for (let j = 0; j < sample.size; j++) {
      const half = se[j]! === 0 ? 0 : z * se[j]!;
      const r = (Math.abs(gap[j]!) + half) / s;
      if (r > scores[j]!) scores[j] = r;
    }
  }
  return scores;
}

export const algorithm3: Algorithm = {
  name: "alg3",
  title: "Algorithm 3: joint rectangle from one calibrated score per task (nested rectangles)",
  joint: true,
  weighted: false,
  needsGapSe: true,
  finiteSample: false,
  prepare(sample, alpha, leaveOneOut, options) {
    const tasks = leaveOneOut ? sample.size - 1 : sample.size;
    const budget = splitBudget(alpha, tasks, 1);
    const d = sample.dims;
    const scale = Float64Array.from({ length: d }, (_, k) => (options?.scale === undefined ? 1 : options.scale[k]!));
    for (const s of scale) if (!(s > 0)) throw new RangeError("Algorithm 3: rectangle scales must be positive");
    const ranked = RankedSample.from(rectangleScores(sample, budget.gap, scale));
    const k = kOneSided(tasks, budget.exchangeability);
    const means = sample.gap.map((gap) => new GapMean(gap));
    return (leaveOut?: number): Bounds => {
      requireIndex(leaveOneOut, leaveOut);
      const score = ranked.kth(k, leaveOut);
      return {
        tasks,
        budget,
        syntheticLevel: budget.synthetic / d,
        lower: scale.map((s) => -score * s),
        upper: scale.map((s) => score * s),
        meanGap: Float64Array.from(means, (m) => m.mean(leaveOut)),
        score,
      };
    };
  },
};

export const algorithm3Bonferroni: Algorithm = {
  name: "alg3-bonferroni",
  title: "Algorithm 3, per-coordinate variant: Algorithm 1 on each coordinate at α/d, combined as a rectangle",
  joint: true,
  weighted: false,
  needsGapSe: true,
  finiteSample: false,
  prepare(sample, alpha, leaveOneOut) {
    try {
      return prepareOrderStatisticMethod(sample, alpha / sample.dims, leaveOneOut, (budget) => budget.gap);
    } catch (error) {
      if (!(error instanceof InfeasibleError) || sample.dims === 1) throw error;
      throw new InfeasibleError(`the per-coordinate variant runs Algorithm 1 at α/d = ${alpha}/${sample.dims} on each coordinate, and ${error.message}`, {
        cause: error,
      });
    }
  },
};
