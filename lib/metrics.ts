/**
 * Measures of a model's output: accuracy, the confusion matrix and cluster purity
 * against labels; mode coverage and the Fréchet distance for generated samples.
 * Plain numbers in, plain numbers out (tensors are read once).
 */
import * as tf from '@tensorflow/tfjs';
import { GenlabError } from './errors';
import { symmetricEigen } from './linalg';

type Labels = tf.Tensor | ArrayLike<number>;

function read(values: Labels, what: string): Int32Array {
  const data = values instanceof tf.Tensor ? values.dataSync() : values;
  const out = Int32Array.from(data as ArrayLike<number>);
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== data[i] || out[i] < 0)
      throw new GenlabError(`${what} must be class indices (whole numbers ≥ 0), but entry ${i} is ${data[i]}.`);
  }
  return out;
}

function pair(labels: Labels, predictions: Labels, what: string): [Int32Array, Int32Array] {
  const a = read(labels, `${what}: labels`);
  const b = read(predictions, `${what}: predictions`);
  if (a.length !== b.length)
    throw new GenlabError(`${what}: ${a.length} labels but ${b.length} predictions; they must match one to one.`);
  if (a.length === 0) throw new GenlabError(`${what}: there are no examples to measure.`);
  return [a, b];
}

/** Fraction of examples whose prediction equals the label: (1/N) Σ_n [ŷ_n = y_n]. */
export function accuracy(labels: Labels, predictions: Labels): number {
  const [y, p] = pair(labels, predictions, 'accuracy');
  let right = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === p[i]) right++;
  return right / y.length;
}

/**
 * The confusion matrix C[i][j] = #{n : y_n = i and ŷ_n = j}: rows are the true
 * classes, columns the predicted ones, so the diagonal holds the correct answers.
 */
export function confusionMatrix(labels: Labels, predictions: Labels, classes: number): number[][] {
  const [y, p] = pair(labels, predictions, 'confusionMatrix');
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < y.length; i++) {
    if (y[i] >= classes || p[i] >= classes)
      throw new GenlabError(
        `confusionMatrix: class ${Math.max(y[i], p[i])} at entry ${i} is outside 0..${classes - 1}; pass the right number of classes.`,
      );
    matrix[y[i]][p[i]]++;
  }
  return matrix;
}

/**
 * Cluster purity: each cluster votes for its most frequent label, and purity is the
 * fraction of examples that carry their cluster's label,
 *
 *   purity = (1/N) Σ_c max_y #{n : cluster_n = c and y_n = y}
 *
 * 1 when every cluster holds one class; about the largest class's share for random clusters.
 * Also returns each cluster's majority label and size.
 */
export function clusterPurity(
  clusters: Labels,
  labels: Labels,
): { purity: number; majority: number[]; sizes: number[] } {
  const [c, y] = pair(clusters, labels, 'clusterPurity');
  const counts = new Map<number, Map<number, number>>();
  for (let i = 0; i < c.length; i++) {
    const row = counts.get(c[i]) ?? new Map<number, number>();
    row.set(y[i], (row.get(y[i]) ?? 0) + 1);
    counts.set(c[i], row);
  }
  const k = Math.max(...c) + 1;
  const majority = new Array<number>(k).fill(-1);
  const sizes = new Array<number>(k).fill(0);
  let agreeing = 0;
  for (const [cluster, row] of counts) {
    let best = -1;
    let bestCount = 0;
    for (const [label, count] of row) {
      sizes[cluster] += count;
      if (count > bestCount || (count === bestCount && label < best)) [best, bestCount] = [label, count];
    }
    majority[cluster] = best;
    agreeing += bestCount;
  }
  return { purity: agreeing / c.length, majority, sizes };
}

/**
 * Mode coverage of generated samples, judged by a classifier: how many classes
 * receive at least `minFraction` (default 1%) of the samples' predicted labels —
 * 10 of 10 digits for a generator that has not collapsed. Also the histogram.
 */
