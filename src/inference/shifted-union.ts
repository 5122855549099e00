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
 * arrays ascending, scales > 0 (default 1); −∞ for k ≤ 0 and +∞ past the
 * total, as SPEC's x_(0), x_(T+1). Exact: bisection on the value narrows a
 * window (lo, hi] with fewer than k values at or below lo and at least k at
 * or below hi, until it holds a handful of values; those are then sorted.
 * Each step costs K binary searches, so a target costs O(K log n) per step.
 */
export function kthOfShiftedUnion(arrays: readonly Float64Array[], shifts: ArrayLike<number>, k: number, scales?: ArrayLike<number>): number {
  let total = 0;
  for (const a of arrays) total += a.length;
  if (k <= 0) return -Infinity;
  if (k > total) return Infinity;
  const scale = (g: number) => (scales === undefined ? 1 : scales[g]!);
  const count = (bound: number) => {
    let c = 0;
    for (let g = 0; g < arrays.length; g++) c += countAtMost(arrays[g]!, shifts[g]!, scale(g), bound);
    return c;
  };
  let lo = Infinity;
  let hi = -Infinity;
  for (let g = 0; g < arrays.length; g++) {
    const a = arrays[g]!;
    if (a.length === 0) continue;
    lo = Math.min(lo, shifts[g]! + scale(g) * a[0]!);
    hi = Math.max(hi, shifts[g]! + scale(g) * a[a.length - 1]!);
  }
  // Fewer than k at or below lo: start just below the smallest value.
  let below = 0;
  let atHi = total;
  lo = lo - Math.max(1, Math.abs(lo));
  for (let step = 0; step < 80 && atHi - below > 16; step++) {
    const mid = lo + (hi - lo) / 2;
    if (!(mid > lo && mid < hi)) break;
    const c = count(mid);
    if (c >= k) [hi, atHi] = [mid, c];
    else [lo, below] = [mid, c];
  }
  const window: number[] = [];
  for (let g = 0; g < arrays.length; g++) {
    const a = arrays[g]!;
    const s = shifts[g]!;
    const c = scale(g);
    for (let i = countAtMost(a, s, c, lo); i < a.length; i++) {
      const v = s + c * a[i]!;
      if (v > hi) break;
      window.push(v);
    }
  }
  window.sort((x, y) => x - y);
  return window[k - below - 1]!;
}
