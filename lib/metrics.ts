/**
 * Measures of a model's output against labels: accuracy, the confusion matrix, and
 * cluster purity. Plain numbers in, plain numbers out (tensors are read once).
 */
import * as tf from '@tensorflow/tfjs';
import { GenlabError } from './errors';

type Labels = tf.Tensor | ArrayLike<number>;

function read(values: Labels, what: string): Int32Array {
  const data = values instanceof tf.Tensor ? values.dataSync() : values;
  const out = Int32Array.from(data as ArrayLike<number>);
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== data[i] || out[i] < 0) throw new GenlabError(`${what} must be class indices (whole numbers ≥ 0), but entry ${i} is ${data[i]}.`);
  }
  return out;
}

function pair(labels: Labels, predictions: Labels, what: string): [Int32Array, Int32Array] {
  const a = read(labels, `${what}: labels`);
  const b = read(predictions, `${what}: predictions`);
  if (a.length !== b.length) throw new GenlabError(`${what}: ${a.length} labels but ${b.length} predictions; they must match one to one.`);
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
    if (y[i] >= classes || p[i] >= classes) throw new GenlabError(`confusionMatrix: class ${Math.max(y[i], p[i])} at entry ${i} is outside 0..${classes - 1}; pass the right number of classes.`);
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
export function clusterPurity(clusters: Labels, labels: Labels): { purity: number; majority: number[]; sizes: number[] } {
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
