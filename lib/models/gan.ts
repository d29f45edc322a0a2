/**
 * Generative adversarial networks (Goodfellow et al. 2014): an implicit generative
 * model. Draw noise z from a simple distribution and map it through a generator,
 * x = G(z); a discriminator D(x) ∈ (0, 1) is trained to tell real images from
 * generated ones, and G to fool it, in the two-player game
 *
 *   min_G max_D  E_x[log D(x)] + E_z[log(1 − D(G(z)))].
 *
 * Networks work on images scaled to [−1, 1] (G ends in tanh); `toGanRange` and
 * `fromGanRange` convert. D outputs a logit ℓ (D = σ(ℓ)); the losses live in
 * ../losses.ts. Two architectures:
 *
 * - 'mlp' (CS231n's sizes): z ∈ U(−1, 1)^96; G 96 → 1024 → 1024 → 784 (ReLU, tanh);
 *   D 784 → 256 → 256 → 1 (LeakyReLU 0.01).
 * - 'dcgan' (Radford et al. 2016, small): G z → 7×7×128 (BN, ReLU) → up-conv 4×4 ×64 stride 2
 *   (BN, ReLU) → up-conv 4×4 ×1 stride 2, tanh; D conv 4×4 ×64 stride 2 (LeakyReLU 0.2) →
 *   conv 4×4 ×128 stride 2 (BN, LeakyReLU 0.2) → dense 1. Fractionally-strided convs
 *   in G, strided convs in D, batch norm, no pooling.
 */
import * as tf from '@tensorflow/tfjs';
import { answerKey } from '../answer_keys';
import { Batch } from '../data/batches';
import { GenlabError } from '../errors';
import { discriminatorLoss, nonSaturatingGeneratorLoss } from '../losses';
import { Random, rngFor } from '../random';
import { History } from '../train';
import { judgeSamples, SampleQuality } from '../judge';
import { dcganDiscriminatorFeatures, dcganGeneratorFrom } from './dcgan_blocks';
import {
  apply,
  checkImageBatch,
  createWeightAverage,
  GenerativeFamily,
  IMAGE_PIXELS,
  IMAGE_SHAPE,
  imagesOf,
  initializers,
  Parts,
  positiveInteger,
  runTrainingLoop,
  splitSeed,
  trainableVariables,
  TrainOptions,
  unkept,
  WeightAverage,
} from './kit';

export type GanArchitecture = 'mlp' | 'dcgan' | 'toy';
export type NoiseDistribution = 'uniform' | 'normal';

export interface GanConfig {
  architecture?: GanArchitecture;
  /** Dimensions of z (default 96). */
  noiseDim?: number;
  /** Filters of the DCGAN's conv layers: [G's up-conv, D's second conv]; default [64, 128]. */
  filters?: [number, number];
  seed?: number;
}

export interface Gan {
  /** z [N, noiseDim] → images [N, 28, 28, 1] in [−1, 1]. */
  generator: tf.LayersModel;
  /** images [N, 28, 28, 1] in [−1, 1] → logits [N, 1]. */
  discriminator: tf.LayersModel;
  noiseDim: number;
  /** z ~ U(−1, 1)^d (the image GANs) or N(0, I) (the 1-D toy). */
  noise: NoiseDistribution;
  architecture: GanArchitecture;
  /**
   * An exponential moving average of the generator's weights, kept by `trainGan({ averageGenerator })`: a copy of
   * G whose weights follow w̄ ← β w̄ + (1 − β) w after every step (`steps` of them so far). `sample` draws from it.
   */
  average?: WeightAverage;
  /**
   * A conditional GAN's number of labels (conditional_gan.ts): G(z, y) and D(x, y) also take the label as a
   * one-hot row [N, classes], and it trains on labelled batches. Absent for an unconditional GAN.
   */
  classes?: number;
}