export function modeCoverage(
  predictions: Labels,
  classes: number,
  options: { minFraction?: number } = {},
): { covered: number; counts: number[] } {
  const p = read(predictions, 'modeCoverage: predictions');
  if (p.length === 0) throw new GenlabError('modeCoverage: there are no samples to count.');
  const counts = new Array<number>(classes).fill(0);
  for (const c of p) {
    if (c >= classes)
      throw new GenlabError(`modeCoverage: class ${c} is outside 0..${classes - 1}; pass the right number of classes.`);
    counts[c]++;
  }
  const threshold = (options.minFraction ?? 0.01) * p.length;
  return { covered: counts.filter((n) => n > 0 && n >= threshold).length, counts };
}

/** Mean and covariance (1/(N−1)) of the rows of [N, D] features, in float64. */
export function featureMoments(features: tf.Tensor): { mean: Float64Array; covariance: Float64Array; dims: number } {
  if (features.rank !== 2 || features.shape[0] < 2)
    throw new GenlabError(`expected features shaped [N, D] with N ≥ 2, got [${features.shape}].`);
  const [n, d] = features.shape;
  const x = features.dataSync();
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  const covariance = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j] - mean[j];
    for (let j = 0; j < d; j++) {
      const rj = row[j] / (n - 1);
      if (rj !== 0) for (let k = j; k < d; k++) covariance[j * d + k] += rj * row[k];
    }
  }
  for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) covariance[j * d + k] = covariance[k * d + j];
  return { mean, covariance, dims: d };
}

/** √A of a symmetric positive semi-definite matrix, U diag(√λ) Uᵀ (tiny negative λ from rounding → 0). */
function symmetricSqrt(a: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(Math.max(0, values[k]));
    if (s === 0) continue;
    for (let i = 0; i < d; i++) {
      const v = vectors[i * d + k] * s;
      for (let j = 0; j < d; j++) out[i * d + j] += v * vectors[j * d + k];
    }
  }
  return out;
}

/**
 * The Fréchet distance between two Gaussians (the FID when the moments are a
 * feature extractor's on real and generated images):
 *
 *   d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½)
 *
 * (tr (Σ₁Σ₂)^½ equals tr (Σ₁^½ Σ₂ Σ₁^½)^½, whose argument is symmetric, so two
 * symmetric eigen-decompositions compute it exactly.)
 */
export function frechetDistanceFromMoments(
  mean1: ArrayLike<number>,
  cov1: ArrayLike<number>,
  mean2: ArrayLike<number>,
  cov2: ArrayLike<number>,
): number {
  const d = mean1.length;
  if (mean2.length !== d || cov1.length !== d * d || cov2.length !== d * d) {
    throw new GenlabError(
      `frechetDistance: the means must both have D numbers and the covariances D×D (D = ${d}); got ${mean2.length}, ${cov1.length} and ${cov2.length}.`,
    );
  }
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (mean1[i] - mean2[i]) ** 2;
  const root1 = symmetricSqrt(Float64Array.from(cov1), d);
  // M = Σ₁^½ Σ₂ Σ₁^½
  const tmp = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const a = root1[i * d + k];
      if (a !== 0) for (let j = 0; j < d; j++) tmp[i * d + j] += a * cov2[k * d + j];
    }
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const a = tmp[i * d + k];
      if (a !== 0) for (let j = 0; j < d; j++) m[i * d + j] += a * root1[k * d + j];
    }
  for (let i = 0; i < d; i++)
    for (let j = 0; j < i; j++) m[i * d + j] = m[j * d + i] = 0.5 * (m[i * d + j] + m[j * d + i]);
  const { values } = symmetricEigen(m, d);
  let trace = 0;
  for (let i = 0; i < d; i++) trace += cov1[i * d + i] + cov2[i * d + i];
  for (const v of values) trace -= 2 * Math.sqrt(Math.max(0, v));
  return meanTerm + trace;
}

/** The Fréchet distance between the Gaussians fitted to two sets of features, [N, D] and [M, D]. */
export function frechetDistance(features1: tf.Tensor, features2: tf.Tensor): number {
  const a = featureMoments(features1);
  const b = featureMoments(features2);
  if (a.dims !== b.dims)
    throw new GenlabError(
      `frechetDistance: the features have ${a.dims} and ${b.dims} dimensions; they must come from the same extractor.`,
    );
  return frechetDistanceFromMoments(a.mean, a.covariance, b.mean, b.covariance);
}
