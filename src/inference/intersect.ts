/**
 * Some real data for the target (paper section 4.4): a real-data interval at
 * λα and the synthetic-calibrated interval at (1 − λ)α, intersected; coverage
 * ≥ 1 − α by a union bound. λ is fixed in advance (default 0.5).
 */
import { zCritical } from "./quantiles.ts";
import type { Interval } from "./survey.ts";

export const DEFAULT_LAMBDA = 0.5;

/** The level the calibrated interval must be computed at, (1 − λ)α. */
export function calibratedShare(alpha: number, lambda: number): number {
  return (1 - lambda) * alpha;
}

/**
 * [max(lowers), min(uppers)] of the calibrated interval (already at (1 − λ)α)
 * and the Wald interval of the small real sample at λα. `empty` is true when
 * they do not overlap: at least one of the two missed, which is evidence
 * against exchangeability for this target; lower and upper are then NaN.
 */
export function intersectWithReal(
  calibrated: Interval,
  real: { estimate: number; se: number },
  alpha: number,
  lambda: number,
): Interval & { empty: boolean } {
  const half = real.se === 0 ? 0 : zCritical(lambda * alpha) * real.se;
  const lower = Math.max(calibrated.lower, real.estimate - half);
  const upper = Math.min(calibrated.upper, real.estimate + half);
  return lower <= upper ? { lower, upper, empty: false } : { lower: NaN, upper: NaN, empty: true };
}
