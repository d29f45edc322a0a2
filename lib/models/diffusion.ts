/**
 * A denoising diffusion model for 28×28 digits (Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic
 * Models"), sampled by ancestral steps or by DDIM (Song, Meng & Ermon 2021), guided by the digit's label without a
 * classifier (Ho & Salimans 2022).
 *
 * The forward process adds Gaussian noise over T steps, q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t I) with α_t = 1 − β_t,
 * so that in closed form, with ᾱ_t = Π_{s ≤ t} α_s,
 *
 *   q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I),   x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε,  ε ~ N(0, I).
 *
 * A network ε_θ(x_t, t, y) learns to name the noise in x_t: the loss E ‖ε − ε_θ(x_t, t, y)‖² is, up to a weight for
 * each t, the negative ELBO of lab 3 (each step of the reverse chain a Gaussian whose mean the network gives), and
 * each step a denoising autoencoder (lab 2). Generation runs the chain backwards from x_T ~ N(0, I).
 *
 * Indexing: steps are numbered t = 0, …, T − 1 (arrays index them directly); ᾱ_0 = α_0 is the first, smallest
 * amount of noise, and "ᾱ_{−1}" = 1 (no noise at all) is what the last reverse step reaches.
 *
 * The network may predict ε itself or v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 (`config.prediction`, default 'v'; see
 * `DiffusionConfig`); either way `predictNoise` gives ε̂, which is all the samplers need.
 *
 * Images are moved to [−1, 1] for the chain (x = 2·image − 1) and back to [0, 1] by `sample`. Labels: one-hot rows
 * of `classes + 1` columns, the last one the "no label" token that classifier-free guidance trains with (a
 * fraction `labelDropout` of each batch) and samples with.
 */
import * as tf from '@tensorflow/tfjs';
import { answerKey } from '../answer_keys';
import { Batch } from '../data/batches';
import { GenlabError } from '../errors';
import { ConditionalSampleQuality, judgeConditionalSamples } from '../judge';
import { Random, rngFor } from '../random';
import { History, StepResult } from '../train';
import { judging, JudgeOptions } from './gan';
import {
  apply,
  checkImageBatch,
  GenerativeFamily,
  imageBatchShape,
  imagesOf,
  initializers,
  Parts,
  positiveInteger,
  runTrainingLoop,
  sumOverBatches,
  TrainOptions,
  unkept,
  WeightAverage,
} from './kit';

/* ---------- the noise schedule and the chain's arithmetic ---------- */

/** The forward process's schedule: β_t, α_t = 1 − β_t and ᾱ_t = Π_{s ≤ t} α_s for t = 0, …, T − 1. */
export interface NoiseSchedule {
  kind: 'linear' | 'cosine';
  /** T, the number of steps. */
  steps: number;
  betas: readonly number[];
  alphas: readonly number[];
  alphaBars: readonly number[];
}

/**
 * The schedule of T steps. 'linear': β_t from 1e-4 to 0.02, each × 1000 / T (DDPM's, rescaled so that Σ β_t, the noise added
 * in all, is that of DDPM's 1,000 steps for any T). 'cosine': ᾱ_t = f(t + 1) / f(0), f(u) = cos²((u / T + 0.008) / 1.008 · π / 2),
 * β clipped at 0.999 (Nichol & Dhariwal 2021): it destroys the image more evenly over t, where the linear schedule
 * leaves its last quarter nearly pure noise.
 */