function resolve(config: GanConfig) {
  const architecture = config.architecture ?? 'mlp';
  const noiseDim = config.noiseDim ?? 96;
  if (architecture !== 'mlp' && architecture !== 'dcgan')
    throw new GenlabError(
      `architecture must be 'mlp' or 'dcgan', got '${architecture}' (the 1-D example is createToyGan()).`,
    );
  positiveInteger(noiseDim, 'noiseDim');
  return {
    architecture,
    noiseDim,
    filters: config.filters ?? ([64, 128] as [number, number]),
    rng: rngFor(config.seed),
  };
}

/** G: z → x. */
export function createGenerator(config: GanConfig = {}): tf.LayersModel {
  const { architecture, noiseDim, filters, rng } = resolve(config);
  const z = tf.input({ shape: [noiseDim] });
  let h: tf.SymbolicTensor;
  if (architecture === 'mlp') {
    h = apply(tf.layers.dense({ units: 1024, activation: 'relu', ...initializers(rng, 'relu') }), z);
    h = apply(tf.layers.dense({ units: 1024, activation: 'relu', ...initializers(rng, 'relu') }), h);
    h = apply(tf.layers.dense({ units: IMAGE_PIXELS, activation: 'tanh', ...initializers(rng) }), h);
    h = apply(tf.layers.reshape({ targetShape: [...IMAGE_SHAPE] }), h);
  } else {
    h = dcganGeneratorFrom(z, filters[0], rng);
  }
  return tf.model({ inputs: z, outputs: h, name: `${architecture}_generator` });
}

/** D: x → logit. */
export const createDiscriminator = answerKey(
  'buildDiscriminator',
  function createDiscriminator(config: GanConfig = {}): tf.LayersModel {
    const { architecture, filters, rng } = resolve(config);
    const x = tf.input({ shape: [...IMAGE_SHAPE] });
    let h: tf.SymbolicTensor;
    if (architecture === 'mlp') {
      h = apply(tf.layers.flatten(), x);
      for (let i = 0; i < 2; i++) {
        h = apply(tf.layers.dense({ units: 256, ...initializers(rng) }), h);
        h = apply(tf.layers.leakyReLU({ alpha: 0.01 }), h);
      }
    } else {
      h = dcganDiscriminatorFeatures(x, filters, rng);
    }
    const logit = apply(tf.layers.dense({ units: 1, ...initializers(rng), name: 'logit' }), h);
    return tf.model({ inputs: x, outputs: logit, name: `${architecture}_discriminator` });
  },
);

/** A generator and a discriminator from one config (and one seeded generator). */
export function createGan(config: GanConfig = {}): Gan {
  const { architecture, noiseDim } = resolve(config);
  const [generatorSeed, discriminatorSeed] = splitSeed(config.seed, 2);
  return {
    generator: createGenerator({ ...config, seed: generatorSeed }),
    discriminator: createDiscriminator({ ...config, seed: discriminatorSeed }),
    noiseDim,
    noise: 'uniform',
    architecture,
  };
}

/**
 * The lecture's 1-D example: G maps z ~ N(0, 1) to a number, through two hidden
 * layers of `hidden` LeakyReLU units; D scores a number with a network of the same
 * shape. Trained on samples of a 1-D density (shape [N, 1]) with `rescale: false`.
 */
export function createToyGan(options: { hidden?: number; seed?: number } = {}): Gan {
  const hidden = options.hidden ?? 32;
  const rng = new Random(options.seed ?? rngFor(undefined).nextSeed());
  const mlp = (name: string) => {
    const input = tf.input({ shape: [1] });
    let h = input;
    for (let i = 0; i < 2; i++)
      h = apply(
        tf.layers.leakyReLU({ alpha: 0.1 }),
        apply(tf.layers.dense({ units: hidden, ...initializers(rng, 'relu') }), h),
      );
    return tf.model({ inputs: input, outputs: apply(tf.layers.dense({ units: 1, ...initializers(rng) }), h), name });
  };
  return {
    generator: mlp('toy_generator'),
    discriminator: mlp('toy_discriminator'),
    noiseDim: 1,
    noise: 'normal',
    architecture: 'toy',
  };
}

