/**
 * Weighted means and proportions per domain, as `svyby(~y, ~by, design,
 * svymean, na.rm = TRUE)`: each domain reduces to the sufficient statistics
 * of src/inference/survey.ts (DomainSums → domainMean), the one place the
 * variance is written down. A proportion is the mean of a 0/1 variable.
 */
import { addUnit, domainMean, emptySums, type DomainSums, type Estimate } from "../inference/survey.ts";
import type { SurveyDesign } from "./design.ts";
import type { Domains } from "./domains.ts";

/**
 * Sums of `y` (one value per design row, NaN where missing) in each domain.
 * `waveSizes` is each wave's n (the design's by default; the synthetic design
 * counts only the respondents that have synthetic answers).
 */
export function domainSums(
  design: SurveyDesign,
  domains: Domains,
  y: ArrayLike<number>,
  waveSizes: ArrayLike<number> = design.waveSizes,
): DomainSums[] {
  const sums = domains.levels.map((level) => emptySums(waveSizes[level.wave]!));
  const { index } = domains;
  const { weights } = design;
  for (let i = 0; i < design.size; i++) {
    const d = index[i]!;
    const value = y[i]!;
    if (d < 0 || Number.isNaN(value)) continue;
    addUnit(sums[d]!, weights[i]!, value);
  }
  return sums;
}

/** Weighted mean (or proportion) of `y` with its linearization SE in each domain. */
export function domainMeans(
  design: SurveyDesign,
  domains: Domains,
  y: ArrayLike<number>,
  waveSizes?: ArrayLike<number>,
): Estimate[] {
  return domainSums(design, domains, y, waveSizes).map(domainMean);
}

/** 1 where `y` equals `code`, 0 elsewhere, NaN where `y` is missing: the variable whose mean is a proportion. */
export function indicator(y: ArrayLike<number>, code: number): Float64Array {
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const value = y[i]!;
    out[i] = Number.isNaN(value) ? NaN : value === code ? 1 : 0;
  }
  return out;
}
