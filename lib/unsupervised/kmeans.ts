/**
 * k-means clustering (Lloyd's algorithm) with k-means++ initialisation.
 *
 * Objective: choose centroids μ_1..μ_K and assignments c_n to minimise the inertia
 *
 *   J = Σ_n ‖x_n − μ_{c_n}‖²
 *
 * by alternating two steps, each of which can only lower J:
 *   assignment: c_n = argmin_k ‖x_n − μ_k‖²
 *   update:     μ_k = (1/|S_k|) Σ_{n ∈ S_k} x_n,  S_k = {n : c_n = k}
 * until no assignment changes. k-means++ (Arthur & Vassilvitskii 2007) picks the
 * first centroid uniformly and each next one with probability ∝ D(x)², the squared
 * distance to the nearest centroid chosen so far.
 */
import * as tf from '@tensorflow/tfjs';
import { answerKey } from '../answer_keys';
import { GenlabError } from '../errors';
import { Random, rngFor } from '../random';

function asMatrix(x: tf.Tensor, what: string): tf.Tensor2D {
  if (x.rank < 2)
    throw new GenlabError(`${what} expects data shaped [N, D] (or images [N, 28, 28, 1]), got [${x.shape}].`);
  return (x.rank === 2 ? x : x.reshape([x.shape[0], -1])) as tf.Tensor2D;
}

/** Squared distances ‖x_n − μ_k‖² = ‖x_n‖² − 2 x_n·μ_k + ‖μ_k‖², shaped [N, K] (clipped at 0 against rounding). */
export function squaredDistances(x: tf.Tensor, centroids: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const xs = asMatrix(x, 'squaredDistances');
    const cs = asMatrix(centroids, 'squaredDistances');
    if (xs.shape[1] !== cs.shape[1])
      throw new GenlabError(
        `squaredDistances: points have ${xs.shape[1]} dimensions but centroids have ${cs.shape[1]}.`,
      );
    const xx = xs.square().sum(1, true);
    const cc = cs.square().sum(1).expandDims(0);
    return xx
      .sub(tf.matMul(xs, cs, false, true).mul(2))
      .add(cc)
      .relu() as tf.Tensor2D;
  });
}

/** The assignment step: c_n = argmin_k ‖x_n − μ_k‖², int32 [N]. */
export const assignClusters = answerKey(
  'assignClusters',
  function assignClusters(x: tf.Tensor, centroids: tf.Tensor): tf.Tensor1D {
    return tf.tidy(() => squaredDistances(x, centroids).argMin(1) as tf.Tensor1D);
  },
);

/**
 * The update step: μ_k = mean of the points assigned to k, [K, D]. A cluster left
 * with no points keeps its previous centroid (or becomes 0 when none is given).
 */
export const updateCentroids = answerKey(
  'updateCentroids',
  function updateCentroids(x: tf.Tensor, assignments: tf.Tensor, k: number, previous?: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const xs = asMatrix(x, 'updateCentroids');
      if (assignments.shape[0] !== xs.shape[0])
        throw new GenlabError(`updateCentroids: ${assignments.shape[0]} assignments for ${xs.shape[0]} points.`);
      const oneHot = tf.oneHot(assignments.toInt(), k).toFloat(); // [N, K]
      const sums = tf.matMul(oneHot, xs, true, false); // [K, D]
      const counts = oneHot.sum(0).expandDims(1); // [K, 1]
      const means = sums.div(counts.maximum(1));
      const old = previous ? asMatrix(previous, 'updateCentroids') : tf.zerosLike(means);
      return tf.where(counts.greater(0).tile([1, xs.shape[1]]), means, old) as tf.Tensor2D;
    });
  },
);

/** The inertia J = Σ_n ‖x_n − μ_{c_n}‖². */
export function inertia(x: tf.Tensor, centroids: tf.Tensor, assignments: tf.Tensor): number {
  return tf.tidy(() => {
    const k = centroids.shape[0];
    return squaredDistances(x, centroids).mul(tf.oneHot(assignments.toInt(), k)).sum().dataSync()[0];
  });
}