/** Pixel intensities [0, 1] → the networks' range [−1, 1]: 2x − 1. */
export function toGanRange(images: tf.Tensor): tf.Tensor {
  return tf.tidy(() => images.mul(2).sub(1));
}

/** The networks' range [−1, 1] → intensities [0, 1]: (x + 1) / 2. */
export function fromGanRange(images: tf.Tensor): tf.Tensor {
  return tf.tidy(() => images.add(1).div(2));
}

/** n noise vectors [n, noiseDim], z ~ U(−1, 1)^d (default) or N(0, I), seeded. */
export function sampleNoise(
  n: number,
  noiseDim: number,
  seed: number,
  distribution: NoiseDistribution = 'uniform',
): tf.Tensor2D {
  return (
    distribution === 'normal'
      ? tf.randomNormal([n, noiseDim], 0, 1, 'float32', seed)
      : tf.randomUniform([n, noiseDim], -1, 1, 'float32', seed)
  ) as tf.Tensor2D;
}

/** Noise for this GAN's generator. */
export function noiseFor(gan: Gan, n: number, seed: number): tf.Tensor2D {
  return sampleNoise(n, gan.noiseDim, seed, gan.noise);
}

/**
 * n generated images in [0, 1] (inference mode: batch norm uses its moving statistics), from the averaged
 * generator where training kept one (`{ averaged: false }` asks for the generator as trained).
 */
export function sample(gan: Gan, n: number, seed: number, options: { averaged?: boolean } = {}): tf.Tensor4D {
  if (gan.classes !== undefined)
    throw new GenlabError(
      'gan.sample draws from an unconditional GAN; a conditional one is asked which digits: conditionalGan.sample(cgan, n, seed, { labels }).',
    );
  return tf.tidy(() => fromGanRange(applyGenerator(gan, noiseFor(gan, n, seed), undefined, options)) as tf.Tensor4D);
}

/**
 * G's images (in [−1, 1], inference mode) for noise `z` and, for a conditional GAN, one-hot labels: from the
 * weight average where training kept one, unless `{ averaged: false }`.
 */
export function applyGenerator(
  gan: Gan,
  z: tf.Tensor,
  labels?: tf.Tensor,
  options: { averaged?: boolean } = {},
): tf.Tensor {
  const generator = options.averaged === false ? gan.generator : (gan.average?.model ?? gan.generator);
  return generator.predict(labels ? [z, labels] : z) as tf.Tensor;
}

/** The name lab 5 uses for `sample`: n generated images in [0, 1]. */
export const generate = sample;

/** Digits (an array or an int tensor [N]) → one-hot rows [N, classes]; a digit outside 0 … classes − 1 is an error. */
export function oneHot(labels: ArrayLike<number> | tf.Tensor, classes: number): tf.Tensor2D {
  const values = labels instanceof tf.Tensor ? labels.dataSync() : labels;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= classes)
      throw new GenlabError(
        `conditionalGan: label ${i} is ${v}; labels are whole numbers from 0 to ${classes - 1} (one per class).`,
      );
  }
  return tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(values), 'int32'), classes).toFloat() as tf.Tensor2D);
}

/**
 * A batch's labels as the networks take them: one-hot rows for a conditional GAN (whose batches must carry
 * labels), nothing for an unconditional one.
 */
function labelsFor(gan: Gan, batch: Batch | tf.Tensor, what: string): tf.Tensor2D | undefined {
  if (gan.classes === undefined) return undefined;
  const y = batch instanceof tf.Tensor ? undefined : batch.y;
  if (!y)
    throw new GenlabError(
      `${what} needs labelled batches ({ x, y }: batches(images, labels, …)): the conditional GAN learns p(x | y).`,
    );
  return oneHot(y, gan.classes);
}

