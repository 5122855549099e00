import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import studentTQuantile from "@stdlib/stats-base-dists-t-quantile";

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