/** k-means++ initial centroids, [K, D]: each next centroid drawn with probability ∝ D(x)². Seeded. */
export function kmeansPlusPlus(x: tf.Tensor, k: number, seed?: number | Random): tf.Tensor2D {
  const xs = asMatrix(x, 'kmeansPlusPlus');
  const n = xs.shape[0];
  if (!Number.isInteger(k) || k < 1 || k > n)
    throw new GenlabError(
      `kmeansPlusPlus: k must be a whole number between 1 and the number of points (${n}), got ${k}.`,
    );
  const rng = rngFor(seed);
  const chosen = [rng.int(n)];
  const nearest = new Float64Array(n).fill(Infinity);
  while (chosen.length < k) {
    const last = chosen[chosen.length - 1];
    const d = tf.tidy(() => squaredDistances(xs, xs.slice(last, 1)).dataSync());
    let total = 0;
    for (let i = 0; i < n; i++) total += nearest[i] = Math.min(nearest[i], d[i]);
    // Every point sits on a centroid (fewer distinct points than k): fall back to uniform.
    let target = rng.next() * total;
    let pick = n - 1;
    if (total > 0) {
      for (let i = 0; i < n; i++)
        if ((target -= nearest[i]) < 0) {
          pick = i;
          break;
        }
    } else pick = rng.int(n);
    chosen.push(pick);
  }
  const result = tf.tidy(() => tf.gather(xs, tf.tensor1d(chosen, 'int32')) as tf.Tensor2D);
  if (xs !== x) xs.dispose();
  return result;
}

export interface KMeansOptions {
  /** Most assignment/update rounds (default 100); stops earlier when no assignment changes. */
  iterations?: number;
  seed?: number | Random;
  /** Starting centroids [K, D] (default: k-means++). */
  initial?: tf.Tensor;
  /** The assignment step to use (default `assignClusters`): a notebook passes the student's. */
  assign?: (x: tf.Tensor, centroids: tf.Tensor) => tf.Tensor;
  /** The update step to use (default `updateCentroids`). */
  update?: (x: tf.Tensor, assignments: tf.Tensor, k: number, previous?: tf.Tensor) => tf.Tensor;
  /** Called after each round with its number (1-based) and the inertia. */
  onIteration?: (iteration: number, inertia: number) => void;
}

export interface KMeansResult {
  centroids: tf.Tensor2D;
  assignments: tf.Tensor1D;
  /** The inertia after each round; never increases. */
  inertia: number[];
  iterations: number;
  converged: boolean;
}

/** Lloyd's algorithm from k-means++ (or given) centroids. The caller owns the returned tensors. */
export function kmeans(x: tf.Tensor, k: number, options: KMeansOptions = {}): KMeansResult {
  const xs = asMatrix(x, 'kmeans');
  // Each step runs inside tf.tidy, so a student's step that does not free its
  // temporaries (a [60000, 784] square is 188 MB) cannot fill memory round after round.
  const assignStep = options.assign ?? assignClusters;
  const updateStep = options.update ?? updateCentroids;
  const assign = (p: tf.Tensor, c: tf.Tensor) => tf.tidy(() => assignStep(p, c));
  const update = (p: tf.Tensor, a: tf.Tensor, k: number, previous: tf.Tensor) =>
    tf.tidy(() => updateStep(p, a, k, previous));
  const maxIterations = options.iterations ?? 100;
  let centroids: tf.Tensor2D = options.initial
    ? (asMatrix(options.initial, 'kmeans').clone() as tf.Tensor2D)
    : kmeansPlusPlus(xs, k, options.seed);
  if (centroids.shape[0] !== k || centroids.shape[1] !== xs.shape[1])
    throw new GenlabError(`kmeans: initial centroids are [${centroids.shape}], expected [${k}, ${xs.shape[1]}].`);
  let assignments = assign(xs, centroids) as tf.Tensor1D;
  const history: number[] = [];
  let converged = false;
  let iteration = 0;
  while (iteration < maxIterations && !converged) {
    iteration++;
    const next = update(xs, assignments, k, centroids) as tf.Tensor2D;
    centroids.dispose();
    centroids = next;
    const reassigned = assign(xs, centroids) as tf.Tensor1D;
    converged = tf.tidy(() => reassigned.toInt().equal(assignments.toInt()).all().dataSync()[0] === 1);
    assignments.dispose();
    assignments = reassigned;
    history.push(inertia(xs, centroids, assignments));
    options.onIteration?.(iteration, history[history.length - 1]);
  }
  if (xs !== x) xs.dispose();
  // A student's assignment step may return float indices; hand back int32 either way.
  if (assignments.dtype !== 'int32') {
    const indices = tf.tidy(() => assignments.toInt() as tf.Tensor1D);
    assignments.dispose();
    assignments = indices;
  }
  return { centroids, assignments, inertia: history, iterations: iteration, converged };
}
