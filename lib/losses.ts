/**
 * Every loss and bound named in the lectures, each a small pure function.
 *
 * Conventions: tensors are batched along the first axis; "per example" functions
 * return one value per example ([N]) and sum over every other axis; log-densities
 * are in nats. The model code, the notebooks' checks and the grader's reference all
 * use these definitions, so each concept is defined once.
 */
import * as tf from '@tensorflow/tfjs';
import { answerKey } from './answer_keys';
import { GenlabError } from './errors';

const LOG_2PI = Math.log(2 * Math.PI);

function sumPerExample(t: tf.Tensor): tf.Tensor1D {
  if (t.rank === 0) throw new GenlabError('expected a batch of values (rank ≥ 1), got a scalar.');
  return (t.rank === 1 ? t : t.reshape([t.shape[0], -1]).sum(1)) as tf.Tensor1D;
}

function sameShape(a: tf.Tensor, b: tf.Tensor, what: string): void {
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new GenlabError(`${what}: the shapes must match, but got [${a.shape}] and [${b.shape}].`);
  }
}

/**
 * Identity in the forward pass, zero gradient in the backward pass (tfjs has no
 * tf.stopGradient). Used to treat a tensor as a constant inside a graph.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((input) => {
    const t = input as tf.Tensor;
    return { value: t.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  return f(x) as T;
}

/**
 * The reparameterization trick: z = μ + σ ⊙ ε with σ = exp(½ log σ²) and ε ~ N(0, I)
 * drawn outside the graph. z is differentiable in μ and log σ²; ε is a constant
 * (no gradient flows to it), which is what moves the randomness out of the path
 * from the loss to the encoder.
 */
export const reparameterize = answerKey(
  'reparameterize',
  function reparameterize(mu: tf.Tensor, logvar: tf.Tensor, eps: tf.Tensor): tf.Tensor {
    sameShape(mu, logvar, 'reparameterize(mu, logvar, eps)');
    sameShape(mu, eps, 'reparameterize(mu, logvar, eps)');
    return tf.tidy(() => mu.add(tf.exp(logvar.mul(0.5)).mul(stopGradient(eps))));
  },
);

/**
 * KL divergence from a diagonal Gaussian to the standard normal, per example:
 *
 *   KL(q(z|x) ‖ N(0, I)) = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)
 *
 * Summed over the latent dimensions (not averaged), in nats.
 */
export const klNormal = answerKey('klNormal', function klNormal(mu: tf.Tensor, logvar: tf.Tensor): tf.Tensor1D {
  sameShape(mu, logvar, 'klNormal(mu, logvar)');
  return tf.tidy(
    () => sumPerExample(tf.scalar(1).add(logvar).sub(mu.square()).sub(logvar.exp())).mul(-0.5) as tf.Tensor1D,
  );
});

/**
 * Bernoulli log-likelihood on logits, per example:
 *
 *   log p(x | z) = Σ_i x_i log σ(ℓ_i) + (1 − x_i) log(1 − σ(ℓ_i)) = Σ_i x_i ℓ_i − softplus(ℓ_i)
 *
 * The right-hand form never takes log(0), so it is stable for any logit.
 */
export const bernoulliLogLikelihood = answerKey(
  'bernoulliLogLikelihood',
  function bernoulliLogLikelihood(x: tf.Tensor, logits: tf.Tensor): tf.Tensor1D {
    sameShape(x, logits, 'bernoulliLogLikelihood(x, logits)');
    return tf.tidy(() => sumPerExample(x.mul(logits).sub(tf.softplus(logits))) as tf.Tensor1D);
  },
);

/**
 * Softmax cross-entropy on logits, per example:
 *
 *   −log p(y | x) = −log softmax(ℓ)_y = log Σ_k exp(ℓ_k) − ℓ_y
 *
 * computed with log-sum-exp, so it is finite for any logit. `labels` are class
 * indices [N] (int32), or rows of class probabilities [N, K] (one-hot or soft), for
 * which it is −Σ_k y_k log softmax(ℓ)_k.
 */
export const softmaxCrossEntropy = answerKey(
  'softmaxCrossEntropy',
  function softmaxCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor1D {
    if (logits.rank !== 2)
      throw new GenlabError(`softmaxCrossEntropy expects logits shaped [N, K], got [${logits.shape}].`);
    const [n, k] = logits.shape;
    if (labels.rank === 1) {
      if (labels.shape[0] !== n)
        throw new GenlabError(
          `softmaxCrossEntropy: ${labels.shape[0]} labels for ${n} rows of logits; they must match.`,
        );
      return tf.tidy(() => softmaxCrossEntropy(tf.oneHot(labels.toInt(), k).toFloat(), logits));
    }
    sameShape(labels, logits, 'softmaxCrossEntropy(labels, logits)');
    return tf.tidy(() => tf.logSoftmax(logits).mul(labels).sum(1).neg() as tf.Tensor1D);
  },
);

/**
 * Mean squared error per example, the autoencoder's L2 reconstruction loss:
 *
 *   MSE(x, x̂) = (1/D) Σ_i (x_i − x̂_i)²     (D values per example, e.g. 784 pixels)
 *
 * Averaged over each example's values (so it reads in squared intensity units and
 * does not depend on the image size); one value per example, [N].
 */
export const mse = answerKey('mse', function mse(x: tf.Tensor, reconstruction: tf.Tensor): tf.Tensor1D {
  sameShape(x, reconstruction, 'mse(x, reconstruction)');
  if (x.rank === 0) throw new GenlabError('mse expects a batch of values (rank ≥ 1), got a scalar.');
  return tf.tidy(
    () =>
      (x.rank === 1
        ? x.sub(reconstruction).square()
        : x.sub(reconstruction).square().reshape([x.shape[0], -1]).mean(1)) as tf.Tensor1D,
  );
});