export function noiseSchedule(steps = 1000, kind: 'linear' | 'cosine' = 'linear'): NoiseSchedule {
  positiveInteger(steps, 'the schedule’s steps');
  if (steps < 2) throw new GenlabError(`A noise schedule needs at least 2 steps, got ${steps}.`);
  let betas: number[];
  if (kind === 'linear') {
    const last = Math.min(0.999, (0.02 * 1000) / steps);
    const first = Math.min(last, (1e-4 * 1000) / steps);
    betas = Array.from({ length: steps }, (_, t) => first + ((last - first) * t) / (steps - 1));
  } else if (kind === 'cosine') {
    const f = (u: number) => Math.cos(((u / steps + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    betas = Array.from({ length: steps }, (_, t) => Math.min(0.999, 1 - f(t + 1) / f(t)));
  } else throw new GenlabError(`The noise schedule is 'linear' or 'cosine', got ${JSON.stringify(kind)}.`);
  const alphas = betas.map((b) => 1 - b);
  const alphaBars: number[] = [];
  alphas.reduce((product, a) => (alphaBars.push(product * a), product * a), 1);
  return Object.freeze({ kind, steps, betas, alphas, alphaBars });
}

/** Throws unless `t` is a step of `schedule` (a whole number in [0, T)); `what` names the caller. */
function checkStep(t: number, schedule: NoiseSchedule, what: string): void {
  if (!Number.isInteger(t) || t < 0 || t >= schedule.steps)
    throw new GenlabError(`${what}: t is a step from 0 to ${schedule.steps - 1}, got ${t}.`);
}

/**
 * `values[t_i]` for each example i, shaped to multiply a batch like `like` ([N, 1, …, 1]): one number per example,
 * broadcast over its pixels (or coordinates).
 */
export function perExample(values: readonly number[], t: readonly number[], like: tf.Tensor): tf.Tensor {
  if (t.length !== like.shape[0])
    throw new GenlabError(`One step per example: ${like.shape[0]} examples but ${t.length} steps t.`);
  return tf.tensor(
    t.map((i) => values[i]),
    [t.length, ...Array<number>(like.rank - 1).fill(1)],
  );
}

/**
 * The closed-form forward process, x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, for each example at its own step t[i]. An answer
 * key (lab 7).
 */
export const qSample = answerKey(
  'qSample',
  function qSample(x0: tf.Tensor, t: readonly number[], noise: tf.Tensor, schedule: NoiseSchedule): tf.Tensor {
    t.forEach((ti) => checkStep(ti, schedule, 'qSample'));
    return tf.tidy(() => {
      const alphaBar = perExample(schedule.alphaBars, t, x0);
      return alphaBar.sqrt().mul(x0).add(tf.scalar(1).sub(alphaBar).sqrt().mul(noise));
    });
  },
);

/** A network's guess of the noise in x_t at steps t: ε̂ = ε_θ(x_t, t), shaped as x_t. */
export type Denoiser = (xt: tf.Tensor, t: readonly number[]) => tf.Tensor;

/** The forward process as a function, x_t from (x_0, t, ε): `noising(schedule)`, or a lab's own `qSample`. */
export type Noising = (x0: tf.Tensor, t: readonly number[], noise: tf.Tensor) => tf.Tensor;

/** `qSample` on `schedule`, as the `Noising` that `epsilonLoss` takes. */
export const noising =
  (schedule: NoiseSchedule): Noising =>
  (x0, t, noise) =>
    qSample(x0, t, noise, schedule);

/**
 * The simplified training loss of DDPM, L = mean over every element of (ε − ε_θ(x_t, t))², x_t = noised(x_0, t, ε):
 * the network is asked for the noise, not the image. The forward process comes in as a function so that the loss
 * is the loss whatever made x_t (a lab's own `qSample` included). An answer key (lab 7).
 */
export const epsilonLoss = answerKey(
  'epsilonLoss',
  function epsilonLoss(
    denoiser: Denoiser,
    x0: tf.Tensor,
    t: readonly number[],
    noise: tf.Tensor,
    noised: Noising,
  ): tf.Scalar {
    return tf.tidy(() => tf.losses.meanSquaredError(noise, denoiser(noised(x0, t, noise), t)) as tf.Scalar);
  },
);

/**
 * One reverse (ancestral) step of DDPM from x_t to x_{t−1}:
 *
 *   x_{t−1} = (x_t − β_t / √(1 − ᾱ_t) · ε̂) / √α_t + σ_t z,   σ_t² = β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t),
 *
 * the variance of the true posterior q(x_{t−1} | x_t, x_0) (DDPM's other choice, σ_t² = β_t, is the largest
 * variance the reverse step can have; β̃_t the smallest). At t = 0 nothing is added: x_{−1} is the image. An answer
 * key (lab 7).
 */
export const ancestralStep = answerKey(
  'ancestralStep',
  function ancestralStep(
    xt: tf.Tensor,
    t: number,
    epsilonHat: tf.Tensor,
    noise: tf.Tensor,
    schedule: NoiseSchedule,
  ): tf.Tensor {
    checkStep(t, schedule, 'ancestralStep');
    const { betas, alphas, alphaBars } = schedule;
    return tf.tidy(() => {
      const mean = xt.sub(epsilonHat.mul(betas[t] / Math.sqrt(1 - alphaBars[t]))).div(Math.sqrt(alphas[t]));
      if (t === 0) return mean;
      const variance = (betas[t] * (1 - alphaBars[t - 1])) / (1 - alphaBars[t]);
      return mean.add(noise.mul(Math.sqrt(variance)));
    });
  },
);

/**
 * One DDIM step from x_t to x_{t'}, t' < t (t' = −1: to the image itself, ᾱ = 1):
 *
 *   x̂_0 = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t,
 *   x_{t'} = √ᾱ_{t'} x̂_0 + √(1 − ᾱ_{t'} − σ²) ε̂ + σ z,   σ = η √((1 − ᾱ_{t'}) / (1 − ᾱ_t)) √(1 − ᾱ_t / ᾱ_{t'}).
 *
 * η = 0 is deterministic (the same x_T always gives the same image, and a few large steps suffice); η = 1 with
 * t' = t − 1 is DDPM's ancestral step with σ² = β̃_t. `noise` is needed only when η > 0. An answer key (lab 7).
 */
export const ddimStep = answerKey(
  'ddimStep',
  function ddimStep(
    xt: tf.Tensor,
    t: number,
    tPrev: number,
    epsilonHat: tf.Tensor,
    schedule: NoiseSchedule,
    eta = 0,
    noise?: tf.Tensor,
  ): tf.Tensor {
    checkStep(t, schedule, 'ddimStep');
    if (!Number.isInteger(tPrev) || tPrev < -1 || tPrev >= t)
      throw new GenlabError(
        `ddimStep: t' is an earlier step than t = ${t} (from −1, the image, to ${t - 1}), got ${tPrev}.`,
      );
    const alphaBar = schedule.alphaBars[t];
    const alphaBarPrev = tPrev < 0 ? 1 : schedule.alphaBars[tPrev];
    const sigma = eta * Math.sqrt((1 - alphaBarPrev) / (1 - alphaBar)) * Math.sqrt(1 - alphaBar / alphaBarPrev);
    if (sigma > 0 && !noise) throw new GenlabError(`ddimStep with η = ${eta} > 0 draws noise: pass it as z.`);
    return tf.tidy(() => {
      const x0 = xt.sub(epsilonHat.mul(Math.sqrt(1 - alphaBar))).div(Math.sqrt(alphaBar));
      const next = x0
        .mul(Math.sqrt(alphaBarPrev))
        .add(epsilonHat.mul(Math.sqrt(Math.max(0, 1 - alphaBarPrev - sigma * sigma))));
      return sigma > 0 ? next.add(noise!.mul(sigma)) : next;
    });
  },
);

/** The DDIM steps of a sampler that takes `count` of the T steps, evenly spaced, from T − 1 down to 0. */
export function samplingSteps(schedule: NoiseSchedule, count: number): number[] {
  positiveInteger(count, 'the sampler’s steps');
  if (count > schedule.steps)
    throw new GenlabError(`A sampler takes at most the schedule's ${schedule.steps} steps, got ${count}.`);
  const steps = Array.from({ length: count }, (_, i) =>
    Math.round(((schedule.steps - 1) * (count - 1 - i)) / Math.max(1, count - 1)),
  );
  return count === 1 ? [schedule.steps - 1] : steps;
}

/* ---------- the network: a small U-Net told the step and the label ---------- */

export interface DiffusionConfig {
  /** Channels at 28 × 28 and at 14 × 14 and 7 × 7 (default [32, 64]). */
  channels?: [number, number];
  /** Width of the step-and-label embedding (default 64). */
  embedding?: number;
  /** T, the forward process's steps (default 1000). */
  timesteps?: number;
  /** The noise schedule (default 'linear'). */
  schedule?: 'linear' | 'cosine';
  /** Labels the model is told (default 10, the digits); one more column is "no label". */
  classes?: number;
  /**
   * What the network predicts (default 'v'): 'epsilon', the noise, trained by `epsilonLoss` (DDPM's simplified
   * loss); or 'v' = √ᾱ_t ε − √(1 − ᾱ_t) x_0, trained by `vLoss`, the same loss with step t weighted by 1 / ᾱ_t. The
   * simplified loss weights the noisiest steps, where a sample's shape and digit are decided, by ᾱ_t ≈ 0: trained
   * for a class period, an ε-model's samples are strokes that ignore their label (the judge reads the asked-for
   * digit in 14 % of them), a v-model's are digits. Either way `predictNoise` gives ε̂, what the samplers take.
   */
  prediction?: 'epsilon' | 'v';
  /** Seed of every initial weight. */
  seed?: number;
}

export interface Diffusion {
  /** [x_t [N, 28, 28, 1], the step's sinusoidal features [N, 32], one-hot label [N, classes + 1]] → ε̂ or v̂. */
  network: tf.LayersModel;
  schedule: NoiseSchedule;
  classes: number;
  config: Required<Omit<DiffusionConfig, 'seed'>>;
}

/** Sinusoidal features of the step (the Transformer's position encoding): the network's input for t. */
export const TIME_FEATURES = 32;

/** [sin(t ω_k), cos(t ω_k)] for ω_k = 10000^(−k / 16), k = 0, …, 15: one row per step. */
export function timeFeatures(t: readonly number[]): tf.Tensor2D {
  const half = TIME_FEATURES / 2;
  const values = new Float32Array(t.length * TIME_FEATURES);
  t.forEach((ti, i) => {
    for (let k = 0; k < half; k++) {
      const angle = ti * Math.pow(10000, -k / half);
      values[i * TIME_FEATURES + k] = Math.sin(angle);
      values[i * TIME_FEATURES + half + k] = Math.cos(angle);
    }
  });
  return tf.tensor2d(values, [t.length, TIME_FEATURES]);
}

/** One-hot rows of `classes + 1` columns; `null` (or `classes`) is the "no label" column. */
export function labelRows(labels: ArrayLike<number | null>, classes: number): tf.Tensor2D {
  const values = new Float32Array(labels.length * (classes + 1));
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] ?? classes;
    if (!Number.isInteger(y) || y < 0 || y > classes)
      throw new GenlabError(
        `diffusion: label ${i} is ${labels[i]}; labels are whole numbers from 0 to ${classes - 1}, or null for none.`,
      );
    values[i * (classes + 1) + y] = 1;
  }
  return tf.tensor2d(values, [labels.length, classes + 1]);
}

function resolved(config: DiffusionConfig): Required<Omit<DiffusionConfig, 'seed'>> {
  const channels = config.channels ?? ([32, 64] as [number, number]);
  if (!Array.isArray(channels) || channels.length !== 2)
    throw new GenlabError(`diffusion: channels is [at 28 × 28, below], two numbers, got ${JSON.stringify(channels)}.`);
  channels.forEach((c, i) => positiveInteger(c, `channels[${i}]`));
  const schedule = config.schedule ?? 'linear';
  if (schedule !== 'linear' && schedule !== 'cosine')
    throw new GenlabError(`diffusion: schedule is 'linear' or 'cosine', got ${JSON.stringify(schedule)}.`);
  const prediction = config.prediction ?? 'v';
  if (prediction !== 'epsilon' && prediction !== 'v')
    throw new GenlabError(`diffusion: prediction is 'epsilon' or 'v', got ${JSON.stringify(prediction)}.`);
  return {
    channels: [channels[0], channels[1]],
    embedding: positiveInteger(config.embedding ?? 64, 'embedding'),
    timesteps: positiveInteger(config.timesteps ?? 1000, 'timesteps'),
    schedule,
    classes: positiveInteger(config.classes ?? 10, 'classes'),
    prediction,
  };
}

/**
 * The U-Net: 28 → 14 → 7 → 14 → 28 with skip connections, each level a residual block
 * h + conv(relu(conv(relu(h)) + W e)) told the embedding e of the step and the label (added to every pixel's
 * channels). Average pooling down, nearest-neighbour up; no normalisation layer (tfjs-layers' are slow and a batch
 * statistic mixes noise levels); the output convolution starts at zero, so the prediction (ε̂ or v̂) starts at 0.
 */
function createNetwork(config: Required<Omit<DiffusionConfig, 'seed'>>, rng: Random): tf.LayersModel {
  const [c1, c2] = config.channels;
  const x = tf.input({ shape: [28, 28, 1], name: 'x_t' });
  const time = tf.input({ shape: [TIME_FEATURES], name: 'step' });
  const label = tf.input({ shape: [config.classes + 1], name: 'label' });
  const dense = (units: number, activation?: 'relu') =>
    tf.layers.dense({ units, activation, ...initializers(rng, activation) });
  const conv = (filters: number, kernelSize = 3) =>
    tf.layers.conv2d({ filters, kernelSize, padding: 'same', ...initializers(rng, 'relu') });
  const relu = (h: tf.SymbolicTensor) => apply(tf.layers.activation({ activation: 'relu' }), h);
  let e = apply(tf.layers.concatenate(), [
    apply(dense(config.embedding, 'relu'), time),
    apply(dense(config.embedding), label),
  ]);
  e = apply(dense(config.embedding, 'relu'), e);
  e = apply(dense(config.embedding, 'relu'), e);
  const block = (h: tf.SymbolicTensor, filters: number) => {
    let r = apply(conv(filters), relu(h));
    r = apply(tf.layers.add(), [
      r,
      apply(tf.layers.reshape({ targetShape: [1, 1, filters] }), apply(dense(filters), e)),
    ]);
    r = apply(conv(filters), relu(r));
    const skip = h.shape[3] === filters ? h : apply(conv(filters, 1), h);
    return apply(tf.layers.add(), [skip, r]);
  };
  const down = (h: tf.SymbolicTensor) => apply(tf.layers.averagePooling2d({ poolSize: 2 }), h);
  const up = (h: tf.SymbolicTensor) => apply(tf.layers.upSampling2d({ size: [2, 2] }), h);
  const join = (a: tf.SymbolicTensor, b: tf.SymbolicTensor) => apply(tf.layers.concatenate(), [a, b]);
  const d1 = block(apply(conv(c1), x), c1); // 28 × 28
  const d2 = block(down(d1), c2); // 14 × 14
  const middle = block(block(down(d2), c2), c2); // 7 × 7
  const u2 = block(join(up(middle), d2), c2);
  const u1 = block(join(up(u2), d1), c1);
  const out = apply(
    tf.layers.conv2d({
      filters: 1,
      kernelSize: 3,
      padding: 'same',
      kernelInitializer: 'zeros',
      biasInitializer: 'zeros',
    }),
    relu(u1),
  );
  return tf.model({ inputs: [x, time, label], outputs: out, name: 'diffusion_unet' });
}

/** A new diffusion model; `config.seed` fixes every initial weight. */
export function createDiffusion(config: DiffusionConfig = {}): Diffusion {
  const full = resolved(config);
  return {
    network: createNetwork(full, rngFor(config.seed)),
    schedule: noiseSchedule(full.timesteps, full.schedule),
    classes: full.classes,
    config: full,
  };
}

/** The model again from its saved network and the config it was made with. */
export function diffusionFromNetwork(network: tf.LayersModel, config: DiffusionConfig = {}): Diffusion {
  const classes = (network.inputs[2]?.shape[1] as number) - 1;
  const full = resolved({ ...config, classes });
  return { network, schedule: noiseSchedule(full.timesteps, full.schedule), classes, config: full };
}

/** What the U-Net itself outputs for x_t at steps t with `labels`: ε̂ or v̂, as `config.prediction` says. */
function networkOutput(
  model: Diffusion,
  xt: tf.Tensor,
  t: readonly number[],
  labels: ArrayLike<number | null>,
): tf.Tensor {
  return model.network.apply([xt, timeFeatures(t), labelRows(labels, model.classes)]) as tf.Tensor;
}

/**
 * The v-prediction loss (Salimans & Ho 2022): the mean of (v − v̂)², v = √ᾱ_t ε − √(1 − ᾱ_t) x_0. Since
 * ε̂ − ε = √ᾱ_t (v̂ − v), it is the ε-loss with step t weighted by 1 / ᾱ_t.
 */
export function vLoss(
  model: Diffusion,
  x0: tf.Tensor,
  t: readonly number[],
  noise: tf.Tensor,
  labels: ArrayLike<number | null>,
): tf.Scalar {
  return tf.tidy(() => {
    const alphaBar = perExample(model.schedule.alphaBars, t, x0);
    const v = alphaBar.sqrt().mul(noise).sub(tf.scalar(1).sub(alphaBar).sqrt().mul(x0));
    const xt = qSample(x0, t, noise, model.schedule);
    return networkOutput(model, xt, t, labels).sub(v).square().mean() as tf.Scalar;
  });
}

/**
 * ε̂ = ε_θ(x_t, t, y), `labels` one per example (null: no label): the network's output itself, or, for a model that
 * predicts v, ε̂ = √(1 − ᾱ_t) x_t + √ᾱ_t v̂.
 */
export function predictNoise(
  model: Diffusion,
  xt: tf.Tensor,
  t: readonly number[],
  labels: ArrayLike<number | null>,
): tf.Tensor {
  return tf.tidy(() => {
    const out = networkOutput(model, xt, t, labels);
    if (model.config.prediction === 'epsilon') return out;
    // ε = √(1 − ᾱ_t) x_t + √ᾱ_t v, for v = √ᾱ_t ε − √(1 − ᾱ_t) x_0.
    const alphaBar = perExample(model.schedule.alphaBars, t, xt);
    return tf.scalar(1).sub(alphaBar).sqrt().mul(xt).add(alphaBar.sqrt().mul(out));
  });
}

/** The network as a `Denoiser` for labels `labels` (what `epsilonLoss` and the samplers call). */
export const denoiserFor =
  (model: Diffusion, labels: ArrayLike<number | null>): Denoiser =>
  (xt, t) =>
    predictNoise(model, xt, t, labels);

/**
 * Classifier-free guidance: ε̂ = ε_∅ + w (ε_y − ε_∅), one pass of the network over both halves. w = 1 is the
 * conditional model, w = 0 the unconditional one, w > 1 pushes each sample further towards what makes it a y.
 */
export function guidedNoise(
  model: Diffusion,
  xt: tf.Tensor,
  t: number,
  labels: ArrayLike<number>,
  guidance: number,
): tf.Tensor {
  const n = xt.shape[0];
  return tf.tidy(() => {
    if (guidance === 1) return predictNoise(model, xt, Array(n).fill(t), labels);
    const both = predictNoise(model, tf.concat([xt, xt]), Array(2 * n).fill(t), [
      ...Array.from(labels),
      ...Array<null>(n).fill(null),
    ]);
    const [conditional, unconditional] = tf.split(both, 2);
    return unconditional.add(conditional.sub(unconditional).mul(guidance));
  });
}

/* ---------- the contract's verbs ---------- */

/** Images in [0, 1] to the chain's range [−1, 1], and back (clipped). */
export const toChainRange = (images: tf.Tensor) => tf.tidy(() => images.mul(2).sub(1));
export const fromChainRange = (x: tf.Tensor) => tf.tidy(() => x.add(1).div(2).clipByValue(0, 1));

export interface DiffusionStepOptions {
  /** Seed of the step's draws: the steps t, the noise ε and which labels are dropped. */
  seed: number;
  /** The fraction of the batch trained without its label (default 0.1): what guidance samples with. */
  labelDropout?: number;
}

/** The batch's t, each a uniform draw from 0 … T − 1, and its labels with a fraction dropped (null), from `rng`. */
function drawStepsAndLabels(
  rng: Random,
  n: number,
  steps: number,
  labels: ArrayLike<number> | undefined,
  dropout: number,
): { t: number[]; labels: (number | null)[] } {
  const t = Array.from({ length: n }, () => rng.int(steps));
  const kept = Array.from({ length: n }, (_, i) => (labels && rng.next() >= dropout ? labels[i] : null));
  return { t, labels: kept };
}

/**
 * One gradient step on a batch (images in [0, 1], labels `y` if the batch has them; without, the model learns
 * without labels), at steps t drawn uniformly: `epsilonLoss` for a model that predicts ε, `vLoss` for one that
 * predicts v.
 */
export function trainStep(
  model: Diffusion,
  optimizer: tf.Optimizer,
  batch: Batch | tf.Tensor,
  options: DiffusionStepOptions,
): StepResult {
  const images = imagesOf(batch);
  const y = batch instanceof tf.Tensor ? undefined : batch.y;
  checkImageBatch(images, 'diffusion.trainStep');
  const dropout = options.labelDropout ?? 0.1;
  if (!(dropout >= 0 && dropout <= 1)) throw new GenlabError(`labelDropout is a fraction in [0, 1], got ${dropout}.`);
  const n = images.shape[0];
  const drawn = drawStepsAndLabels(
    new Random(options.seed),
    n,
    model.schedule.steps,
    y ? (y.dataSync() as Int32Array) : undefined,
    dropout,
  );
  const x0 = toChainRange(images);
  const noise = tf.randomNormal(x0.shape, 0, 1, 'float32', options.seed);
  const loss = optimizer.minimize(
    () =>
      model.config.prediction === 'epsilon'
        ? epsilonLoss(denoiserFor(model, drawn.labels), x0, drawn.t, noise, noising(model.schedule))
        : vLoss(model, x0, drawn.t, noise, drawn.labels),
    true,
    model.network.trainableWeights.map((w) => w.read() as tf.Variable),
  )!;
  tf.dispose([x0, noise]);
  return { loss: unkept(loss) };
}

export interface TrainDiffusionOptions extends TrainOptions {
  /** The fraction of each batch trained without its label (default 0.1). */
  labelDropout?: number;
  /**
   * Keep an exponential moving average of the network's weights in `into` (`createWeightAverage(model.network)`),
   * w̄ ← β w̄ + (1 − β) w after every step: sample from `diffusionFromNetwork(into.model, config)`. Diffusion models
   * are usually sampled from such an average (DDPM's decay: 0.9999), which smooths the last steps' noise.
   */
  average?: { into: WeightAverage; decay: number };
}

/**
 * Trains the model on images [N, 28, 28, 1] in [0, 1], or on { images, labels } (a split of `loadMnist()`) to learn
 * the digits' labels too, for guidance: Adam, the kit's loop, t and ε drawn afresh each step.
 */
export function trainDiffusion(
  model: Diffusion,
  data: tf.Tensor | { images: tf.Tensor; labels?: tf.Tensor },
  options: TrainDiffusionOptions,
): Promise<History> {
  const images = data instanceof tf.Tensor ? data : data?.images;
  const labels = data instanceof tf.Tensor ? undefined : data?.labels;
  if (!images)
    throw new GenlabError('trainDiffusion takes images [N, 28, 28, 1] or { images, labels } (a split of loadMnist()).');
  checkImageBatch(images, 'trainDiffusion');
  if (labels && (labels.rank !== 1 || labels.shape[0] !== images.shape[0]))
    throw new GenlabError(
      `trainDiffusion: labels must be one digit per image, shape [${images.shape[0]}], got [${labels.shape}].`,
    );
  return runTrainingLoop({
    images,
    labels,
    options,
    defaults: { batchSize: 64, learningRate: 1e-3, label: 'diffusion' },
    average: options.average && { of: model.network, ...options.average },
    step: (round) =>
      trainStep(model, round.optimizers.model, round.batch(), {
        seed: round.noiseSeed(),
        labelDropout: options.labelDropout,
      }),
  });
}

export interface SampleOptions {
  /** The digit of each image (default 0, 1, …, 9, 0, …); null draws without a label (guidance then does nothing). */
  labels?: ArrayLike<number | null>;
  /** Classifier-free guidance's w (default 1: the conditional model as trained). */
  guidance?: number;
  /** Sampler steps: DDIM over this many of the T steps (default 50); 'ancestral' runs all T steps of DDPM. */
  steps?: number | 'ancestral';
  /** DDIM's η (default 0, deterministic). */
  eta?: number;
  /** Clip each step's x̂_0 to [−1, 1] and take ε̂ from it again (default true): keeps few-step samples in range. */
  clip?: boolean;
  /** Called after each sampler step with x_t, for a live display (the tensor is freed after the call). */
  onStep?: (index: number, of: number, xt: tf.Tensor) => void | Promise<void>;
}

/** ε̂ made consistent with an x̂_0 clipped to [−1, 1]: ε̂' = (x_t − √ᾱ_t clip(x̂_0)) / √(1 − ᾱ_t). */
function clippedNoise(xt: tf.Tensor, epsilonHat: tf.Tensor, alphaBar: number): tf.Tensor {
  return tf.tidy(() => {
    const x0 = xt
      .sub(epsilonHat.mul(Math.sqrt(1 - alphaBar)))
      .div(Math.sqrt(alphaBar))
      .clipByValue(-1, 1);
    return xt.sub(x0.mul(Math.sqrt(alphaBar))).div(Math.sqrt(1 - alphaBar));
  });
}

/** A reverse chain's plan: the steps it visits, the labels, and how each step is taken. */
interface Chain {
  steps: number[];
  labels: ArrayLike<number | null>;
  guidance: number;
  eta: number;
  ancestral: boolean;
  clip: boolean;
  rng: Random;
}

function chainFor(model: Diffusion, n: number, seed: number, options: SampleOptions, from?: number): Chain {
  const labels = options.labels ?? Array.from({ length: n }, (_, i) => i % model.classes);
  if (labels.length !== n)
    throw new GenlabError(`diffusion: ${n} images but ${labels.length} labels; give one label per image.`);
  const guidance = options.guidance ?? 1;
  if (!Number.isFinite(guidance) || guidance < 0) throw new GenlabError(`guidance is a number ≥ 0, got ${guidance}.`);
  const eta = options.eta ?? 0;
  if (!(eta >= 0 && eta <= 1)) throw new GenlabError(`DDIM's η is in [0, 1], got ${eta}.`);
  const { schedule } = model;
  const start = from ?? schedule.steps - 1;
  checkStep(start, schedule, 'diffusion');
  const ancestral = options.steps === 'ancestral';
  if (!ancestral && options.steps !== undefined && typeof options.steps !== 'number')
    throw new GenlabError(`steps is a number of DDIM steps or 'ancestral', got ${JSON.stringify(options.steps)}.`);
  const steps = ancestral
    ? Array.from({ length: start + 1 }, (_, i) => start - i)
    : samplingSteps({ ...schedule, steps: start + 1 }, Math.min(start + 1, (options.steps as number) ?? 50));
  return { steps, labels, guidance, eta, ancestral, clip: options.clip ?? true, rng: new Random(seed) };
}

/**
 * Images the network sees at once while sampling (twice as many with guidance). A whole request at once would keep
 * every layer's activations of all of it: 10,000 guided samples hold 2 GB in each 28 × 28 layer, past wasm's memory.
 */
const SAMPLING_CHUNK = 250;

/** ε̂ at step t for every image of x, guided as the chain asks, the network run on SAMPLING_CHUNK images at a time. */
function chainNoise(model: Diffusion, chain: Chain, x: tf.Tensor, t: number): tf.Tensor {
  const n = x.shape[0];
  const allLabels = Array.from(chain.labels);
  const unlabelled = allLabels.some((y) => y === null);
  const chunks: tf.Tensor[] = [];
  for (let start = 0; start < n; start += SAMPLING_CHUNK) {
    const size = Math.min(SAMPLING_CHUNK, n - start);
    const labels = allLabels.slice(start, start + size);
    chunks.push(
      tf.tidy(() => {
        const xs = size === n ? x : x.slice(start, size);
        return unlabelled || chain.guidance === 1
          ? predictNoise(model, xs, Array(size).fill(t), labels)
          : guidedNoise(model, xs, t, labels as number[], chain.guidance);
      }),
    );
  }
  if (chunks.length === 1) return chunks[0];
  const eps = tf.concat(chunks);
  tf.dispose(chunks);
  return eps;
}

/** The chain's i-th step from x (at step `chain.steps[i]`): DDIM's or DDPM's, ε̂ guided and clipped as asked. */
function reverseStep(model: Diffusion, chain: Chain, x: tf.Tensor, i: number): tf.Tensor {
  const { schedule } = model;
  const t = chain.steps[i];
  return tf.tidy(() => {
    let eps = chainNoise(model, chain, x, t);
    if (chain.clip) eps = clippedNoise(x, eps, schedule.alphaBars[t]);
    const z =
      chain.ancestral || chain.eta > 0 ? tf.randomNormal(x.shape, 0, 1, 'float32', chain.rng.nextSeed()) : undefined;
    return chain.ancestral
      ? ancestralStep(x, t, eps, z!, schedule)
      : ddimStep(x, t, i + 1 < chain.steps.length ? chain.steps[i + 1] : -1, eps, schedule, chain.eta, z);
  });
}

/**
 * The reverse chain from `xt` (in the chain's range [−1, 1]) at step `from` (default T − 1, pure noise) down to an
 * image in [0, 1], at once (no live display): with `from` < T − 1 it denoises a partly noised image (what
 * `qSample` made), the model finishing what the noise hid.
 */
export function denoise(
  model: Diffusion,
  xt: tf.Tensor,
  options: SampleOptions & { from?: number; seed?: number } = {},
): tf.Tensor4D {
  checkImageBatch(xt, 'diffusion.denoise');
  const chain = chainFor(model, xt.shape[0], options.seed ?? 0, options, options.from);
  let x = xt.clone();
  for (let i = 0; i < chain.steps.length; i++) {
    const next = reverseStep(model, chain, x, i);
    x.dispose();
    x = next;
  }
  const images = fromChainRange(x) as tf.Tensor4D;
  x.dispose();
  return images;
}

/**
 * n images [n, 28, 28, 1] in [0, 1] from x_T ~ N(0, I) drawn from `seed`: DDIM over `options.steps` steps (η = 0
 * unless given), or DDPM's ancestral chain. Resolves after the last step; `onStep` sees every x_t on the way, and
 * between steps the kernel is free to update displays.
 */
export async function sample(
  model: Diffusion,
  n: number,
  seed: number,
  options: SampleOptions = {},
): Promise<tf.Tensor4D> {
  positiveInteger(n, 'n');
  const chain = chainFor(model, n, seed, options);
  let x: tf.Tensor = tf.randomNormal(imageBatchShape(n), 0, 1, 'float32', chain.rng.nextSeed());
  for (let i = 0; i < chain.steps.length; i++) {
    const next = reverseStep(model, chain, x, i);
    x.dispose();
    x = next;
    if (options.onStep) await options.onStep(i, chain.steps.length, x);
    else if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
  }
  const images = fromChainRange(x) as tf.Tensor4D;
  x.dispose();
  return images;
}

export interface DiffusionEvaluation {
  /** The ε-loss over the images, t and ε drawn from the seed: mean squared error per pixel. */
  loss: number;
}

/**
 * The ε-loss over a whole set of images (labels given if `labels`), in batches, t and ε drawn from `seed`: the
 * training objective on held-out digits.
 */
export function evaluate(
  model: Diffusion,
  data: tf.Tensor | { images: tf.Tensor; labels?: tf.Tensor },
  options: { batchSize?: number; seed?: number } = {},
): DiffusionEvaluation {
  const images = data instanceof tf.Tensor ? data : data.images;
  const labels = data instanceof tf.Tensor ? undefined : (data.labels?.dataSync() as Int32Array | undefined);
  checkImageBatch(images, 'diffusion.evaluate');
  const seed = options.seed ?? 0;
  const batchSize = options.batchSize ?? 100;
  const [total] = sumOverBatches(images, batchSize, (b, i) => {
    const n = b.shape[0];
    const drawn = drawStepsAndLabels(
      new Random(seed + i),
      n,
      model.schedule.steps,
      labels?.subarray(i * batchSize, i * batchSize + n),
      0,
    );
    const noise = tf.randomNormal(b.shape, 0, 1, 'float32', seed + i);
    // The loss is a mean per pixel over the batch: times n, the batches add up to a sum over images.
    return epsilonLoss(denoiserFor(model, drawn.labels), toChainRange(b), drawn.t, noise, noising(model.schedule)).mul(
      n,
    );
  });
  return { loss: total / images.shape[0] };
}

/**
 * The judge's measures (lib/judge.ts) of `options.samples` guided samples, ten of each digit in turn, against real
 * `reference` images: how many digits, how confident the judge is, the Fréchet distance, and how often it reads
 * the digit asked for.
 */
export async function judge(
  model: Diffusion,
  reference: tf.Tensor,
  options: JudgeOptions & Omit<SampleOptions, 'labels' | 'onStep'>,
): Promise<ConditionalSampleQuality> {
  const { classifier, samples, seed } = judging(options, 'diffusion.judge');
  const labels = Array.from({ length: samples }, (_, i) => i % model.classes);
  const images = await sample(model, samples, seed, { ...options, labels });
  try {
    return judgeConditionalSamples(classifier, images, labels, reference);
  } finally {
    images.dispose();
  }
}

export const family = {
  name: 'diffusion',
  create: createDiffusion,
  trainStep,
  train: trainDiffusion,
  evaluate,
  sample,
  partNames: ['network'],
  parts: (model: Diffusion) => ({ network: model.network }),
  fromParts: (parts: Parts, config: DiffusionConfig) => diffusionFromNetwork(parts.network, config),
} satisfies GenerativeFamily<
  Diffusion,
  DiffusionConfig,
  tf.Tensor | { images: tf.Tensor; labels?: tf.Tensor },
  TrainDiffusionOptions,
  DiffusionEvaluation
>;
