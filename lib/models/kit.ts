/**
 * The model kit: what every model in lib/models/ is built from, and the contract each keeps.
 *
 * ## The contract
 *
 * Every model file (classifier, autoencoder, vae, pixelcnn, gan, conditionalGan, flow — and the next one: a
 * diffusion model) exports the same verbs, with the same argument order and the same kind of result,
 * so that a lab reads the same whichever model it trains:
 *
 *   createX(config = {})                          the model: a tf.LayersModel, or an object holding its
 *                                                 networks. `config.seed` fixes every initial weight.
 *   trainStep(model, optimizer, batch, options)   one gradient step on one mini-batch. Returns the step's
 *                                                 loss terms as scalars, ready for `fit`: `loss` first
 *                                                 (the GAN has two players, so two losses, `discriminator`
 *                                                 and `generator`, and its optimizer is a pair). `batch`
 *                                                 is what `batches()` yields ({ x, y }) or the images.
 *   trainX(model, data, options)                  the whole loop: the kit's `runTrainingLoop` (training.ts)
 *                                                 around the model's step. Options extend `TrainOptions`
 *                                                 (steps, batchSize, learningRate, finalLearningRate,
 *                                                 dynamicBinarization, seed, seeds, label, quiet, onStep);
 *                                                 `seed` fixes the batches and every draw the steps make.
 *                                                 Resolves to the `History` (plot it with plotHistory).
 *   evaluate(model, data, options = {})           the model's measures over a whole dataset, in batches: an
 *                                                 object of plain numbers, each a mean per example.
 *   sample(model, n, seed, options = {})          n new images [n, 28, 28, 1] in [0, 1] (generative
 *                                                 models only).
 *   family.parts(model), family.fromParts(parts, config)
 *                                                 persistence: the model's networks by name, and the model
 *                                                 again from them (what pretrained.ts saves and loads).
 *
 * Each model file states its verbs once more as `export const family = { … } satisfies ModelFamily<…>`
 * (contract.ts), so the compiler checks the contract.
 *
 * `data` is images [N, 28, 28, 1] in [0, 1] (binary for the likelihood models, the VAE and the PixelCNN);
 * the classifier learns from labels, so its data is a labelled set { images, labels }, which is what
 * `loadMnist()` returns for each split. The classifier and the plain autoencoder are not generative
 * models and have no `sample`. The PixelCNN's `sample` returns a Promise: it draws the 784 pixels one
 * after another and lets a live display update between rows (`await` works on either kind).
 * Names a model file had before the contract stay, as documented aliases of the contract's verbs.
 *
 * ## The kit
 *
 * The image shape, seeded initialisers, the image checks, the batched-evaluation loops, and (from
 * training.ts) the training loop that the model files would otherwise each write out.
 */
import * as tf from '@tensorflow/tfjs';
import { Batch } from '../data/batches';
import { GenlabError } from '../errors';
import { Random, rngFor } from '../random';

/** Height and width of every image the labs use (MNIST and Fashion-MNIST). */
export const IMAGE_SIDE = 28;
/** One image, [height, width, channels]. */
export const IMAGE_SHAPE: readonly [number, number, number] = [IMAGE_SIDE, IMAGE_SIDE, 1];
/** Pixels per image, D = 784. */
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;

/** A batch of n images, [n, 28, 28, 1]. */
export const imageBatchShape = (n: number): [number, number, number, number] => [n, ...IMAGE_SHAPE];

/**
 * Seeded weight initialisers for a layer: He-normal before a ReLU (it keeps the
 * activations' variance from halving at every layer, which in a deep conv
 * autoencoder lets the signal fade until the decoder collapses to the background),
 * Glorot-uniform otherwise; biases start at zero.
 */
export function initializers(rng: Random, activation?: 'relu') {
  const seed = rng.nextSeed();
  return {
    kernelInitializer:
      activation === 'relu' ? tf.initializers.heNormal({ seed }) : tf.initializers.glorotUniform({ seed }),
    biasInitializer: 'zeros' as const,
  };
}

/** `layer` applied to a symbolic tensor (or to several, for a merge layer such as Add), typed as the symbolic tensor it returns. */
export const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor =>
  layer.apply(x) as tf.SymbolicTensor;

/** `value` if it is a whole number ≥ 1; otherwise a GenlabError naming the setting. */
export function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new GenlabError(`${what} must be a whole number ≥ 1, got ${value}.`);
  return value;
}

/**
 * `count` seeds drawn from one: a model made of several networks (encoder and decoder, generator and
 * discriminator) gets different, reproducible weights in each from the single `config.seed`.
 */
export function splitSeed(seed: number | undefined, count: number): number[] {
  const rng = new Random(seed ?? rngFor(undefined).nextSeed());
  return Array.from({ length: count }, () => rng.nextSeed());
}

