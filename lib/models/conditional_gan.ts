/**
 * A conditional DCGAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets"): both players are told
 * which digit y an image shows. G(z, y) draws a y from noise; D(x, y) scores whether x is a real image of a y:
 *
 *   min_G max_D  E_(x,y)[log D(x, y)] + E_(z,y)[log(1 − D(G(z, y), y))].
 *
 * Why it learns faster than the unconditional DCGAN: G no longer has to carve one connected noise space into ten
 * separate digits (the images between two digits are what the judge finds ambiguous), and D's question is easier,
 * so its gradients tell G sooner what a 3 looks like. The networks are lab 5's DCGAN (`dcgan_blocks.ts`):
 *
 * - G: z next to the one-hot y, then the DCGAN generator.
 * - D: the DCGAN discriminator's features φ(x), and the projection answer of Miyato & Koyama (2018),
 *   "cGANs with Projection Discriminator": ℓ(x, y) = w·φ(x) + b + e_y·φ(x), an unconditional "is it real"
 *   score plus how well x's features match a learned template e_y for digit y.
 *
 * Labels go in as one-hot rows [N, classes]; `oneHot` makes them from digits. A batch's fakes get the real
 * batch's labels, so the fakes have the data's mix of digits.
 */
import * as tf from '@tensorflow/tfjs';
import { answerKey } from '../answer_keys';
import { Batch, batches } from '../data/batches';
import { GenlabError } from '../errors';
import { discriminatorLoss, nonSaturatingGeneratorLoss } from '../losses';
import { rngFor } from '../random';
import { fit, History } from '../train';
import { dcganDiscriminatorFeatures, dcganGeneratorFrom } from './dcgan_blocks';
import { ConditionalSampleQuality, judgeConditionalSamples } from '../judge';
import { createOptimizers, fromGanRange, GanOptimizers, sampleNoise, toGanRange } from './gan';
import {
  apply,
  checkImageBatch,
  IMAGE_SHAPE,
  initializers,
  positiveInteger,
  splitSeed,
  trainableVariables,
  TrainOptions,
} from './kit';

export interface ConditionalGanConfig {
  /** Dimensions of z (default 96). */
  noiseDim?: number;
  /** How many labels (default 10, the digits). */
  classes?: number;
  /** Filters of the conv layers: [G's up-conv, D's second conv]; default [32, 64], lab 5's DCGAN. */
  filters?: [number, number];
  seed?: number;
}

export interface ConditionalGan {
  /** [z [N, noiseDim], one-hot y [N, classes]] → images [N, 28, 28, 1] in [−1, 1]. */
  generator: tf.LayersModel;
  /** [images [N, 28, 28, 1] in [−1, 1], one-hot y [N, classes]] → logits [N, 1]. */
  discriminator: tf.LayersModel;
  noiseDim: number;
  classes: number;
}

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

/** n labels 0, 1, …, classes − 1, 0, 1, … : an image grid with `classes` columns shows one digit per column. */
export function cyclingLabels(n: number, classes = 10): number[] {
  return Array.from({ length: n }, (_, i) => i % classes);
}

/** D(x, y): the DCGAN discriminator's features, answered by projection onto the label's template. */
const createConditionalDiscriminator = answerKey(
  'buildDiscriminator',
  function createConditionalDiscriminator(filters: [number, number], classes: number, seed: number): tf.LayersModel {
    const rng = rngFor(seed);
    const x = tf.input({ shape: [...IMAGE_SHAPE] });
    const y = tf.input({ shape: [classes] });
    const features = dcganDiscriminatorFeatures(x, filters, rng);
    const real = apply(tf.layers.dense({ units: 1, ...initializers(rng), name: 'realness' }), features);
    // e_y = E y: the one-hot row picks digit y's template out of E [classes, features].
    const template = apply(
      tf.layers.dense({ units: features.shape[1] as number, useBias: false, ...initializers(rng), name: 'templates' }),
      y,
    );
    const match = apply(tf.layers.dot({ axes: 1, name: 'match' }), [features, template]);
    const logit = apply(tf.layers.add({ name: 'logit' }), [real, match]);
    return tf.model({ inputs: [x, y], outputs: logit, name: 'conditional_dcgan_discriminator' });
  },
);

