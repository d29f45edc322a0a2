/**
 * The simplest density model of binary images: every pixel an independent Bernoulli,
 *
 *   p(x) = Π_i p_i^{x_i} (1 − p_i)^{1 − x_i},
 *
 * fitted by smoothed counting, p_i = (Σ_n x_{n,i} + α) / (N + 2α) (α = 1: Laplace's rule,
 * the posterior mean under a uniform prior; α = 0 is the maximum-likelihood estimate).
 * Smoothing keeps every pixel's probability off exactly 0 or 1, so no test image gets
 * log-likelihood −∞. It ignores every dependence between pixels, which is why
 * its samples are speckled clouds: the baseline that every later model beats.
 */
import * as tf from '@tensorflow/tfjs';
import { GenlabError } from '../errors';
import { bernoulliLogLikelihood } from '../losses';
import { checkBinary } from '../models/kit';

export interface PixelBernoulli {
  /** p_i for each pixel, shaped like one image. */
  probabilities: tf.Tensor;
  /** log(p_i / (1 − p_i)). */
  logits: tf.Tensor;
}

/** Fits p_i by add-α smoothed counts (default α = 1; α = 0 is maximum likelihood) on binary images [N, ...]. */
export function fitPixelBernoulli(images: tf.Tensor, options: { smoothing?: number } = {}): PixelBernoulli {
  checkBinary(images, 'fitPixelBernoulli');
  const alpha = options.smoothing ?? 1;
  if (!(alpha >= 0)) throw new GenlabError(`fitPixelBernoulli: smoothing must be ≥ 0, got ${alpha}.`);
  const n = images.shape[0];
  const probabilities = tf.tidy(() =>
    images
      .sum(0)
      .add(alpha)
      .div(n + 2 * alpha),
  );
  const logits = tf.tidy(() => probabilities.log().sub(tf.scalar(1).sub(probabilities).log()));
  return { probabilities, logits };
}

/** log p(x) under the model, per image (nats), [N]. */
export function pixelBernoulliLogLikelihood(model: PixelBernoulli, images: tf.Tensor): tf.Tensor1D {
  checkBinary(images, 'pixelBernoulliLogLikelihood');
  if (!tf.util.arraysEqual(images.shape.slice(1), model.logits.shape)) {
    throw new GenlabError(
      `pixelBernoulliLogLikelihood: images are [${images.shape}] but the model is for images shaped [${model.logits.shape}].`,
    );
  }
  return tf.tidy(() =>
    bernoulliLogLikelihood(
      images,
      model.logits.expandDims(0).tile([images.shape[0], ...model.logits.shape.map(() => 1)]),
    ),
  );
}

/** n images drawn from the model: each pixel 1 with probability p_i, independently. Seeded. */
export function samplePixelBernoulli(model: PixelBernoulli, n: number, seed: number): tf.Tensor {
  return tf.tidy(() =>
    tf
      .randomUniform([n, ...model.probabilities.shape], 0, 1, 'float32', seed)
      .less(model.probabilities.expandDims(0))
      .toFloat(),
  );
}
