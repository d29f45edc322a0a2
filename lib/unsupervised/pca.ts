/**
 * Principal component analysis.
 *
 * With the data centred, x̃_n = x_n − x̄, and its covariance C = (1/(N−1)) Σ_n x̃_n x̃_nᵀ,
 * the principal components are the eigenvectors of C with the largest eigenvalues,
 * C v_j = λ_j v_j, λ_1 ≥ λ_2 ≥ …: the orthogonal directions of largest variance
 * (λ_j is the variance along v_j). Projecting onto the first k,
 *
 *   z_n = Vₖ (x_n − x̄)   (Vₖ: the k components as rows, [k, D]),
 *
 * keeps the fraction Σ_{j≤k} λ_j / tr(C) of the total variance.
 *
 * tfjs has no SVD or eigen-decomposition, so `fitPca` finds the top k eigenpairs of
 * the D × D covariance by subspace iteration with Rayleigh–Ritz: V ← orth(C V) on a
 * block of k + 10 vectors, and at each round the exact eigen-decomposition of the
 * small projected matrix Vᵀ C V (Jacobi, in float64) rotates V onto the current best
 * estimates. It stops when every wanted pair's residual ‖C v − λ v‖ is below
 * `tolerance` · λ_1. The products C V run on the TensorFlow.js backend; the small
 * dense algebra runs in float64 JavaScript.
 */
import * as tf from '@tensorflow/tfjs';
import { answerKey } from '../answer_keys';
import { GenlabError } from '../errors';
import { rngFor } from '../random';

/**
 * Eigen-decomposition of a small symmetric matrix A = U diag(λ) Uᵀ by cyclic Jacobi
 * rotations (each rotation zeroes one off-diagonal pair; sweeps repeat until the
 * off-diagonal mass is negligible). Returns eigenvalues in descending order and the
 * eigenvectors as the columns of `vectors` (row-major n × n).
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  if (matrix.length !== n * n) throw new GenlabError(`symmetricEigen expects ${n}×${n} = ${n * n} numbers, got ${matrix.length}.`);
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
function orthonormalizeColumns(m: Float64Array, d: number, p: number): void {
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
function multiply(a: Float64Array, b: Float64Array, d: number, p: number, q: number): Float64Array {
  const out = new Float64Array(d * q);
  for (let r = 0; r < d; r++) for (let i = 0; i < p; i++) {
    const v = a[r * p + i];
    if (v !== 0) for (let c = 0; c < q; c++) out[r * q + c] += v * b[i * q + c];
  }
  return out;
}

export interface Pca {
  /** x̄, [D]. */
  mean: tf.Tensor1D;
  /** The principal directions as rows, [k, D], orthonormal, by decreasing variance. */
  components: tf.Tensor2D;
  /** λ_1 ≥ … ≥ λ_k: the variance along each component. */
  variances: number[];
  /** tr(C): the total variance of the data. */
  totalVariance: number;
  /** λ_j / tr(C) for each component. */
  explainedVarianceRatio: number[];
  /** Subspace-iteration rounds it took. */
  iterations: number;
}

export interface PcaOptions {
  /** Stop when ‖C v_j − λ_j v_j‖ ≤ tolerance · λ_1 for every j ≤ k (default 1e-4). */
  tolerance?: number;
  /** Most rounds (default 300). */
  iterations?: number;
  /** Seed of the random starting block. */
  seed?: number;
}

/** The top-k principal components of data [N, D] (images are flattened). The caller owns `mean` and `components`. */
export function fitPca(data: tf.Tensor, k: number, options: PcaOptions = {}): Pca {
  if (data.rank < 2) throw new GenlabError(`fitPca expects data shaped [N, D] (or images [N, 28, 28, 1]), got [${data.shape}].`);
  const n = data.shape[0];
  const d = data.size / Math.max(1, n);
  if (n < 2) throw new GenlabError(`fitPca needs at least 2 examples to estimate a covariance, got ${n}.`);
  if (!Number.isInteger(k) || k < 1 || k > d) throw new GenlabError(`fitPca: k must be a whole number between 1 and the dimension ${d}, got ${k}.`);
  const tolerance = options.tolerance ?? 1e-4;
  const maxIterations = options.iterations ?? 300;
  const p = Math.min(d, k + 10);

  const [mean, covariance] = tf.tidy(() => {
    const x = data.reshape([n, d]);
    const mu = x.mean(0) as tf.Tensor1D;
    const centred = x.sub(mu);
    return [mu, tf.matMul(centred, centred, true, false).div(n - 1) as tf.Tensor2D];
  });
  const totalVariance = tf.tidy(() => covariance.mul(tf.eye(d)).sum().dataSync()[0]);
  const times = (v: Float64Array): Float64Array => {
    const product = tf.tidy(() => tf.matMul(covariance, tf.tensor2d(Float32Array.from(v), [d, p])));
    const values = Float64Array.from(product.dataSync());
    product.dispose();
    return values;
  };

  const rng = rngFor(options.seed ?? 0);
  let v = Float64Array.from({ length: d * p }, () => rng.normal());
  orthonormalizeColumns(v, d, p);
  let values = new Float64Array(p);
  let iterations = 0;
  for (;;) {
    iterations++;
    const w = times(v); // C V, d × p
    // Rayleigh–Ritz: H = Vᵀ C V = U Λ Uᵀ; the Ritz vectors V U are the best estimates in span(V).
    const h = new Float64Array(p * p);
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) {
      let s = 0;
      for (let r = 0; r < d; r++) s += v[r * p + i] * w[r * p + j];
      h[i * p + j] = s;
    }
    for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) h[i * p + j] = h[j * p + i] = 0.5 * (h[i * p + j] + h[j * p + i]);
    const eig = symmetricEigen(h, p);
    values = eig.values;
    v = multiply(v, eig.vectors, d, p, p);
    const cv = multiply(w, eig.vectors, d, p, p); // C (V U)
    let worst = 0;
    for (let j = 0; j < k; j++) {
      let r2 = 0;
      for (let r = 0; r < d; r++) r2 += (cv[r * p + j] - values[j] * v[r * p + j]) ** 2;
      worst = Math.max(worst, Math.sqrt(r2));
    }
    if (worst <= tolerance * Math.max(values[0], 1e-30) || iterations >= maxIterations) break;
    v = cv;
    orthonormalizeColumns(v, d, p);
  }
  covariance.dispose();

  const rows = new Float32Array(k * d);
  for (let j = 0; j < k; j++) {
    // Fix each direction's sign (its largest entry positive) so results repeat exactly across runs.
    let big = 0;
    for (let r = 0; r < d; r++) if (Math.abs(v[r * p + j]) > Math.abs(big)) big = v[r * p + j];
    const sign = big < 0 ? -1 : 1;
    for (let r = 0; r < d; r++) rows[j * d + r] = sign * v[r * p + j];
  }
  const variances = Array.from(values.slice(0, k));
  return {
    mean,
    components: tf.tensor2d(rows, [k, d]),
    variances,
    totalVariance,
    explainedVarianceRatio: variances.map((l) => l / totalVariance),
    iterations,
  };
}

/** z = (x − x̄) Vₖᵀ: the coordinates of each example along the components, [N, k]. */
export const projectPca = answerKey('projectPca', function projectPca(pca: Pca, data: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(data.reshape([data.shape[0], -1]).sub(pca.mean), pca.components, false, true) as tf.Tensor2D);
});

/** x̂ = x̄ + z Vₖ: back from k coordinates to the data space, [N, D]. */
export function reconstructPca(pca: Pca, codes: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(codes, pca.components).add(pca.mean) as tf.Tensor2D);
}
