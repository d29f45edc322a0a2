/**
 * The variational autoencoder (Kingma & Welling 2014) for 28×28 binary images.
 *
 * Generative story: z ~ p(z) = N(0, I), x ~ p_θ(x|z) = Bernoulli(σ(decoder(z))).
 * The encoder q_φ(z|x) = N(μ_φ(x), diag σ²_φ(x)) approximates the intractable posterior.
 * Training maximises the ELBO, log p(x) ≥ E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)),
 * with one reparameterized sample per example.
 *
 * Two architectures: 'mlp' (784 → 512 → 256 → 2·latent and back) and 'conv'
 * (two stride-2 convolutions down to 7×7, fractionally-strided convolutions back up).
 * The encoder outputs [μ, log σ²] concatenated; the decoder outputs logits.
 */
import * as tf from '@tensorflow/tfjs';
import { Batch } from '../data/batches';
import { GenlabError } from '../errors';
import {
  bernoulliLogLikelihood,
  ElboTerms,
  gaussianLogDensity,
  iwaeBound,
  negativeElbo,
  reparameterize,
  standardNormalLogDensity,
} from '../losses';
import { rngFor } from '../random';
import { History, StepResult } from '../train';
import {
  checkBinary,
  checkImageBatch,
  encoderDecoderParts,
  GenerativeFamily,
  IMAGE_PIXELS,
  IMAGE_SHAPE,
  imageBatchShape,
  imagesOf,
  initializers,
  Parts,
  positiveInteger,
  runTrainingLoop,
  splitSeed,
  sumOverBatches,
  TrainOptions,
  unkept,
} from './kit';

export type VaeArchitecture = 'mlp' | 'conv';

export interface VaeConfig {
  /** Dimensions of z (default 16; use 2 to draw the latent space). */
  latentDim?: number;
  architecture?: VaeArchitecture;
  /** Hidden sizes of the MLP encoder (reversed for the decoder); default [512, 256]. */
  hiddenUnits?: number[];
  /** Filters of the conv encoder's two stride-2 layers (reversed for the decoder); default [32, 64]. */
  filters?: [number, number];
  /** Seed for the weight initialisers. */
  seed?: number;
}

export interface Vae {
  /** x [N, 28, 28, 1] → [μ, log σ²] concatenated, [N, 2·latentDim]. */
  encoder: tf.LayersModel;
  /** z [N, latentDim] → Bernoulli logits [N, 28, 28, 1]. */
  decoder: tf.LayersModel;
  latentDim: number;
  architecture: VaeArchitecture;
}

// Every VAE layer starts Glorot-uniform, its ReLU layers included (no He scaling): lab 3's recipe was
// tuned on these networks, and `initializers(rng)` keeps their weights what they were.

/** The encoder network q_φ(z|x): outputs μ and log σ² side by side. */
export function createEncoder(config: VaeConfig = {}): tf.LayersModel {
  const { latentDim, architecture, hiddenUnits, filters, rng } = resolve(config);
  const input = tf.input({ shape: [...IMAGE_SHAPE] });
  let h: tf.SymbolicTensor;
  if (architecture === 'mlp') {
    h = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
    for (const units of hiddenUnits)
      h = tf.layers.dense({ units, activation: 'relu', ...initializers(rng) }).apply(h) as tf.SymbolicTensor;
  } else {
    h = input;
    for (const f of filters)
      h = tf.layers
        .conv2d({ filters: f, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...initializers(rng) })
        .apply(h) as tf.SymbolicTensor;
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 128, activation: 'relu', ...initializers(rng) }).apply(h) as tf.SymbolicTensor;
  }
  const out = tf.layers
    .dense({ units: 2 * latentDim, ...initializers(rng), name: 'mu_logvar' })
    .apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: `${architecture}_encoder` });
}