/** log N(z; μ, diag σ²) per example = −½ Σ_j (log 2π + log σ_j² + (z_j − μ_j)² / σ_j²). */
export function gaussianLogDensity(z: tf.Tensor, mu: tf.Tensor, logvar: tf.Tensor): tf.Tensor1D {
  sameShape(z, mu, 'gaussianLogDensity(z, mu, logvar)');
  sameShape(z, logvar, 'gaussianLogDensity(z, mu, logvar)');
  return tf.tidy(
    () => sumPerExample(logvar.add(LOG_2PI).add(z.sub(mu).square().div(logvar.exp()))).mul(-0.5) as tf.Tensor1D,
  );
}

/** log N(z; 0, I) per example = −½ Σ_j (log 2π + z_j²). */
export function standardNormalLogDensity(z: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => sumPerExample(z.square().add(LOG_2PI)).mul(-0.5) as tf.Tensor1D);
}

export interface ElboTerms {
  /** −log p(x|z), per example (nats): "reconstruct the input". */
  reconstruction: tf.Tensor1D;
  /** KL(q(z|x) ‖ p(z)), per example (nats): "keep the posterior close to the prior". */
  kl: tf.Tensor1D;
  /** −ELBO = reconstruction + β·KL, per example. */
  loss: tf.Tensor1D;
}

/**
 * The negative evidence lower bound, per example, with a single sample z ~ q(z|x):
 *
 *   −ELBO(x) = −E_q[log p(x|z)] + β · KL(q(z|x) ‖ N(0, I))  ≥  −log p(x)   (for β = 1)
 *
 * `logits` are the decoder's Bernoulli logits for that z.
 */
export const negativeElbo = answerKey(
  'negativeElbo',
  function negativeElbo(x: tf.Tensor, logits: tf.Tensor, mu: tf.Tensor, logvar: tf.Tensor, beta = 1): ElboTerms {
    const reconstruction = tf.tidy(() => bernoulliLogLikelihood(x, logits).neg() as tf.Tensor1D);
    const kl = klNormal(mu, logvar);
    const loss = tf.tidy(() => reconstruction.add(kl.mul(beta)) as tf.Tensor1D);
    return { reconstruction, kl, loss };
  },
);

/**
 * The importance-weighted bound (Burda et al. 2015) from log-weights
 * log w_k = log p(x, z_k) − log q(z_k | x), z_k ~ q(z|x), shaped [K, N]:
 *
 *   L_K(x) = log (1/K) Σ_k w_k  ≤  log p(x),   L_1 = ELBO,  L_K ↑ log p(x) as K → ∞
 *
 * Computed with log-sum-exp for stability; returns [N].
 */
export function iwaeBound(logWeights: tf.Tensor2D): tf.Tensor1D {
  if (logWeights.rank !== 2)
    throw new GenlabError(`iwaeBound expects log-weights shaped [K, N], got [${logWeights.shape}].`);
  const k = logWeights.shape[0];
  return tf.tidy(() => tf.logSumExp(logWeights, 0).sub(Math.log(k)) as tf.Tensor1D);
}

/**
 * Bits per dimension from a negative log-likelihood in nats per image:
 * bits/dim = NLL / (D · ln 2), D the number of dimensions (784 for MNIST).
 * (PixelCNN on binarized MNIST: 81.3 nats ≈ 0.150 bits/dim.)
 */
export function bitsPerDim(nllNats: number, dims: number): number {
  if (!(dims > 0)) throw new GenlabError(`bitsPerDim needs a positive number of dimensions, got ${dims}.`);
  return nllNats / (dims * Math.LN2);
}

/**
 * The discriminator's loss in the GAN minimax game, on logits (D(x) = σ(ℓ(x))):
 *
 *   L_D = −E_x[log D(x)] − E_z[log(1 − D(G(z)))] = E[softplus(−ℓ_real)] + E[softplus(ℓ_fake)]
 *
 * i.e. binary cross-entropy with real = 1 and fake = 0, each batch averaged. Using
 * log σ(ℓ) = −softplus(−ℓ) and log(1 − σ(ℓ)) = −softplus(ℓ), it never takes log(0).
 * Returns a scalar.
 */
export const discriminatorLoss = answerKey(
  'discriminatorLoss',
  function discriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
    return tf.tidy(() => tf.softplus(realLogits.neg()).mean().add(tf.softplus(fakeLogits).mean()) as tf.Scalar);
  },
);

/**
 * The generator's loss in the original minimax game: it minimises
 *
 *   L_G = E_z[log(1 − D(G(z)))] = −E[softplus(ℓ_fake)]
 *
 * which saturates: when D confidently rejects the fakes (ℓ_fake ≪ 0, early in
 * training), its gradient vanishes. Returns a scalar.
 */
export const minimaxGeneratorLoss = answerKey(
  'minimaxGeneratorLoss',
  function minimaxGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
    return tf.tidy(() => tf.softplus(fakeLogits).mean().neg() as tf.Scalar);
  },
);

/**
 * The non-saturating generator loss (Goodfellow et al. 2014), used in practice:
 *
 *   L_G = −E_z[log D(G(z))] = E[softplus(−ℓ_fake)]
 *
 * Same fixed point as the minimax loss, but a strong gradient exactly where the
 * generator is losing. Returns a scalar.
 */
export const nonSaturatingGeneratorLoss = answerKey(
  'nonSaturatingGeneratorLoss',
  function nonSaturatingGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
    return tf.tidy(() => tf.softplus(fakeLogits.neg()).mean() as tf.Scalar);
  },
);
