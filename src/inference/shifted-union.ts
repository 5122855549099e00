/**
 * The k-th smallest of a union of sorted arrays, each shifted by its own
 * constant: CV+'s bound for one target, ∪_f {m_f(x) + r_j : j in fold f},
 * without materializing the union (K folds, n tasks: O(K² log² n)).
 */

/** Number of values of ascending `sorted` with shift + scale·value ≤ bound. */
function countAtMost(sorted: Float64Array, shift: number, scale: number, bound: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (shift + scale * sorted[mid]! <= bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The k-th smallest (1-based) of ∪_f (shifts[f] + scales[f]·arrays[f]),
 * arrays ascending, scales > 0 (default 1); −∞ for k ≤ 0 and +∞ past the total, as SPEC's x_(0), x_(T+1).
 * Exact: the answer is an element of some array f*, and for each array the
 * smallest element whose count reaches k is ≥ the answer, with equality at f*.
 */
export function kthOfShiftedUnion(arrays: readonly Float64Array[], shifts: ArrayLike<number>, k: number, scales?: ArrayLike<number>): number {
  let total = 0;
  for (const a of arrays) total += a.length;
  if (k <= 0) return -Infinity;
  if (k > total) return Infinity;
  const count = (bound: number) => {
    let c = 0;
    for (let g = 0; g < arrays.length; g++) c += countAtMost(arrays[g]!, shifts[g]!, scales === undefined ? 1 : scales[g]!, bound);
    return c;
  };
  let best = Infinity;
  for (let f = 0; f < arrays.length; f++) {
    const a = arrays[f]!;
    const s = shifts[f]!;
    const c = scales === undefined ? 1 : scales[f]!;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (count(s + c * a[mid]!) >= k) hi = mid;
      else lo = mid + 1;
    }
    if (lo < a.length) best = Math.min(best, s + c * a[lo]!);
  }
  return best;
}