/** The decoder network p_θ(x|z): outputs Bernoulli logits for each pixel. */
export function createDecoder(config: VaeConfig = {}): tf.LayersModel {
  const { latentDim, architecture, hiddenUnits, filters, rng } = resolve(config);
  const input = tf.input({ shape: [latentDim] });
  let h: tf.SymbolicTensor = input;
  if (architecture === 'mlp') {
    for (const units of [...hiddenUnits].reverse())
      h = tf.layers.dense({ units, activation: 'relu', ...initializers(rng) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: IMAGE_PIXELS, ...initializers(rng) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: [...IMAGE_SHAPE] }).apply(h) as tf.SymbolicTensor;
  } else {
    const [f1, f2] = filters;
    h = tf.layers.dense({ units: 128, activation: 'relu', ...initializers(rng) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 7 * 7 * f2, activation: 'relu', ...initializers(rng) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: [7, 7, f2] }).apply(h) as tf.SymbolicTensor;
    for (const f of [f2, f1]) {
      h = tf.layers
        .conv2dTranspose({
          filters: f,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
          ...initializers(rng),
        })
        .apply(h) as tf.SymbolicTensor;
    }
    h = tf.layers
      .conv2d({ filters: 1, kernelSize: 3, padding: 'same', ...initializers(rng) })
      .apply(h) as tf.SymbolicTensor;
  }
  return tf.model({ inputs: input, outputs: h, name: `${architecture}_decoder` });
}

function resolve(config: VaeConfig) {
  const latentDim = config.latentDim ?? 16;
  const architecture = config.architecture ?? 'mlp';
  positiveInteger(latentDim, 'latentDim');
  if (architecture !== 'mlp' && architecture !== 'conv')
    throw new GenlabError(`architecture must be 'mlp' or 'conv', got '${architecture}'.`);
  return {
    latentDim,
    architecture,
    hiddenUnits: config.hiddenUnits ?? [512, 256],
    filters: config.filters ?? ([32, 64] as [number, number]),
    rng: rngFor(config.seed),
  };
}

/** A VAE: encoder and decoder built from the same config (and one seeded generator). */
export function createVae(config: VaeConfig = {}): Vae {
  const [encoderSeed, decoderSeed] = splitSeed(config.seed, 2);
  const encoder = createEncoder({ ...config, seed: encoderSeed });
  const decoder = createDecoder({ ...config, seed: decoderSeed });
  return { encoder, decoder, latentDim: config.latentDim ?? 16, architecture: config.architecture ?? 'mlp' };
}

/** q_φ(z|x): the posterior's mean and log-variance, each [N, latentDim]. */
export function encode(vae: Vae, x: tf.Tensor): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
  checkImageBatch(x, 'encode');
  const out = vae.encoder.apply(x) as tf.Tensor2D;
  const [mu, logvar] = tf.split(out, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  out.dispose();
  return { mu, logvar };
}

/** p_θ(x|z): Bernoulli logits [N, 28, 28, 1]. */
export function decode(vae: Vae, z: tf.Tensor): tf.Tensor4D {
  if (z.rank !== 2 || z.shape[1] !== vae.latentDim)
    throw new GenlabError(`decode expects z shaped [N, ${vae.latentDim}], got [${z.shape}].`);
  return vae.decoder.apply(z) as tf.Tensor4D;
}

/** The ELBO's terms for a batch with noise ε (one sample per example). */
export function elboTerms(vae: Vae, x: tf.Tensor, eps: tf.Tensor, beta = 1): ElboTerms {
  return tf.tidy(() => {
    const { mu, logvar } = encode(vae, x);
    const z = reparameterize(mu, logvar, eps);
    return { ...negativeElbo(x, decode(vae, z), mu, logvar, beta) };
  });
}

/** What a VAE training step needs besides the batch: the seed of its noise ε, and the KL weight β. */
export interface VaeStepOptions {
  seed: number;
  /** The KL term's weight (default 1: the ELBO; a KL warm-up raises it from 0). */
  beta?: number;
}

/**
 * One gradient step on the mean −ELBO of a batch of binary images. Returns the batch means of the
 * loss and its two terms (nats), for `fit`.
 */
export function trainStep(
  vae: Vae,
  optimizer: tf.Optimizer,
  batch: Batch | tf.Tensor,
  options: VaeStepOptions,
): { loss: tf.Scalar; reconstruction: tf.Scalar; kl: tf.Scalar } {
  const x = imagesOf(batch);
  const eps = tf.randomNormal([x.shape[0], vae.latentDim], 0, 1, 'float32', options.seed);
  let reconstruction!: tf.Scalar;
  let kl!: tf.Scalar;
  const loss = optimizer.minimize(() => {
    const terms = elboTerms(vae, x, eps, options.beta ?? 1);
    reconstruction = tf.keep(terms.reconstruction.mean());
    kl = tf.keep(terms.kl.mean());
    return terms.loss.mean() as tf.Scalar;
  }, true)!;
  eps.dispose();
  return { loss, reconstruction: unkept(reconstruction), kl: unkept(kl) };
}