/** The namespace a user calls this GAN's verbs through, for the sentences that name them. */
const modelName = (gan: Gan) => (gan.classes === undefined ? 'gan' : 'conditionalGan');

/** A network's input: x alone, or [x, y] for a conditional GAN. */
const withLabels = (x: tf.Tensor, labels?: tf.Tensor) => (labels ? [x, labels] : x);

export interface GanOptimizers {
  discriminator: tf.Optimizer;
  generator: tf.Optimizer;
}

/** Adam with β₁ = 0.5 for each player (Radford et al.: β₁ = 0.9 oscillates). */
export function createOptimizers(learningRate = 1e-3, beta1 = 0.5): GanOptimizers {
  return {
    discriminator: tf.train.adam(learningRate, beta1, 0.999),
    generator: tf.train.adam(learningRate, beta1, 0.999),
  };
}

/**
 * One discriminator step: ascend E[log D(x)] + E[log(1 − D(G(z)))] on a real batch
 * (in [−1, 1]) and as many fakes, updating D only. Returns the loss and the mean
 * D(x) and D(G(z)). A conditional GAN's step is given the batch's one-hot `labels`,
 * which its fakes are drawn with too.
 */
export const discriminatorStep = answerKey(
  'ganTrainingStep',
  function discriminatorStep(
    gan: Gan,
    optimizer: tf.Optimizer,
    real: tf.Tensor,
    seed: number,
    loss = discriminatorLoss,
    labels?: tf.Tensor,
  ): { loss: tf.Scalar; dReal: tf.Scalar; dFake: tf.Scalar } {
    return tf.tidy(() => {
      const z = noiseFor(gan, real.shape[0], seed);
      const fake = gan.generator.apply(withLabels(z, labels), { training: true }) as tf.Tensor;
      let dReal!: tf.Scalar;
      let dFake!: tf.Scalar;
      const value = optimizer.minimize(
        () => {
          const realLogits = gan.discriminator.apply(withLabels(real, labels), { training: true }) as tf.Tensor;
          const fakeLogits = gan.discriminator.apply(withLabels(fake, labels), { training: true }) as tf.Tensor;
          dReal = tf.keep(tf.sigmoid(realLogits).mean() as tf.Scalar);
          dFake = tf.keep(tf.sigmoid(fakeLogits).mean() as tf.Scalar);
          return loss(realLogits, fakeLogits);
        },
        true,
        trainableVariables(gan.discriminator),
      )!;
      return { loss: value, dReal: unkept(dReal), dFake: unkept(dFake) };
    });
  },
);

/**
 * One generator step on `batchSize` fakes, updating G only with `loss` (default non-saturating); a conditional
 * GAN's fakes are drawn with the one-hot `labels`.
 */
export const generatorStep = answerKey(
  'ganTrainingStep',
  function generatorStep(
    gan: Gan,
    optimizer: tf.Optimizer,
    batchSize: number,
    seed: number,
    loss: (fakeLogits: tf.Tensor) => tf.Scalar = nonSaturatingGeneratorLoss,
    labels?: tf.Tensor,
  ): tf.Scalar {
    return tf.tidy(() =>
      optimizer.minimize(
        () => {
          const z = noiseFor(gan, batchSize, seed);
          const fake = gan.generator.apply(withLabels(z, labels), { training: true }) as tf.Tensor;
          return loss(gan.discriminator.apply(withLabels(fake, labels), { training: true }) as tf.Tensor);
        },
        true,
        trainableVariables(gan.generator),
      )!,
    );
  },
);

export interface GanStepOptions {
  /** Seed of the discriminator's fakes. */
  seed: number;
  /** Seed of the generator's fakes (default seed + 1). */
  generatorSeed?: number;
  /** Scale the real batch from [0, 1] to the networks' [−1, 1] (default true; false for the 1-D toy's raw numbers). */
  rescale?: boolean;
  generatorLoss?: (fakeLogits: tf.Tensor) => tf.Scalar;
  discriminatorLoss?: (realLogits: tf.Tensor, fakeLogits: tf.Tensor) => tf.Scalar;
}

