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
import { checkImageBatch } from '../data/mnist';
import { GenlabError } from '../errors';
import { bernoulliLogLikelihood, ElboTerms, gaussianLogDensity, iwaeBound, negativeElbo, reparameterize, standardNormalLogDensity } from '../losses';
import { Random, rngFor } from '../random';

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

const IMAGE_SHAPE = [28, 28, 1];

function init(rng: Random) {
  return { kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextSeed() }), biasInitializer: 'zeros' as const };
}

/** The encoder network q_φ(z|x): outputs μ and log σ² side by side. */
export function createEncoder(config: VaeConfig = {}): tf.LayersModel {
  const { latentDim, architecture, hiddenUnits, filters, rng } = resolve(config);
  const input = tf.input({ shape: IMAGE_SHAPE });
  let h: tf.SymbolicTensor;
  if (architecture === 'mlp') {
    h = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
    for (const units of hiddenUnits) h = tf.layers.dense({ units, activation: 'relu', ...init(rng) }).apply(h) as tf.SymbolicTensor;
  } else {
    h = input;
    for (const f of filters) h = tf.layers.conv2d({ filters: f, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...init(rng) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 128, activation: 'relu', ...init(rng) }).apply(h) as tf.SymbolicTensor;
  }
  const out = tf.layers.dense({ units: 2 * latentDim, ...init(rng), name: 'mu_logvar' }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: `${architecture}_encoder` });
}

/** The decoder network p_θ(x|z): outputs Bernoulli logits for each pixel. */
export function createDecoder(config: VaeConfig = {}): tf.LayersModel {
  const { latentDim, architecture, hiddenUnits, filters, rng } = resolve(config);
  const input = tf.input({ shape: [latentDim] });
  let h: tf.SymbolicTensor = input;
  if (architecture === 'mlp') {
    for (const units of [...hiddenUnits].reverse()) h = tf.layers.dense({ units, activation: 'relu', ...init(rng) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 784, ...init(rng) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: IMAGE_SHAPE }).apply(h) as tf.SymbolicTensor;
  } else {
    const [f1, f2] = filters;
    h = tf.layers.dense({ units: 128, activation: 'relu', ...init(rng) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 7 * 7 * f2, activation: 'relu', ...init(rng) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: [7, 7, f2] }).apply(h) as tf.SymbolicTensor;
    for (const f of [f2, f1]) {
      h = tf.layers.conv2dTranspose({ filters: f, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...init(rng) }).apply(h) as tf.SymbolicTensor;
    }
    h = tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', ...init(rng) }).apply(h) as tf.SymbolicTensor;
  }
  return tf.model({ inputs: input, outputs: h, name: `${architecture}_decoder` });
}

function resolve(config: VaeConfig) {
  const latentDim = config.latentDim ?? 16;
  const architecture = config.architecture ?? 'mlp';
  if (!Number.isInteger(latentDim) || latentDim < 1) throw new GenlabError(`latentDim must be a whole number ≥ 1, got ${latentDim}.`);
  if (architecture !== 'mlp' && architecture !== 'conv') throw new GenlabError(`architecture must be 'mlp' or 'conv', got '${architecture}'.`);
  return { latentDim, architecture, hiddenUnits: config.hiddenUnits ?? [512, 256], filters: config.filters ?? ([32, 64] as [number, number]), rng: rngFor(config.seed) };
}

/** A VAE: encoder and decoder built from the same config (and one seeded generator). */
export function createVae(config: VaeConfig = {}): Vae {
  const seed = config.seed ?? rngFor(undefined).nextSeed();
  const rng = new Random(seed);
  const encoder = createEncoder({ ...config, seed: rng.nextSeed() });
  const decoder = createDecoder({ ...config, seed: rng.nextSeed() });
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
  if (z.rank !== 2 || z.shape[1] !== vae.latentDim) throw new GenlabError(`decode expects z shaped [N, ${vae.latentDim}], got [${z.shape}].`);
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

/**
 * One gradient step on the mean −ELBO of a batch. Returns the batch means of the
 * loss and its two terms (nats), for `fit`.
 */
export function trainStep(vae: Vae, optimizer: tf.Optimizer, x: tf.Tensor, options: { seed: number; beta?: number }): { loss: tf.Scalar; reconstruction: tf.Scalar; kl: tf.Scalar } {
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
  return { loss, reconstruction, kl };
}

/** n images sampled from the prior: z ~ N(0, I), shown as Bernoulli means σ(logits). */
export function sample(vae: Vae, n: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => tf.sigmoid(decode(vae, tf.randomNormal([n, vae.latentDim], 0, 1, 'float32', seed))) as tf.Tensor4D);
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
  if (vae.latentDim !== 2) throw new GenlabError(`latentGrid draws a 2-D latent space, but this VAE has latentDim ${vae.latentDim}: create one with createVae({ latentDim: 2 }).`);
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
  const batchSize = options.batchSize ?? 500;
  const rng = rngFor(options.seed ?? 0);
  const totals = { negativeElbo: 0, reconstruction: 0, kl: 0 };
  const n = x.shape[0];
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const [loss, rec, kl] = tf.tidy(() => {
      const xb = x.slice([start, 0, 0, 0], [size, 28, 28, 1]);
      const eps = tf.randomNormal([size, vae.latentDim], 0, 1, 'float32', rng.nextSeed());
      const t = elboTerms(vae, xb, eps);
      return [t.loss.sum().dataSync()[0], t.reconstruction.sum().dataSync()[0], t.kl.sum().dataSync()[0]];
    });
    totals.negativeElbo += loss;
    totals.reconstruction += rec;
    totals.kl += kl;
  }
  return { negativeElbo: totals.negativeElbo / n, reconstruction: totals.reconstruction / n, kl: totals.kl / n };
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
    const z = mu.expandDims(0).add(logvar.mul(0.5).exp().expandDims(0).mul(eps)).reshape([k * n, vae.latentDim]);
    const tile = (t: tf.Tensor) => t.expandDims(0).tile([k, 1, 1]).reshape([k * n, vae.latentDim]);
    const xs = x.expandDims(0).tile([k, 1, 1, 1, 1]).reshape([k * n, 28, 28, 1]);
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
export function iwaeNegativeLogLikelihood(vae: Vae, x: tf.Tensor, k: number, options: { batchSize?: number; seed?: number } = {}): number {
  checkImageBatch(x, 'iwaeNegativeLogLikelihood');
  // Keep K·batch images per pass to a bounded memory footprint.
  const batchSize = options.batchSize ?? Math.max(1, Math.floor(5000 / k));
  const rng = rngFor(options.seed ?? 0);
  const n = x.shape[0];
  let total = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    total += tf.tidy(() => iwaeBound(logImportanceWeights(vae, x.slice([start, 0, 0, 0], [size, 28, 28, 1]), k, rng.nextSeed())).sum().dataSync()[0]);
  }
  return -total / n;
}