export interface TrainVaeOptions extends TrainOptions {
  /**
   * KL warm-up (Sønderby et al. 2016): β rises linearly from 0 to `beta` over the first
   * min(maxSteps, ⌊maxFraction · steps⌋) steps, so the decoder learns to use z before the KL term
   * pulls q(z|x) onto the prior. Default: none.
   */
  klWarmup?: { maxSteps: number; maxFraction?: number };
  /** The KL weight after the warm-up (default 1). */
  beta?: number;
  /** The step to run (default this file's `trainStep`): a lab passes one built on the student's functions. */
  trainStep?: (vae: Vae, optimizer: tf.Optimizer, x: tf.Tensor, options: VaeStepOptions) => StepResult;
}

/** The KL weight at step i of `steps`: the warm-up's ramp, then `beta`. */
export function klWeight(
  step: number,
  steps: number,
  options: Pick<TrainVaeOptions, 'klWarmup' | 'beta'> = {},
): number {
  const beta = options.beta ?? 1;
  if (!options.klWarmup) return beta;
  const warmupSteps = Math.min(options.klWarmup.maxSteps, Math.floor(steps * (options.klWarmup.maxFraction ?? 1)));
  return beta * Math.min(1, step / Math.max(1, warmupSteps));
}

/**
 * Trains a VAE with Adam on the mean −ELBO of seeded mini-batches, with an optional cosine learning-rate
 * schedule, KL warm-up and dynamic binarization: every setting of lab 3's recipe (`VAE_RECIPE`).
 */
export async function trainVae(vae: Vae, images: tf.Tensor, options: TrainVaeOptions): Promise<History> {
  checkImageBatch(images, 'trainVae');
  // The Bernoulli likelihood needs 0/1 pixels: binary data, or a fresh binarization of each batch.
  if (!options.dynamicBinarization) checkBinary(images, 'trainVae (or pass dynamicBinarization: true)');
  const step = options.trainStep ?? trainStep;
  return runTrainingLoop({
    images,
    options,
    defaults: { batchSize: 128, learningRate: 1e-3, label: `${vae.architecture} VAE (z: ${vae.latentDim})` },
    step: (round) =>
      step(vae, round.optimizers.model, round.batch().x, {
        seed: round.noiseSeed(),
        beta: klWeight(round.index, options.steps, options),
      }),
  });
}

/** n images sampled from the prior: z ~ N(0, I), shown as Bernoulli means σ(logits). */
export function sample(vae: Vae, n: number, seed: number): tf.Tensor4D {
  return tf.tidy(
    () => tf.sigmoid(decode(vae, tf.randomNormal([n, vae.latentDim], 0, 1, 'float32', seed))) as tf.Tensor4D,
  );
}

/** Reconstructions: decode the posterior mean, σ(decoder(μ(x))). */
export function reconstruct(vae: Vae, x: tf.Tensor): tf.Tensor4D {
  return tf.tidy(() => tf.sigmoid(decode(vae, encode(vae, x).mu)) as tf.Tensor4D);
}

/** Decodes `steps` points on the straight line between the posterior means of xa and xb (each [1, 28, 28, 1]). */
export function interpolate(vae: Vae, xa: tf.Tensor, xb: tf.Tensor, steps = 10): tf.Tensor4D {
  return tf.tidy(() => {
    const a = encode(vae, xa).mu;
    const b = encode(vae, xb).mu;
    const t = tf.linspace(0, 1, steps).reshape([steps, 1]);
    return tf.sigmoid(decode(vae, a.mul(tf.scalar(1).sub(t)).add(b.mul(t)))) as tf.Tensor4D;
  });
}

/**
 * For a 2-D latent: decodes an n × n grid over z1 ∈ [−range, range] (left to right)
 * and z2 ∈ [range, −range] (top to bottom) — the lecture's "vary z1, vary z2" figure.
 */
