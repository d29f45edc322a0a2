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
import { multiply, orthonormalizeColumns, symmetricEigen } from '../linalg';
import { rngFor } from '../random';

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
  if (data.rank < 2)
    throw new GenlabError(`fitPca expects data shaped [N, D] (or images [N, 28, 28, 1]), got [${data.shape}].`);
  const n = data.shape[0];
  const d = data.size / Math.max(1, n);
  if (n < 2) throw new GenlabError(`fitPca needs at least 2 examples to estimate a covariance, got ${n}.`);
  if (!Number.isInteger(k) || k < 1 || k > d)
    throw new GenlabError(`fitPca: k must be a whole number between 1 and the dimension ${d}, got ${k}.`);
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
    for (let i = 0; i < p; i++)
      for (let j = 0; j < p; j++) {
        let s = 0;
        for (let r = 0; r < d; r++) s += v[r * p + i] * w[r * p + j];
        h[i * p + j] = s;
      }
    for (let i = 0; i < p; i++)
      for (let j = 0; j < i; j++) h[i * p + j] = h[j * p + i] = 0.5 * (h[i * p + j] + h[j * p + i]);
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
  return tf.tidy(
    () => tf.matMul(data.reshape([data.shape[0], -1]).sub(pca.mean), pca.components, false, true) as tf.Tensor2D,
  );
});

/** x̂ = x̄ + z Vₖ: back from k coordinates to the data space, [N, D]. */
export function reconstructPca(pca: Pca, codes: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(codes, pca.components).add(pca.mean) as tf.Tensor2D);
}