/** A real batch in the networks' range, and its one-hot labels for a conditional GAN. */
function realBatch(gan: Gan, batch: Batch | tf.Tensor, rescale: boolean | undefined, what: string) {
  const x = imagesOf(batch);
  checkShape(gan, x, what);
  return { real: rescale === false ? x : toGanRange(x), labels: labelsFor(gan, batch, what) };
}

/** The image GANs take images [N, 28, 28, 1]; the 1-D toy numbers [N, 1]. */
function checkShape(gan: Gan, x: tf.Tensor, what: string): void {
  if (gan.architecture !== 'toy') checkImageBatch(x, what);
}

/**
 * One round of the game on a real batch (images in [0, 1]; labelled, { x, y }, for a conditional GAN): a
 * discriminator step on it and as many fakes, then a generator step on a batch of the same size (with the same
 * labels). Returns both losses and the mean D(x), D(G(z)).
 */
export const trainStep = answerKey(
  'ganTrainingStep',
  function trainStep(
    gan: Gan,
    optimizers: GanOptimizers,
    batch: Batch | tf.Tensor,
    options: GanStepOptions,
  ): Record<'discriminator' | 'generator' | 'D(x)' | 'D(G(z))', tf.Scalar> {
    return tf.tidy(() => {
      const { real, labels } = realBatch(gan, batch, options.rescale, `${modelName(gan)}.trainStep`);
      const d = discriminatorStep(gan, optimizers.discriminator, real, options.seed, options.discriminatorLoss, labels);
      const g = generatorStep(
        gan,
        optimizers.generator,
        real.shape[0],
        options.generatorSeed ?? options.seed + 1,
        options.generatorLoss,
        labels,
      );
      return { discriminator: d.loss, generator: g, 'D(x)': d.dReal, 'D(G(z))': d.dFake };
    });
  },
);

export interface TrainGanOptions extends TrainOptions {
  /** Discriminator steps per generator step (default 1). `steps` counts generator steps. */
  k?: number;
  /** Default: Adam(learningRate, β₁ = 0.5) for each, learningRate 1e-3. */
  optimizers?: GanOptimizers;
  generatorLoss?: (fakeLogits: tf.Tensor) => tf.Scalar;
  discriminatorLoss?: (realLogits: tf.Tensor, fakeLogits: tf.Tensor) => tf.Scalar;
  /** Scale the data from [0, 1] to the networks' [−1, 1] (default true; false for the 1-D toy's raw numbers). */
  rescale?: boolean;
  /**
   * Keep an exponential moving average of G's weights with this decay β (e.g. 0.999) in `gan.average`, made on
   * the first call and carried on by later ones; `sample` then draws from it.
   */
  averageGenerator?: number;
}

/**
 * The GAN training algorithm, on the kit's loop: for each generator step, k discriminator steps on
 * fresh real batches (images in [0, 1], scaled here), then one generator step; every fake's noise
 * from the loop's seeded stream. Records D's and G's losses and the mean D(x), D(G(z)). A conditional
 * GAN trains on labelled data, { images, labels } (conditionalGan.trainConditionalGan checks it).
 */
