import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import studentTQuantile from "@stdlib/stats-base-dists-t-quantile";
import studentTCdf from "@stdlib/stats-base-dists-t-cdf";
import betaQuantileOf from "@stdlib/stats-base-dists-beta-quantile";

/** Standard normal quantile: P(Z <= zQuantile(p)) = p. */
export function zQuantile(p: number): number {
  return normalQuantile(p, 0, 1);
}

/** Two-sided critical value z_{1-a/2} for a (1-a) interval. */
export function zCritical(a: number): number {
  return zQuantile(1 - a / 2);
}

/** Student t quantile with `df` degrees of freedom (normal for df = Infinity). */
export function tQuantile(p: number, df: number): number {
  return df === Infinity ? zQuantile(p) : studentTQuantile(p, df);
}

/** Student t distribution function with `df` degrees of freedom. */
export function tCdf(x: number, df: number): number {
  return studentTCdf(x, df);
}

/** Quantile of the Beta(a, b) distribution (Clopper–Pearson bounds). */
export function betaQuantile(p: number, a: number, b: number): number {
  return betaQuantileOf(p, a, b);
}