/** A conditional DCGAN: G(z, y) and D(x, y), seeded (see the module's comment). */
export function createConditionalGan(config: ConditionalGanConfig = {}): ConditionalGan {
  const noiseDim = positiveInteger(config.noiseDim ?? 96, 'noiseDim');
  const classes = positiveInteger(config.classes ?? 10, 'classes');
  const filters = config.filters ?? ([32, 64] as [number, number]);
  if (!Array.isArray(filters) || filters.length !== 2)
    throw new GenlabError(
      `createConditionalGan: filters is [G's up-conv, D's second conv], two numbers, got ${JSON.stringify(filters)}.`,
    );
  filters.forEach((f, i) => positiveInteger(f, `filters[${i}]`));
  const [generatorSeed, discriminatorSeed] = splitSeed(config.seed, 2);
  const z = tf.input({ shape: [noiseDim] });
  const y = tf.input({ shape: [classes] });
  const generator = tf.model({
    inputs: [z, y],
    outputs: dcganGeneratorFrom(apply(tf.layers.concatenate(), [z, y]), filters[0], rngFor(generatorSeed)),
    name: 'conditional_dcgan_generator',
  });
  return {
    generator,
    discriminator: createConditionalDiscriminator(filters, classes, discriminatorSeed),
    noiseDim,
    classes,
  };
}

export interface ConditionalGanStepOptions {
  /** Seed of the discriminator's fakes' noise; the generator's is seed + 1. */
  seed: number;
  generatorLoss?: (fakeLogits: tf.Tensor) => tf.Scalar;
  discriminatorLoss?: (realLogits: tf.Tensor, fakeLogits: tf.Tensor) => tf.Scalar;
}

/**
 * One round of the game on a labelled batch (images in [0, 1], digits `y`): a discriminator step on it and as many
 * fakes with the same labels, then a generator step on a fresh batch of fakes with those labels. Returns both
 * losses and the mean D(x, y), D(G(z, y), y).
 */
export const trainStep = answerKey(
  'ganTrainingStep',
  function trainStep(
    cgan: ConditionalGan,
    optimizers: GanOptimizers,
    batch: Batch,
    options: ConditionalGanStepOptions,
  ): Record<'discriminator' | 'generator' | 'D(x)' | 'D(G(z))', tf.Scalar> {
    if (!batch.y)
      throw new GenlabError(
        'conditionalGan.trainStep needs labelled batches ({ x, y }: batches(images, labels, …)): the conditional GAN learns p(x | y).',
      );
    checkImageBatch(batch.x, 'conditionalGan.trainStep');
    const dLoss = options.discriminatorLoss ?? discriminatorLoss;
    const gLoss = options.generatorLoss ?? nonSaturatingGeneratorLoss;
    return tf.tidy(() => {
      const real = toGanRange(batch.x);
      const y = oneHot(batch.y!, cgan.classes);
      const n = real.shape[0];
      const fake = cgan.generator.apply([sampleNoise(n, cgan.noiseDim, options.seed), y], {
        training: true,
      }) as tf.Tensor;
      let dReal!: tf.Scalar;
      let dFake!: tf.Scalar;
      const discriminator = optimizers.discriminator.minimize(
        () => {
          const realLogits = cgan.discriminator.apply([real, y], { training: true }) as tf.Tensor;
          const fakeLogits = cgan.discriminator.apply([fake, y], { training: true }) as tf.Tensor;
          dReal = tf.keep(tf.sigmoid(realLogits).mean() as tf.Scalar);
          dFake = tf.keep(tf.sigmoid(fakeLogits).mean() as tf.Scalar);
          return dLoss(realLogits, fakeLogits);
        },
        true,
        trainableVariables(cgan.discriminator),
      )!;
      const generator = optimizers.generator.minimize(
        () => {
          const fresh = cgan.generator.apply([sampleNoise(n, cgan.noiseDim, options.seed + 1), y], {
            training: true,
          }) as tf.Tensor;
          return gLoss(cgan.discriminator.apply([fresh, y], { training: true }) as tf.Tensor);
        },
        true,
        trainableVariables(cgan.generator),
      )!;
      return { discriminator, generator, 'D(x)': dReal, 'D(G(z))': dFake };
    });
  },
);

