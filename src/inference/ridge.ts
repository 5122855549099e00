/**
 * Ridge-regularized least squares on sparse rows: minimizes
 * Σ_i (y_i − x_iβ)² + λ Σ_{k ≥ 1} β_k² (column 0, the intercept, unpenalized)
 * by conjugate gradients with a Jacobi preconditioner. One-hot features make
 * rows sparse, so the cost is O(nonzeros) per iteration whatever the number
 * of categories.
 */

/** Rows in compressed sparse row form. */
export interface SparseRows {
  columns: number;
  rowStart: Int32Array;
  index: Int32Array;
  value: Float64Array;
}

export function sparseRows(columns: number, rows: readonly { index: number[]; value: number[] }[]): SparseRows {
  const rowStart = new Int32Array(rows.length + 1);
  let nnz = 0;
  rows.forEach((row, i) => {
    nnz += row.index.length;
    rowStart[i + 1] = nnz;
  });
  const index = new Int32Array(nnz);
  const value = new Float64Array(nnz);
  rows.forEach((row, i) => {
    index.set(row.index, rowStart[i]!);
    value.set(row.value, rowStart[i]!);
  });
  return { columns, rowStart, index, value };
}

export function multiply(x: SparseRows, beta: ArrayLike<number>, row: number): number {
  let sum = 0;
  for (let e = x.rowStart[row]!; e < x.rowStart[row + 1]!; e++) sum += x.value[e]! * beta[x.index[e]!]!;
  return sum;
}

/** Solves the ridge problem; `lambda` ≥ 0 penalizes every column but 0. */
export function ridgeSolve(x: SparseRows, y: ArrayLike<number>, lambda: number): Float64Array {
  const n = x.rowStart.length - 1;
  const p = x.columns;
  const penalty = (k: number) => (k === 0 ? 0 : lambda);
  // (XᵀX + Λ)v without forming XᵀX.
  const scratch = new Float64Array(n);
  const apply = (v: Float64Array, out: Float64Array) => {
    out.fill(0);
    for (let i = 0; i < n; i++) scratch[i] = multiply(x, v, i);
    for (let i = 0; i < n; i++) {
      const s = scratch[i]!;
      for (let e = x.rowStart[i]!; e < x.rowStart[i + 1]!; e++) out[x.index[e]!]! += x.value[e]! * s;
    }
    for (let k = 0; k < p; k++) out[k]! += penalty(k) * v[k]!;
  };
  const rhs = new Float64Array(p);
  const diagonal = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    for (let e = x.rowStart[i]!; e < x.rowStart[i + 1]!; e++) {
      rhs[x.index[e]!]! += x.value[e]! * y[i]!;
      diagonal[x.index[e]!]! += x.value[e]! * x.value[e]!;
    }
  }
  for (let k = 0; k < p; k++) diagonal[k] = diagonal[k]! + penalty(k) || 1;

  const beta = new Float64Array(p);
  const residual = Float64Array.from(rhs);
  const z = residual.map((r, k) => r / diagonal[k]!);
  const direction = Float64Array.from(z);
  const ad = new Float64Array(p);
  let rz = dot(residual, z);
  const target = 1e-24 * Math.max(dot(rhs, rhs), 1e-300);
  for (let iteration = 0; iteration < 10 * p + 100 && dot(residual, residual) > target; iteration++) {
    apply(direction, ad);
    const step = rz / dot(direction, ad);
    for (let k = 0; k < p; k++) {
      beta[k]! += step * direction[k]!;
      residual[k]! -= step * ad[k]!;
      z[k] = residual[k]! / diagonal[k]!;
    }
    const next = dot(residual, z);
    const ratio = next / rz;
    rz = next;
    for (let k = 0; k < p; k++) direction[k] = z[k]! + ratio * direction[k]!;
  }
  return beta;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
}
