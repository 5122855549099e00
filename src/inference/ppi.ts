/**
 * Prediction-powered inference for a mean, power-tuned (PPI++: Angelopoulos,
 * Duchi and Zrnic 2023, "PPI++: Efficient prediction-powered inference").
 * Paper section 4.4's setting — a target with a small real sample — done with
 * the synthetic answers as predictions: n real respondents with their answer
 * y_i and their silicon twin's answer f_i (the prediction), and N synthetic
 * respondents with predictions f̃_j only. For any fixed λ,
 *   θ̂_λ = ȳ + λ (f̃̄ − f̄)
 * is unbiased for θ whatever the predictions' bias, with variance
 *   Var(y − λf)/n + λ² Var(f̃)/N.
 * λ̂ = Cov(y, f) / ((1 + n/N) Var(f)) minimizes it (clipped to [0, 1]: 0 is
 * the real sample alone, 1 is classical PPI). The Wald interval
 * θ̂_λ̂ ± z_{1−α/2} SE has asymptotic coverage 1 − α (the paper's
 * Proposition; λ̂ converges, so plugging it in costs nothing to first
 * order). Unweighted respondents.
 */
import { zCritical } from "./quantiles.ts";

/** Moments of the real sample (with twin predictions) and of the synthetic sample. */
export interface PpiSummary {
  /** Real respondents (labeled). */
  n: number;
  /** Synthetic respondents (predictions only). */
  N: number;
  yMean: number;
  /** Mean prediction on the real respondents (their twins' answers). */
  fMeanLabeled: number;
  /** Mean prediction on the synthetic respondents. */
  fMeanUnlabeled: number;
  /** Sample variances and covariance on the real respondents (divisor n − 1). */
  varY: number;
  varF: number;
  covYF: number;
  /** Sample variance of the synthetic respondents' predictions. */
  varFUnlabeled: number;
}

export interface PpiInterval {
  estimate: number;
  se: number;
  lower: number;
  upper: number;
  /** The power-tuning parameter used. */
  lambda: number;
}

function meanOf(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

function covariance(a: ArrayLike<number>, b: ArrayLike<number>, meanA: number, meanB: number): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - meanA) * (b[i]! - meanB);
  return sum / (a.length - 1);
}

/** The summary of respondent-level data: real answers y, their twins' predictions f, and the synthetic sample's predictions. */
export function ppiSummary(y: ArrayLike<number>, fLabeled: ArrayLike<number>, fUnlabeled: ArrayLike<number>): PpiSummary {
  if (y.length !== fLabeled.length) throw new RangeError(`PPI: ${y.length} real answers but ${fLabeled.length} twin predictions`);
  if (y.length < 2 || fUnlabeled.length < 2) throw new RangeError("PPI needs at least two real and two synthetic respondents");
  const yMean = meanOf(y);
  const fMeanLabeled = meanOf(fLabeled);
  const fMeanUnlabeled = meanOf(fUnlabeled);
  return {
    n: y.length,
    N: fUnlabeled.length,
    yMean,
    fMeanLabeled,
    fMeanUnlabeled,
    varY: covariance(y, y, yMean, yMean),
    varF: covariance(fLabeled, fLabeled, fMeanLabeled, fMeanLabeled),
    covYF: covariance(y, fLabeled, yMean, fMeanLabeled),
    varFUnlabeled: covariance(fUnlabeled, fUnlabeled, fMeanUnlabeled, fMeanUnlabeled),
  };
}

/** The power-tuned λ̂ = Cov(y, f) / ((1 + n/N) Var(f)), clipped to [0, 1] (0 when the predictions are constant). */
export function ppiLambda(s: PpiSummary): number {
  if (!(s.varF > 0)) return 0;
  const lambda = s.covYF / ((1 + s.n / s.N) * s.varF);
  return Math.min(Math.max(lambda, 0), 1);
}

/** PPI++ estimate and (1 − α) Wald interval for the mean; `lambda` fixed in advance overrides the tuned one. */
export function ppiMean(s: PpiSummary, alpha: number, lambda = ppiLambda(s)): PpiInterval {
  const estimate = s.yMean + lambda * (s.fMeanUnlabeled - s.fMeanLabeled);
  const variance = (s.varY - 2 * lambda * s.covYF + lambda * lambda * s.varF) / s.n + (lambda * lambda * s.varFUnlabeled) / s.N;
  const se = Math.sqrt(Math.max(variance, 0));
  const half = zCritical(alpha) * se;
  return { estimate, se, lower: estimate - half, upper: estimate + half, lambda };
}
