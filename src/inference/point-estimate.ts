/**
 * The bias-corrected point estimate θ̂_{T+1} = θ̃̂_{T+1} + (1/T) Σ_j Δ̂_j
 * (SPEC-inference.md, "Point estimate"), the same for every method:
 * Algorithm 2's weights shape its interval, not the bias correction.
 */

export function biasCorrectedEstimate(synthetic: number, gaps: ArrayLike<number>): number {
  return synthetic + new GapMean(gaps).all();
}

/** The mean of historical gaps, and the same without one task in O(1). */
export class GapMean {
  private readonly gaps: ArrayLike<number>;
  private readonly sum: number;

  constructor(gaps: ArrayLike<number>) {
    this.gaps = gaps;
    let sum = 0;
    for (let j = 0; j < gaps.length; j++) sum += gaps[j]!;
    this.sum = sum;
  }

  /** The mean over all tasks, or over all but `leaveOut`. */
  mean(leaveOut?: number): number {
    return leaveOut === undefined ? this.all() : this.without(leaveOut);
  }

  all(): number {
    return this.gaps.length > 0 ? this.sum / this.gaps.length : 0;
  }

  without(index: number): number {
    const rest = this.gaps.length - 1;
    return rest > 0 ? (this.sum - this.gaps[index]!) / rest : 0;
  }
}
