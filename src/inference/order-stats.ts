/**
 * Order statistics with the conventions of SPEC-inference.md: x_(0) = −∞,
 * x_(T+1) = +∞, and the index rules k_lo, k_hi computed with a 1e-9
 * tolerance so that (T+1)·a/2 = 5 is not floored to 4 by floating error.
 */

/** Absolute slack on (T+1)·a before rounding an index. */
export const INDEX_TOLERANCE = 1e-9;

/** k_lo(a) = floor((T+1)·a/2): the lower order statistic of a two-sided (1−a) bound. */
export function kLo(tasks: number, a: number): number {
  return Math.floor(((tasks + 1) * a) / 2 + INDEX_TOLERANCE);
}

/** k_hi(a) = ceil((T+1)·(1 − a/2)): the upper order statistic of a two-sided (1−a) bound. */
export function kHi(tasks: number, a: number): number {
  return Math.ceil((tasks + 1) * (1 - a / 2) - INDEX_TOLERANCE);
}

/** ceil((T+1)·(1 − a)): the one-sided index of Algorithm 3. */
export function kOneSided(tasks: number, a: number): number {
  return Math.ceil((tasks + 1) * (1 - a) - INDEX_TOLERANCE);
}

/** The k-th smallest (1-based) of an ascending array, −∞ for k ≤ 0 and +∞ past its end. */
export function orderStatistic(sorted: ArrayLike<number>, k: number): number {
  if (k <= 0) return -Infinity;
  if (k > sorted.length) return Infinity;
  return sorted[k - 1]!;
}

/**
 * A sample sorted once, remembering each value's rank, so that an order
 * statistic of the sample without one element costs O(1): the basis of a
 * leave-one-out that is not quadratic.
 */
export class RankedSample {
  /** Values in ascending order. */
  readonly sorted: Float64Array;
  /** rank[i] = 0-based position of the i-th input value in `sorted`. */
  readonly rank: Int32Array;

  private constructor(sorted: Float64Array, rank: Int32Array) {
    this.sorted = sorted;
    this.rank = rank;
  }

  /** Sorts `values` (which must not contain NaN); ties keep input order. */
  static from(values: ArrayLike<number>): RankedSample {
    const n = values.length;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => values[a]! - values[b]! || a - b);
    const sorted = new Float64Array(n);
    const rank = new Int32Array(n);
    for (let p = 0; p < n; p++) {
      const i = order[p]!;
      sorted[p] = values[i]!;
      rank[i] = p;
    }
    return new RankedSample(sorted, rank);
  }

  get size(): number {
    return this.sorted.length;
  }

  /** x_(k) of the whole sample, or of the sample without the value at input index `leaveOut`. */
  kth(k: number, leaveOut?: number): number {
    return leaveOut === undefined ? orderStatistic(this.sorted, k) : this.kthWithout(k, leaveOut);
  }

  /** x_(k) of the sample with the value at input index `index` removed (T − 1 values). */
  kthWithout(k: number, index: number): number {
    const remaining = this.sorted.length - 1;
    if (k <= 0) return -Infinity;
    if (k > remaining) return Infinity;
    const position = k - 1;
    return position < this.rank[index]! ? this.sorted[position]! : this.sorted[position + 1]!;
  }
}
