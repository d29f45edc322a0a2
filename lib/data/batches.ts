/**
 * Mini-batches and binarization.
 *
 * Batches are drawn without replacement from a seeded permutation, reshuffled
 * every epoch, so a seed fixes the whole sequence of batches.
 */
import * as tf from '@tensorflow/tfjs';
import { GenlabError } from '../errors';
import { Random, rngFor } from '../random';

export interface Batch {
  x: tf.Tensor;
  y?: tf.Tensor;
  epoch: number;
  /** Indices of the examples in this batch, in dataset order. */
  indices: Int32Array;
}

export interface BatchOptions {
  batchSize: number;
  seed?: number | Random;
  /** Drop a last batch smaller than batchSize (default true: every step sees the same size). */
  dropRemainder?: boolean;
}

/**
 * An endless iterator of shuffled mini-batches over `x` (and `y`, same first dimension).
 * The caller owns the tensors of each batch (dispose them, or draw inside `tf.tidy`).
 */
export function* batches(x: tf.Tensor, y: tf.Tensor | undefined, options: BatchOptions): Generator<Batch, never> {
  const n = x.shape[0];
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new GenlabError(`batchSize must be a positive whole number, got ${batchSize}.`);
  if (y && y.shape[0] !== n)
    throw new GenlabError(`x has ${n} examples but y has ${y.shape[0]}: they must have the same first dimension.`);
  const dropRemainder = options.dropRemainder ?? true;
  if (n === 0 || (dropRemainder && n < batchSize)) {
    throw new GenlabError(
      `Cannot draw batches of ${batchSize} from ${n} examples: use a smaller batchSize or more data.`,
    );
  }
  const rng = rngFor(options.seed);
  for (let epoch = 0; ; epoch++) {
    const order = rng.permutation(n);
    const end = dropRemainder ? n - (n % batchSize) : n;
    for (let start = 0; start < end; start += batchSize) {
      const indices = order.slice(start, Math.min(start + batchSize, end));
      const idx = tf.tensor1d(indices, 'int32');
      const batch: Batch = { x: tf.gather(x, idx), y: y ? tf.gather(y, idx) : undefined, epoch, indices };
      idx.dispose();
      yield batch;
    }
  }
}

/** Deterministic binarization: 1 where the intensity exceeds `threshold` (default 0.5). */
export function binarize(images: tf.Tensor, threshold = 0.5): tf.Tensor {
  return tf.tidy(() => tf.greater(images, threshold).toFloat());
}

/**
 * Stochastic binarization (Salakhutdinov & Murray 2008): each pixel becomes 1 with
 * probability equal to its intensity, x_b ~ Bernoulli(x). Seeded.
 */
export function binarizeStochastic(images: tf.Tensor, seed: number | Random): tf.Tensor {
  const s = seed instanceof Random ? seed.nextSeed() : seed;
  // u < x written as step(x − u), exact for floats (x − u > 0 exactly when x > u): wasm runs it
  // in a third of the time of less(u, x) cast to float, and every training step calls it.
  return tf.tidy(() => tf.step(tf.sub(images, tf.randomUniform(images.shape, 0, 1, 'float32', s))));
}
