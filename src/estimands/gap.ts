/**
 * The gap real − synthetic per domain, and its standard error.
 *
 * Where synthetic respondents are twins of real ones (same design row), the
 * two domain means are linearized on the same respondents (SPEC-inference.md,
 * paired gap): the influence of respondent i is
 *
 *   z_i = w_i a_i (y_i − ȳ)/W_a − w_i b_i (ỹ_i − ỹ̄)/W_b,
 *
 * a_i (b_i) marking a real (synthetic) value in the domain. Where every twin
 * has both values this is exactly `pairedGap` (the weighted mean of the
 * differences, `svycontrast` on twins); where item nonresponse differs it is
 * still the SE of the difference of the two published estimates, so real_est −
 * syn_est and gap_se always belong together. The sums go through DomainSums
 * like every other estimate. A domain without a single twin pair is two
 * independent samples: no gap_se, and calibration uses sqrt(se_real² + se_syn²).
 */
import {
  addUnit,
  domainMean,
  emptySums,
  independentGap,
  type DomainSums,
  type Estimate,
} from "../inference/survey.ts";
import type { SurveyDesign } from "./design.ts";
import type { Domains } from "./domains.ts";

export interface GapEstimate extends Estimate {
  /** True when the SE is the paired one (twins exist in the domain). */
  paired: boolean;
  /** Respondents in the domain with both a real and a synthetic value. */
  pairs: number;
}

/**
 * Gaps in each domain from real values `real` and respondent-level synthetic
 * values `synthetic` (generation averages), both indexed by design row, NaN
 * where missing, with their domain sums (from `domainSums`).
 */
export function domainGaps(
  design: SurveyDesign,
  domains: Domains,
  real: ArrayLike<number>,
  synthetic: ArrayLike<number>,
  realSums: readonly DomainSums[],
  syntheticSums: readonly DomainSums[],
): GapEstimate[] {
  const levels = domains.levels.length;
  const realMean = realSums.map((s) => s.sumWY / s.sumW);
  const synMean = syntheticSums.map((s) => s.sumWY / s.sumW);
  const influence = domains.levels.map((level) => emptySums(design.waveSizes[level.wave]!));
  const pairs = new Int32Array(levels);
  const { index } = domains;
  const { weights } = design;
  for (let i = 0; i < design.size; i++) {
    const d = index[i]!;
    if (d < 0) continue;
    const yReal = real[i]!;
    const ySyn = synthetic[i]!;
    const hasReal = !Number.isNaN(yReal);
    const hasSyn = !Number.isNaN(ySyn);
    if (!hasReal && !hasSyn) continue;
    if (hasReal && hasSyn) pairs[d]! += 1;
    // z_i / w_i; the 1/W_a, 1/W_b scaling keeps the two means' influences apart.
    const u = (hasReal ? (yReal - realMean[d]!) / realSums[d]!.sumW : 0) - (hasSyn ? (ySyn - synMean[d]!) / syntheticSums[d]!.sumW : 0);
    addUnit(influence[d]!, weights[i]!, u);
  }
  return domains.levels.map((_, d) => {
    const realEstimate = domainMean(realSums[d]!);
    const synEstimate = domainMean(syntheticSums[d]!);
    if (pairs[d] === 0) return { ...independentGap(realEstimate, synEstimate), paired: false, pairs: 0 };
    // domainMean's SE is that of Σ w u / Σ w; Σ w u is 0, and scaling back by Σ w gives sqrt(n/(n−1) Σ z²).
    const sums = influence[d]!;
    const se = domainMean(sums).se * sums.sumW;
    return { estimate: realEstimate.estimate - synEstimate.estimate, se, n: pairs[d]!, paired: true, pairs: pairs[d]! };
  });
}
