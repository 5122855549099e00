/**
 * Rectangles for d-dimensional targets (SPEC-inference.md, Algorithm 3), e.g.
 * approval among co-partisans and among the opposition.
 *
 * Algorithm 3: nested rectangles S_t = ∏_k [c_k − t·s_k, c_k + t·s_k] with
 * centre and scales fixed before the data. Each historical task's gap
 * rectangle (coordinates at α_g/d) gets the score r_j = inf{t : R_j ⊆ S_t};
 * t̂ = r_(ceil((T+1)(1 − α_e))), and the output is the target's synthetic
 * rectangle (coordinates at α_s/d) plus S_t̂. Joint coverage ≥ 1 − α.
 * The centre is 0 in `alg3`: a regression-adjusted calibration (adjust.ts)
 * centres each coordinate with its gap model and supplies the scales.
 * `alg3-fitted` is SPEC's split option: centre (mean gap) and scales (gap SD)
 * per coordinate fitted on a seeded random quarter of the historical tasks,
 * which is then left out of calibration; the rectangle follows the gaps
 * where their biases have opposite signs instead of straddling 0.
 *
 * The per-coordinate (Bonferroni) variant the paper used for Pew approval:
 * Algorithm 1 on each coordinate at α/d, combined as a rectangle.
 */
import { InfeasibleError } from "../errors.ts";
import { hash } from "./adjust.ts";
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

/** Share of the historical tasks alg3-fitted spends on the centre and scales. */
export const FIT_SHARE = 0.25;
/** Seed of alg3-fitted's split: fixed, so the split is chosen before the data. */
export const FIT_SEED = 1;

/** Task indices in a seeded random order (by a hash of the index). */
function seededOrder(size: number): number[] {
  return Array.from({ length: size }, (_, i) => i).sort((a, b) => hash(String(a), FIT_SEED) - hash(String(b), FIT_SEED) || a - b);
}

function subsample(sample: GapSample, indices: readonly number[], centre?: ArrayLike<number>): GapSample {
  return {
    size: indices.length,
    dims: sample.dims,
    gap: sample.gap.map((g, k) => Float64Array.from(indices, (j) => g[j]! - (centre === undefined ? 0 : centre[k]!))),
    se: sample.se.map((e) => Float64Array.from(indices, (j) => e[j]!)),
  };
}

/**
 * Per coordinate over `indices`: the centre is the mean gap; the scale is the
 * typical half-extent of a gap rectangle, the gaps' SD plus the mean gap-CI
 * half-width z·se (1 where that is 0).
 */
function centreAndScale(sample: GapSample, indices: readonly number[], z: number): { centre: Float64Array; scale: Float64Array } {
  const centre = new Float64Array(sample.dims);
  const scale = new Float64Array(sample.dims);
  for (let k = 0; k < sample.dims; k++) {
    const g = sample.gap[k]!;
    const mean = indices.reduce((s, j) => s + g[j]!, 0) / indices.length;
    const sd = Math.sqrt(indices.reduce((s, j) => s + (g[j]! - mean) ** 2, 0) / Math.max(indices.length - 1, 1));
    const half = (z * indices.reduce((s, j) => s + sample.se[k]![j]!, 0)) / indices.length;
    centre[k] = mean;
    scale[k] = sd + half > 0 ? sd + half : 1;
  }
  return { centre, scale };
}

export const algorithm3Fitted: Algorithm = {
  name: "alg3-fitted",
  title: "Algorithm 3 with centre and scales fitted on a random quarter of the history (left out of calibration)",
  joint: true,
  weighted: false,
  needsGapSe: true,
  finiteSample: false,
  prepare(sample, alpha, leaveOneOut) {
    // Without the held-out task, the split is the one calibrating on the other T − 1 would draw
    // (the seeded order of their positions), so leave-one-out equals recalibrating: O(T log T) each.
    const boundsWithout = (leaveOut?: number): Bounds => {
      const others = Array.from({ length: sample.size }, (_, j) => j).filter((j) => j !== leaveOut);
      const kept = seededOrder(others.length).map((p) => others[p]!);
      const fitCount = Math.max(2, Math.floor(FIT_SHARE * kept.length));
      const fit = kept.slice(0, fitCount);
      const calibration = kept.slice(fitCount);
      let bounds: Bounds;
      let centre: Float64Array;
      try {
        const fitted = centreAndScale(sample, fit, zCritical(splitBudget(alpha, calibration.length, 1).gap / sample.dims));
        centre = fitted.centre;
        bounds = algorithm3.prepare(subsample(sample, calibration, centre), alpha, false, { scale: fitted.scale })();
      } catch (error) {
        if (!(error instanceof InfeasibleError)) throw error;
        throw new InfeasibleError(`alg3-fitted calibrates on the ${calibration.length} tasks left after fitting centre and scales on ${fitCount}: ${error.message}`, { cause: error });
      }
      const all = subsample(sample, kept);
      return {
        ...bounds,
        lower: Float64Array.from(bounds.lower, (l, k) => centre[k]! + l),
        upper: Float64Array.from(bounds.upper, (u, k) => centre[k]! + u),
        meanGap: Float64Array.from(all.gap, (g) => g.reduce((s, x) => s + x, 0) / g.length),
      };
    };
    if (!leaveOneOut) {
      const bounds = boundsWithout();
      return (leaveOut?: number) => {
        requireIndex(false, leaveOut);
        return bounds;
      };
    }
    return (leaveOut?: number) => {
      requireIndex(true, leaveOut);
      return boundsWithout(leaveOut);
    };
  },
};