/**
 * A tensor kept with `tf.keep` (to leave a scope such as `optimizer.minimize`'s) as an ordinary one: a clone the
 * enclosing tidy tracks, the kept original freed. A step's kept measures handed on this way are freed by a tidy
 * around a caller that drops them, as its other results are.
 */
export function unkept<T extends tf.Tensor>(kept: T): T {
  const copy = kept.clone();
  kept.dispose();
  return copy;
}

/** A model's trainable weights as variables: the var list that keeps an optimizer's step to that model (one GAN player). */
export const trainableVariables = (model: tf.LayersModel) => model.trainableWeights.map((w) => w.read() as tf.Variable);

/**
 * Persistence shared by the models made of an encoder and a decoder (the autoencoder, the VAE): the two
 * networks out, and back in with the code's size read from the decoder's input.
 */
export const encoderDecoderParts = {
  partNames: ['encoder', 'decoder'],
  parts: (model: { encoder: tf.LayersModel; decoder: tf.LayersModel }) => ({
    encoder: model.encoder,
    decoder: model.decoder,
  }),
  networks: (parts: Record<string, tf.LayersModel>) => ({
    encoder: parts.encoder,
    decoder: parts.decoder,
    codeSize: parts.decoder.inputs[0].shape[1] as number,
  }),
} as const;

/** Throws a GenlabError unless `x` is a batch of images shaped [N, 28, 28, 1]; `what` names the caller. */
export function checkImageBatch(x: tf.Tensor, what: string): void {
  if (x.rank !== 4 || x.shape[1] !== IMAGE_SIDE || x.shape[2] !== IMAGE_SIDE || x.shape[3] !== 1) {
    throw new GenlabError(
      `${what} expects images shaped [N, 28, 28, 1], got [${x.shape}]: reshape with x.reshape([-1, 28, 28, 1]).`,
    );
  }
}

/** Throws a GenlabError unless every value of `x` is 0 or 1 (any shape); `what` names the caller. */
export function checkBinary(x: tf.Tensor, what: string): void {
  const nonBinary = tf.tidy(() => x.notEqual(0).logicalAnd(x.notEqual(1)).any().dataSync()[0]);
  if (nonBinary)
    throw new GenlabError(
      `${what} expects binary images (every pixel 0 or 1): binarize them first, e.g. binarize(images) or binarizeStochastic(images, seed).`,
    );
}

/** Both checks: binary images shaped [N, 28, 28, 1], what the Bernoulli likelihood models take. */
export function checkBinaryImages(x: tf.Tensor, what: string): void {
  checkImageBatch(x, what);
  checkBinary(x, what);
}

/** The images of a batch: `batches()`'s { x, y } or a tensor of images. */
export const imagesOf = (batch: Batch | tf.Tensor): tf.Tensor => (batch instanceof tf.Tensor ? batch : batch.x);

/**
 * The batched-evaluation loop. Calls `f` on consecutive slices of `x` along its first axis (the last
 * may be smaller), each inside `tf.tidy`, and adds up every element of each tensor it returns: with
 * `f` returning per-example values, the result divided by N is the dataset's mean. Keeps memory to
 * one batch at a time however large the dataset.
 */
export function sumOverBatches(
  x: tf.Tensor,
  batchSize: number,
  f: (batch: tf.Tensor, index: number) => tf.Tensor | tf.Tensor[],
): number[] {
  positiveInteger(batchSize, 'batchSize');
  const totals: number[] = [];
  for (let start = 0, index = 0; start < x.shape[0]; start += batchSize, index++) {
    const sums = tf.tidy(() => {
      const out = f(x.slice(start, Math.min(batchSize, x.shape[0] - start)), index);
      return (Array.isArray(out) ? out : [out]).map((t) => t.sum().dataSync()[0]);
    });
    sums.forEach((s, i) => (totals[i] = (totals[i] ?? 0) + s));
  }
  return totals;
}

/** `f` on consecutive slices of `x` (as in `sumOverBatches`), its outputs joined along the first axis. */
export function concatOverBatches(
  x: tf.Tensor,
  batchSize: number,
  f: (batch: tf.Tensor, index: number) => tf.Tensor,
): tf.Tensor {
  positiveInteger(batchSize, 'batchSize');
  const parts: tf.Tensor[] = [];
  for (let start = 0, index = 0; start < x.shape[0]; start += batchSize, index++) {
    parts.push(tf.tidy(() => f(x.slice(start, Math.min(batchSize, x.shape[0] - start)), index)));
  }
  const all = tf.concat(parts);
  parts.forEach((p) => p.dispose());
  return all;
}

// The training loop every `trainX` is built on, and the weight average it can keep: ./training.ts.
export { createWeightAverage, runTrainingLoop, updateWeightAverage } from './training';
export type { Round, TrainingLoop, TrainOptions, WeightAverage } from './training';
// The contract as a type: every model file's `family` satisfies one of these (./contract.ts).
export type { GenerativeFamily, ModelFamily, Parts } from './contract';
