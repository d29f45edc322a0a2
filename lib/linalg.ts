/**
 * Dense linear algebra on small float64 matrices (row-major Float64Array), where tfjs
 * has no routine (no eigen-decomposition, no SVD) or float32 is not precise enough:
 * PCA's Rayleigh–Ritz step and the Fréchet distance's matrix square roots use it.
 */
import { GenlabError } from './errors';

/**
 * Eigen-decomposition of a small symmetric matrix A = U diag(λ) Uᵀ by cyclic Jacobi
 * rotations (each rotation zeroes one off-diagonal pair; sweeps repeat until the
 * off-diagonal mass is negligible). Returns eigenvalues in descending order and the
 * eigenvectors as the columns of `vectors` (row-major n × n).
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  if (matrix.length !== n * n)
    throw new GenlabError(`symmetricEigen expects ${n}×${n} = ${n * n} numbers, got ${matrix.length}.`);
  const a = Float64Array.from(matrix);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) u[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= 1e-30 * scale || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // Rotation angle that zeroes a_pq: tan 2θ = 2 a_pq / (a_qq − a_pp), taking the smaller root.
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const ukp = u[k * n + p];
          const ukq = u[k * n + q];
          u[k * n + p] = c * ukp - s * ukq;
          u[k * n + q] = s * ukp + c * ukq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    for (let k = 0; k < n; k++) vectors[k * n + to] = u[k * n + from];
  });
  return { values, vectors };
}

/** Orthonormalises the p columns of a row-major d × p matrix in place (modified Gram–Schmidt, run twice). */
export function orthonormalizeColumns(m: Float64Array, d: number, p: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < p; j++) {
      for (let i = 0; i < j; i++) {
        let dot = 0;
        for (let r = 0; r < d; r++) dot += m[r * p + i] * m[r * p + j];
        for (let r = 0; r < d; r++) m[r * p + j] -= dot * m[r * p + i];
      }
      let norm = 0;
      for (let r = 0; r < d; r++) norm += m[r * p + j] * m[r * p + j];
      norm = Math.sqrt(norm);
      // A column that vanished (rank-deficient data): replace it by a unit vector and re-orthogonalise next pass.
      if (norm < 1e-12) for (let r = 0; r < d; r++) m[r * p + j] = r === j % d ? 1 : 0;
      else for (let r = 0; r < d; r++) m[r * p + j] /= norm;
    }
  }
}

/** (d × p) · (p × q), row-major float64. */
export function multiply(a: Float64Array, b: Float64Array, d: number, p: number, q: number): Float64Array {
  const out = new Float64Array(d * q);
  for (let r = 0; r < d; r++)
    for (let i = 0; i < p; i++) {
      const v = a[r * p + i];
      if (v !== 0) for (let c = 0; c < q; c++) out[r * q + c] += v * b[i * q + c];
    }
  return out;
}