export function latentGrid(vae: Vae, n = 15, range = 2.5): tf.Tensor4D {
  if (vae.latentDim !== 2)
    throw new GenlabError(
      `latentGrid draws a 2-D latent space, but this VAE has latentDim ${vae.latentDim}: create one with createVae({ latentDim: 2 }).`,
    );
  return tf.tidy(() => {
    const values = tf.linspace(-range, range, n).dataSync();
    const z: number[] = [];
    for (let row = 0; row < n; row++) for (let col = 0; col < n; col++) z.push(values[col], values[n - 1 - row]);
    return tf.sigmoid(decode(vae, tf.tensor2d(z, [n * n, 2]))) as tf.Tensor4D;
  });
}

export interface Evaluation {
  /** Mean −ELBO over the data (nats). */
  negativeElbo: number;
  reconstruction: number;
  kl: number;
}

/** The mean −ELBO and its terms over a dataset, in batches, with seeded noise. */
export function evaluate(vae: Vae, x: tf.Tensor, options: { batchSize?: number; seed?: number } = {}): Evaluation {
  checkImageBatch(x, 'evaluate');
  const rng = rngFor(options.seed ?? 0);
  const [loss, reconstruction, kl] = sumOverBatches(x, options.batchSize ?? 500, (xb) => {
    const t = elboTerms(vae, xb, tf.randomNormal([xb.shape[0], vae.latentDim], 0, 1, 'float32', rng.nextSeed()));
    return [t.loss, t.reconstruction, t.kl];
  });
  const n = x.shape[0];
  return { negativeElbo: loss / n, reconstruction: reconstruction / n, kl: kl / n };
}

/**
 * Log-weights log w_k = log p(x|z_k) + log p(z_k) − log q(z_k|x) for K samples
 * z_k ~ q(z|x), shaped [K, N].
 */
export function logImportanceWeights(vae: Vae, x: tf.Tensor, k: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const { mu, logvar } = encode(vae, x);
    const n = x.shape[0];
    const eps = tf.randomNormal([k, n, vae.latentDim], 0, 1, 'float32', seed);
    const z = mu
      .expandDims(0)
      .add(logvar.mul(0.5).exp().expandDims(0).mul(eps))
      .reshape([k * n, vae.latentDim]);
    const tile = (t: tf.Tensor) =>
      t
        .expandDims(0)
        .tile([k, 1, 1])
        .reshape([k * n, vae.latentDim]);
    const xs = x
      .expandDims(0)
      .tile([k, 1, 1, 1, 1])
      .reshape(imageBatchShape(k * n));
    const logPxGivenZ = bernoulliLogLikelihood(xs, decode(vae, z));
    const logW = logPxGivenZ.add(standardNormalLogDensity(z)).sub(gaussianLogDensity(z, tile(mu), tile(logvar)));
    return logW.reshape([k, n]) as tf.Tensor2D;
  });
}

/**
 * The mean importance-weighted bound L_K (nats) over a dataset: a tighter lower bound
 * on log p(x) than the ELBO (L_1), approaching it as K grows. Reported as −L_K, an
 * upper bound on the negative log-likelihood.
 */
export function iwaeNegativeLogLikelihood(
  vae: Vae,
  x: tf.Tensor,
  k: number,
  options: { batchSize?: number; seed?: number } = {},
): number {
  checkImageBatch(x, 'iwaeNegativeLogLikelihood');
  // Keep K·batch images per pass to a bounded memory footprint.
  const batchSize = options.batchSize ?? Math.max(1, Math.floor(5000 / k));
  const rng = rngFor(options.seed ?? 0);
  const [total] = sumOverBatches(x, batchSize, (xb) => iwaeBound(logImportanceWeights(vae, xb, k, rng.nextSeed())));
  return -total / x.shape[0];
}

/** The VAE as a model family (kit.ts's contract, checked by the compiler). */
export const family = {
  name: 'vae',
  create: createVae,
  trainStep,
  train: trainVae,
  evaluate,
  sample,
  partNames: encoderDecoderParts.partNames,
  parts: encoderDecoderParts.parts,
  fromParts: (parts: Parts, config: VaeConfig): Vae => {
    const { encoder, decoder, codeSize } = encoderDecoderParts.networks(parts);
    return { encoder, decoder, latentDim: codeSize, architecture: config.architecture ?? 'mlp' };
  },
} satisfies GenerativeFamily<Vae, VaeConfig, tf.Tensor, TrainVaeOptions, Evaluation>;
