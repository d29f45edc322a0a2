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
import { Batch } from '../data/batches';
import { GenlabError } from '../errors';
import { ConditionalSampleQuality, judgeConditionalSamples } from '../judge';
import { rngFor } from '../random';
import { History } from '../train';
import { dcganDiscriminatorFeatures, dcganGeneratorFrom } from './dcgan_blocks';
import {
  applyGenerator,
  family as ganFamily,
  fromGanRange,
  fromNetworks,
  Gan,
  GanOptimizers,
  GanStepOptions,
  judging,
  JudgeOptions,
  oneHot,
  sampleNoise,
  trainGan,
  TrainGanOptions,
  trainStep as ganTrainStep,
} from './gan';
import {
  apply,
  checkImageBatch,
  GenerativeFamily,
  IMAGE_SHAPE,
  initializers,
  Parts,
  positiveInteger,
  splitSeed,
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

/**
 * A conditional GAN is a GAN (gan.ts) whose networks also take the label: [z, one-hot y] → images in [−1, 1],
 * [images, one-hot y] → logits. It shares the GAN's steps, its training loop (k, weight averaging) and its
 * sampling; this file adds what only labels need.
 */
export interface ConditionalGan extends Gan {
  classes: number;
}

export { oneHot };

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
    noise: 'uniform',
    architecture: 'dcgan',
    classes,
  };
}

/** The options of one round: those of the GAN's `trainStep` (the images are always rescaled to [−1, 1]). */
export type ConditionalGanStepOptions = Omit<GanStepOptions, 'rescale'>;

/**
 * One round of the game on a labelled batch (images in [0, 1], digits `y`): the GAN's round (gan.trainStep) with
 * both players told the labels: a discriminator step on the batch and as many fakes with the same labels, then a
 * generator step on a fresh batch of fakes with those labels. Returns both losses and the mean D(x, y), D(G(z, y), y).
 */
export function trainStep(
  cgan: ConditionalGan,
  optimizers: GanOptimizers,
  batch: Batch,
  options: ConditionalGanStepOptions,
): Record<'discriminator' | 'generator' | 'D(x)' | 'D(G(z))', tf.Scalar> {
  return ganTrainStep(cgan, optimizers, batch, { ...options, rescale: true });
}

/** The options of `trainConditionalGan`: the GAN's (k, averageGenerator, the losses, …). */
export type TrainConditionalGanOptions = Omit<TrainGanOptions, 'rescale'>;

/**
 * Trains a conditional GAN on labelled images ({ images [N, 28, 28, 1] in [0, 1], labels [N] }) by the GAN's
 * loop (gan.trainGan), one round per step.
 */
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
  return trainGan(cgan, data, { ...options, rescale: true });
}

/**
 * n generated images in [0, 1] (batch norm in inference mode), of the digits `options.labels` (default
 * `cyclingLabels(n)`: 0, 1, …, 9, 0, …), from noise seeded by `seed`.
 */
export function sample(
  cgan: ConditionalGan,
  n: number,
  seed: number,
  options: { labels?: ArrayLike<number>; averaged?: boolean } = {},
): tf.Tensor4D {
  const labels = options.labels ?? cyclingLabels(n, cgan.classes);
  if (labels.length !== n)
    throw new GenlabError(
      `conditionalGan.sample: asked for ${n} images but given ${labels.length} labels; give one per image.`,
    );
  return tf.tidy(
    () =>
      fromGanRange(
        applyGenerator(cgan, sampleNoise(n, cgan.noiseDim, seed), oneHot(labels, cgan.classes), options),
      ) as tf.Tensor4D,
  );
}

export type { ConditionalSampleQuality } from '../judge';

/**
 * Judges its seeded samples, ten of each digit in turn, by `judgeSamples` against real `reference` images in
 * [0, 1], and how often the judge reads the digit G was asked for.
 */
export function evaluate(cgan: ConditionalGan, reference: tf.Tensor, options: JudgeOptions): ConditionalSampleQuality {
  const { classifier, samples, seed } = judging(options, 'conditionalGan.evaluate');
  const labels = cyclingLabels(samples, cgan.classes);
  const images = sample(cgan, labels.length, seed, { labels });
  try {
    return judgeConditionalSamples(classifier, images, labels, reference);
  } finally {
    images.dispose();
  }
}

/** The conditional GAN as a model family (kit.ts's contract, checked by the compiler): the GAN's parts, told the labels. */
export const family = {
  name: 'conditionalGan',
  create: createConditionalGan,
  trainStep,
  train: trainConditionalGan,
  evaluate,
  sample,
  partNames: ['generator', 'discriminator'],
  parts: ganFamily.parts,
  fromParts: (parts: Parts): ConditionalGan => ({
    ...fromNetworks(parts, 'dcgan'),
    classes: parts.generator.inputs[1].shape[1] as number,
  }),
} satisfies GenerativeFamily<
  ConditionalGan,
  ConditionalGanConfig,
  { images: tf.Tensor; labels: tf.Tensor },
  TrainConditionalGanOptions,
  ConditionalSampleQuality,
  tf.Tensor
>;