export async function trainGan(
  gan: Gan,
  data: tf.Tensor | { images: tf.Tensor; labels: tf.Tensor },
  options: TrainGanOptions,
): Promise<History> {
  const k = options.k ?? 1;
  if (!Number.isInteger(k) || k < 1)
    throw new GenlabError(`trainGan: k (discriminator steps per generator step) must be a whole number ≥ 1, got ${k}.`);
  const { images, labels } = data instanceof tf.Tensor ? { images: data, labels: undefined } : data;
  const decay = options.averageGenerator;
  if (decay !== undefined) {
    if (!(decay > 0 && decay < 1))
      throw new GenlabError(
        `trainGan: averageGenerator is the average's decay β, between 0 and 1 (e.g. 0.999), got ${decay}.`,
      );
    gan.average ??= await createWeightAverage(gan.generator);
  }
  const conditional = gan.classes !== undefined;
  return runTrainingLoop<GanOptimizers>({
    images,
    labels,
    options,
    defaults: {
      batchSize: conditional ? 64 : 128,
      learningRate: 1e-3,
      label: conditional ? 'conditional GAN' : `${gan.architecture} GAN`,
    },
    optimizers: options.optimizers ?? ((learningRate) => createOptimizers(learningRate)),
    // k − 1 extra discriminator steps, then the round trainStep plays (one more for D, one for G).
    inner: {
      times: k - 1,
      step: (round) => {
        const { real, labels } = realBatch(gan, round.batch(), options.rescale, `${modelName(gan)}.trainGan`);
        return discriminatorStep(
          gan,
          round.optimizers.discriminator,
          real,
          round.noiseSeed(),
          options.discriminatorLoss,
          labels,
        );
      },
    },
    step: (round) =>
      trainStep(gan, round.optimizers, round.batch(), {
        ...options,
        seed: round.noiseSeed(),
        generatorSeed: round.noiseSeed(),
      }),
    average: decay === undefined ? undefined : { of: gan.generator, into: gan.average!, decay },
  });
}

/** How a GAN's samples are judged: by `classifier` (`loadPretrained('mnist-judge')`), `samples` of them, from `seed`. */
export interface JudgeOptions {
  classifier: tf.LayersModel;
  /** How many samples (default 1,000). */
  samples?: number;
  /** Their noise's seed (default 0). */
  seed?: number;
}

/** `options` with their defaults, or a sentence asking `who`'s caller for the judge. */
export function judging(options: JudgeOptions | undefined, who: string): Required<JudgeOptions> {
  if (!options?.classifier)
    throw new GenlabError(
      `${who} needs a trained classifier to judge the samples: ${who}(model, reference, { classifier: await loadPretrained('mnist-judge') }).`,
    );
  return { classifier: options.classifier, samples: options.samples ?? 1000, seed: options.seed ?? 0 };
}

/** Judges the GAN by `judgeSamples` on its seeded samples against real `reference` images in [0, 1]. */
export function evaluate(gan: Gan, reference: tf.Tensor, options: JudgeOptions): SampleQuality {
  const { classifier, samples, seed } = judging(options, 'gan.evaluate');
  const images = sample(gan, samples, seed);
  try {
    return judgeSamples(classifier, images, reference);
  } finally {
    images.dispose();
  }
}

// The judge of the samples (judgeSamples, SampleQuality) is lib/judge.ts, shared by every generative model.
export type { SampleQuality } from '../judge';

/**
 * The GAN as a model family (kit.ts's contract, checked by the compiler). Its saved generator is the one it
 * samples from: the weight average where training kept one.
 */
export const family = {
  name: 'gan',
  create: createGan,
  trainStep,
  train: trainGan,
  evaluate,
  sample,
  partNames: ['generator', 'discriminator'],
  parts: (gan: Gan) => ({ generator: gan.average?.model ?? gan.generator, discriminator: gan.discriminator }),
  fromParts: (parts: Parts, config: GanConfig): Gan => fromNetworks(parts, config.architecture ?? 'mlp'),
} satisfies GenerativeFamily<Gan, GanConfig, tf.Tensor, TrainGanOptions, SampleQuality>;

/** A GAN around saved networks: its noise's size read from the generator's input. */
export function fromNetworks(parts: Parts, architecture: GanArchitecture): Gan {
  return {
    generator: parts.generator,
    discriminator: parts.discriminator,
    noiseDim: parts.generator.inputs[0].shape[1] as number,
    noise: architecture === 'toy' ? 'normal' : 'uniform',
    architecture,
  };
}
