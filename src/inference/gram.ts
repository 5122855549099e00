/**
 * Ridge fits on any union of folds from per-fold sufficient statistics.
 * Each fold f keeps XᵀX and Xᵀy of its rows (dense, p × p); a fit on the
 * rows outside fold f is then a sum of the others' statistics and one p × p
 * Cholesky solve, so K cross-fitted fits and the many fits of a feature
 * search cost O(n·nnz²) once plus O(p³) each, whatever n.
 */

/** Sufficient statistics of one fold's rows. */
export interface FoldStats {
  rows: number;
  xtx: Float64Array;
  xty: Float64Array;
}

/** Accumulates XᵀX and Xᵀy per fold from sparse rows. */
export function foldStats(
  columns: number,
  folds: number,
  rows: readonly { index: number[]; value: number[] }[],
  y: ArrayLike<number>,
  foldOf: ArrayLike<number>,
): FoldStats[] {
  const stats = Array.from({ length: folds }, () => ({ rows: 0, xtx: new Float64Array(columns * columns), xty: new Float64Array(columns) }));
  rows.forEach((row, i) => {
    const s = stats[foldOf[i]!]!;
    s.rows += 1;
    const { index, value } = row;
    for (let a = 0; a < index.length; a++) {
      const ia = index[a]!;
      const va = value[a]!;
      s.xty[ia]! += va * y[i]!;
      for (let b = 0; b < index.length; b++) s.xtx[ia * columns + index[b]!]! += va * value[b]!;
    }
  });
  return stats;
}

/** The statistics of every fold but `leaveOut` (none left out: all folds). */
export function sumStats(stats: readonly FoldStats[], columns: number, leaveOut?: number): FoldStats {
  const out = { rows: 0, xtx: new Float64Array(columns * columns), xty: new Float64Array(columns) };
  stats.forEach((s, f) => {
    if (f === leaveOut) return;
    out.rows += s.rows;
    for (let k = 0; k < out.xtx.length; k++) out.xtx[k]! += s.xtx[k]!;
    for (let k = 0; k < columns; k++) out.xty[k]! += s.xty[k]!;
  });
  return out;
}

/** Subtracts fold statistics `minus` from `total` (a fit without that fold). */
export function withoutFold(total: FoldStats, minus: FoldStats): FoldStats {
  const xtx = Float64Array.from(total.xtx, (v, k) => v - minus.xtx[k]!);
  const xty = Float64Array.from(total.xty, (v, k) => v - minus.xty[k]!);
  return { rows: total.rows - minus.rows, xtx, xty };
}

/**
 * β minimizing Σ(y − Xβ)² + λ Σ_{k ≥ 1} β_k² over the columns `subset`
 * (column 0, the intercept, first and unpenalized); other coefficients 0.
 * Returns a full-length coefficient vector.
 */
export function ridgeFromStats(stats: FoldStats, columns: number, subset: readonly number[], lambda: number): Float64Array {
  const p = subset.length;
  const a = new Float64Array(p * p);
  const b = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    const ci = subset[i]!;
    b[i] = stats.xty[ci]!;
    for (let j = 0; j < p; j++) a[i * p + j] = stats.xtx[ci * columns + subset[j]!]!;
    // A column no row of the fit uses (a level only other folds have) gets β = 0 through the penalty;
    // the tiny jitter keeps λ = 0 solvable when that happens.
    a[i * p + i]! += (ci === 0 ? 0 : lambda) + 1e-10;
  }
  const solution = choleskySolve(a, b, p);
  const beta = new Float64Array(columns);
  subset.forEach((c, i) => (beta[c] = solution[i]!));
  return beta;
}

/** Solves A x = b for symmetric positive definite A (row-major, n × n), in place on a copy. */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = Float64Array.from(a);
  for (let j = 0; j < n; j++) {
    let d = l[j * n + j]!;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! ** 2;
    if (!(d > 0)) d = 1e-12; // numerically singular (a duplicated column): treat the direction as unidentified
    const root = Math.sqrt(d);
    l[j * n + j] = root;
    for (let i = j + 1; i < n; i++) {
      let s = l[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / root;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let s = x[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

/** x·β for a sparse row. */
export function predictRow(row: { index: number[]; value: number[] }, beta: ArrayLike<number>): number {
  let sum = 0;
  for (let e = 0; e < row.index.length; e++) sum += row.value[e]! * beta[row.index[e]!]!;
  return sum;
}
