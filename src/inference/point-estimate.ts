/**
 * The bias-corrected point estimate θ̂_{T+1} = θ̃̂_{T+1} + (1/T) Σ_j Δ̂_j
 * (SPEC-inference.md, "Point estimate"). With Algorithm 2's weights the mean
 * is weighted by w_j, the same relevance the intervals give each task.
 */

export function biasCorrectedEstimate(synthetic: number, gaps: ArrayLike<number>, weights?: ArrayLike<number>): number {
  return synthetic + new GapMean(gaps, weights).all();
}

/** The (weighted) mean of historical gaps, and the same without one task in O(1). */
export class GapMean {
  private readonly gaps: ArrayLike<number>;
  private readonly weights: ArrayLike<number> | undefined;
  private readonly sum: number;
  private readonly totalWeight: number;

  constructor(gaps: ArrayLike<number>, weights?: ArrayLike<number>) {
    this.gaps = gaps;
    this.weights = weights;
    let sum = 0;
    let total = 0;
    for (let j = 0; j < gaps.length; j++) {
      const w = weights === undefined ? 1 : weights[j]!;
      sum += w * gaps[j]!;
      total += w;
    }
    this.sum = sum;
    this.totalWeight = total;
  }

  /** The mean over all tasks, or over all but `leaveOut`. */
  mean(leaveOut?: number): number {
    return leaveOut === undefined ? this.all() : this.without(leaveOut);
  }

  all(): number {
    return this.totalWeight > 0 ? this.sum / this.totalWeight : 0;
  }

  without(index: number): number {
    const w = this.weights === undefined ? 1 : this.weights[index]!;
    const total = this.totalWeight - w;
    return total > 0 ? (this.sum - w * this.gaps[index]!) / total : 0;
  }
}