export interface TrainConditionalGanOptions extends TrainOptions {
  /** Default: Adam(learningRate, β₁ = 0.5) for each player, learningRate 1e-3. */
  optimizers?: GanOptimizers;
  generatorLoss?: (fakeLogits: tf.Tensor) => tf.Scalar;
  discriminatorLoss?: (realLogits: tf.Tensor, fakeLogits: tf.Tensor) => tf.Scalar;
}

/** Trains a conditional GAN on labelled images ({ images [N, 28, 28, 1] in [0, 1], labels [N] }), one round per step. */
export async function trainConditionalGan(
  cgan: ConditionalGan,
  data: { images: tf.Tensor; labels: tf.Tensor },
  options: TrainConditionalGanOptions,
): Promise<History> {
  if (!data?.images || !data?.labels)
    throw new GenlabError(
      'trainConditionalGan needs labelled images, { images, labels } (a split of loadMnist(), e.g. train): the labels are what G is asked to draw.',
    );
  checkImageBatch(data.images, 'trainConditionalGan');
  if (data.labels.rank !== 1 || data.labels.shape[0] !== data.images.shape[0])
    throw new GenlabError(
      `trainConditionalGan: labels must be one digit per image, shape [${data.images.shape[0]}], got [${data.labels.shape}].`,
    );
  const batchSize = Math.min(options.batchSize ?? 64, data.images.shape[0]);
  const optimizers = options.optimizers ?? createOptimizers(options.learningRate);
  const rng = rngFor(options.seed ?? 0);
  const stream = batches(data.images, data.labels, { batchSize, seed: rng.nextSeed() });
  return fit({
    steps: options.steps,
    label: options.label ?? 'conditional GAN',
    quiet: options.quiet,
    onStep: options.onStep,
    step: () => trainStep(cgan, optimizers, stream.next().value, { ...options, seed: rng.nextSeed() }),
  });
}

/**
 * n generated images in [0, 1] (batch norm in inference mode), of the digits `options.labels` (default
 * `cyclingLabels(n)`: 0, 1, …, 9, 0, …), from noise seeded by `seed`.
 */
export function sample(
  cgan: ConditionalGan,
  n: number,
  seed: number,
  options: { labels?: ArrayLike<number> } = {},
): tf.Tensor4D {
  const labels = options.labels ?? cyclingLabels(n, cgan.classes);
  if (labels.length !== n)
    throw new GenlabError(
      `conditionalGan.sample: asked for ${n} images but given ${labels.length} labels; give one per image.`,
    );
  return tf.tidy(
    () =>
      fromGanRange(
        cgan.generator.predict([sampleNoise(n, cgan.noiseDim, seed), oneHot(labels, cgan.classes)]) as tf.Tensor,
      ) as tf.Tensor4D,
  );
}

export type { ConditionalSampleQuality } from '../judge';

/**
 * Judges `samples` (default 1,000) images, seeded, ten of each digit in turn, by `judgeSamples` against real
 * `reference` images in [0, 1], and how often the judge reads the digit G was asked for.
 */
export function evaluate(
  cgan: ConditionalGan,
  reference: tf.Tensor,
  options: { classifier: tf.LayersModel; samples?: number; seed?: number },
): ConditionalSampleQuality {
  if (!options?.classifier)
    throw new GenlabError(
      "conditionalGan.evaluate needs a trained classifier to judge the samples: evaluate(cgan, reference, { classifier: await loadPretrained('mnist-judge') }).",
    );
  const labels = cyclingLabels(options.samples ?? 1000, cgan.classes);
  const images = sample(cgan, labels.length, options.seed ?? 0, { labels });
  try {
    return judgeConditionalSamples(options.classifier, images, labels, reference);
  } finally {
    images.dispose();
  }
}
