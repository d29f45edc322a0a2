/**
 * Autoencoders for 28×28 images: an encoder squeezes x into a code z of `bottleneck`
 * numbers, a decoder rebuilds x̂ from z, and both are trained together to make the
 * reconstruction close to the input, minimising the L2 loss
 *
 *   L(x) = (1/D) Σ_i (x_i − x̂_i)²,   x̂ = decoder(encoder(x)).
 *
 * The bottleneck is the knob: a code much smaller than the 784 pixels forces the
 * encoder to keep what matters. Two architectures:
 *
 * - 'mlp':  784 → 256 → z  and  z → 256 → 784 (sigmoid);
 * - 'conv': the lecture's 4-layer conv encoder and 4-layer up-conv decoder:
 *
 *   encoder  conv 3×3 ×16 stride 2 → 14×14   decoder  dense z → 7·7·32, reshape
 *            conv 3×3 ×32 stride 2 →  7×7             up-conv 3×3 ×32 stride 1 →  7×7
 *            conv 3×3 ×32 stride 1 →  7×7             up-conv 3×3 ×32 stride 1 →  7×7
 *            conv 3×3 ×32 stride 1 →  7×7             up-conv 3×3 ×16 stride 2 → 14×14
 *            flatten, dense → z (linear)              up-conv 3×3 ×1  stride 2 → 28×28 (sigmoid)
 *
 * ReLU everywhere else, 'same' padding. The decoder ends in a sigmoid so x̂ lies in
 * [0, 1] like the pixel intensities, and its bias starts at the logit of MNIST's mean
 * intensity: the first reconstructions are a faint grey rather than 0.5 everywhere,
 * from where the quickest way down is to paint every pixel black, a minimum (MSE ≈ 0.11)
 * that a conv autoencoder with a 2-number code fell into and never left.
 */
import * as tf from '@tensorflow/tfjs';
import { answerKey } from '../answer_keys';
import { Batch } from '../data/batches';
import { GenlabError } from '../errors';
import { mse } from '../losses';
import { Random, rngFor } from '../random';
import { History } from '../train';
import {
  checkImageBatch,
  encoderDecoderParts,
  concatOverBatches,
  IMAGE_PIXELS,
  IMAGE_SHAPE,
  imagesOf,
  initializers,
  ModelFamily,
  Parts,
  positiveInteger,
  runTrainingLoop,
  splitSeed,
  sumOverBatches,
  TrainOptions,
} from './kit';

export type AutoencoderArchitecture = 'mlp' | 'conv';

export interface AutoencoderConfig {
  architecture?: AutoencoderArchitecture;
  /** Size of the code z (default 32). */
  bottleneck?: number;
  /** 'mlp': hidden sizes of the encoder, reversed in the decoder (default [256]). */
  hiddenUnits?: number[];
  /** Seed for the weight initialisers. */
  seed?: number;
}

export interface Autoencoder {
  /** x [N, 28, 28, 1] → z [N, bottleneck]. */
  encoder: tf.LayersModel;
  /** z [N, bottleneck] → x̂ [N, 28, 28, 1], in [0, 1]. */
  decoder: tf.LayersModel;
  bottleneck: number;
  architecture: AutoencoderArchitecture;
}

/** The conv encoder's layers: [filters, stride] of each 3×3 convolution. */
export const CONV_ENCODER_LAYERS: readonly (readonly [number, number])[] = [
  [16, 2],
  [32, 2],
  [32, 1],
  [32, 1],
];
/** The up-conv decoder's layers, mirroring the encoder: [filters, stride] of each 3×3 transposed convolution. */
export const CONV_DECODER_LAYERS: readonly (readonly [number, number])[] = [
  [32, 1],
  [32, 1],
  [16, 2],
  [1, 2],
];

/** Mean pixel intensity of the MNIST training images. */
const MNIST_MEAN_INTENSITY = 0.1307;
const outputBias = () =>
  tf.initializers.constant({ value: Math.log(MNIST_MEAN_INTENSITY / (1 - MNIST_MEAN_INTENSITY)) });

function resolve(config: AutoencoderConfig) {
  const architecture = config.architecture ?? 'conv';
  const bottleneck = config.bottleneck ?? 32;
  if (architecture !== 'mlp' && architecture !== 'conv')
    throw new GenlabError(`architecture must be 'mlp' or 'conv', got '${architecture}'.`);
  positiveInteger(bottleneck, 'bottleneck');
  return { architecture, bottleneck, hiddenUnits: config.hiddenUnits ?? [256], rng: rngFor(config.seed) };
}

/** The encoder x → z. */
export function createEncoder(config: AutoencoderConfig = {}): tf.LayersModel {
  const { architecture, bottleneck, hiddenUnits, rng } = resolve(config);
  if (architecture === 'conv') return convEncoder(bottleneck, rng);
  const input = tf.input({ shape: [...IMAGE_SHAPE] });
  let h = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  for (const units of hiddenUnits)
    h = tf.layers.dense({ units, activation: 'relu', ...initializers(rng, 'relu') }).apply(h) as tf.SymbolicTensor;
  const z = tf.layers.dense({ units: bottleneck, ...initializers(rng), name: 'code' }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: z, name: 'mlp_encoder' });
}

/** The lecture's conv encoder (CONV_ENCODER_LAYERS, then flatten and a linear code); lab 2 asks students to build it. */
const convEncoder = answerKey(
  'buildConvEncoder',
  function convEncoder(bottleneck: number, rng: Random): tf.LayersModel {
    const input = tf.input({ shape: [...IMAGE_SHAPE] });
    let h: tf.SymbolicTensor = input;
    for (const [filters, strides] of CONV_ENCODER_LAYERS) {
      h = tf.layers
        .conv2d({ filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', ...initializers(rng, 'relu') })
        .apply(h) as tf.SymbolicTensor;
    }
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    const z = tf.layers.dense({ units: bottleneck, ...initializers(rng), name: 'code' }).apply(h) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: z, name: 'conv_encoder' });
  },
);

/** The decoder z → x̂. */
export function createDecoder(config: AutoencoderConfig = {}): tf.LayersModel {
  const { architecture, bottleneck, hiddenUnits, rng } = resolve(config);
  const input = tf.input({ shape: [bottleneck] });
  let h: tf.SymbolicTensor = input;
  if (architecture === 'mlp') {
    for (const units of [...hiddenUnits].reverse())
      h = tf.layers.dense({ units, activation: 'relu', ...initializers(rng, 'relu') }).apply(h) as tf.SymbolicTensor;
    h = tf.layers
      .dense({ units: IMAGE_PIXELS, activation: 'sigmoid', ...initializers(rng), biasInitializer: outputBias() })
      .apply(h) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: [...IMAGE_SHAPE] }).apply(h) as tf.SymbolicTensor;
  } else {
    const channels = CONV_ENCODER_LAYERS[CONV_ENCODER_LAYERS.length - 1][0];
    h = tf.layers
      .dense({ units: 7 * 7 * channels, activation: 'relu', ...initializers(rng, 'relu') })
      .apply(h) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: [7, 7, channels] }).apply(h) as tf.SymbolicTensor;
    CONV_DECODER_LAYERS.forEach(([filters, strides], i) => {
      const last = i === CONV_DECODER_LAYERS.length - 1;
      const init = last ? { ...initializers(rng), biasInitializer: outputBias() } : initializers(rng, 'relu');
      h = tf.layers
        .conv2dTranspose({
          filters,
          kernelSize: 3,
          strides,
          padding: 'same',
          activation: last ? 'sigmoid' : 'relu',
          ...init,
        })
        .apply(h) as tf.SymbolicTensor;
    });
  }
  return tf.model({ inputs: input, outputs: h, name: `${architecture}_decoder` });
}

/** An autoencoder: encoder and decoder from one config (and one seeded generator). */
export function createAutoencoder(config: AutoencoderConfig = {}): Autoencoder {
  const { architecture, bottleneck } = resolve(config);
  const [encoderSeed, decoderSeed] = splitSeed(config.seed, 2);
  return {
    encoder: createEncoder({ ...config, seed: encoderSeed }),
    decoder: createDecoder({ ...config, seed: decoderSeed }),
    bottleneck,
    architecture,
  };
}

/** x̂ = decoder(encoder(x)). */
export function reconstruct(ae: Autoencoder, x: tf.Tensor): tf.Tensor4D {
  checkImageBatch(x, 'reconstruct');
  return tf.tidy(() => ae.decoder.apply(ae.encoder.apply(x)) as tf.Tensor4D);
}

/** The codes z = encoder(x) of a dataset, [N, bottleneck], computed in batches. */
export function encodeAll(ae: Autoencoder, x: tf.Tensor, batchSize = 1000): tf.Tensor2D {
  checkImageBatch(x, 'encodeAll');
  return concatOverBatches(x, batchSize, (xb) => ae.encoder.predict(xb) as tf.Tensor) as tf.Tensor2D;
}

/**
 * Corrupts images for a denoising autoencoder: x̃ = clip(x + σ ε, 0, 1), ε ~ N(0, I),
 * seeded. The network sees x̃ and is trained to output the clean x.
 */
export function addGaussianNoise(images: tf.Tensor, options: { std?: number; seed: number | Random }): tf.Tensor {
  const std = options.std ?? 0.5;
  if (!(std >= 0)) throw new GenlabError(`addGaussianNoise: std must be ≥ 0, got ${std}.`);
  const seed = options.seed instanceof Random ? options.seed.nextSeed() : options.seed;
  return tf.tidy(() => images.add(tf.randomNormal(images.shape, 0, std, 'float32', seed)).clipByValue(0, 1));
}

/** The reconstruction loss per example, (x, x̂) → [N]. */
export type ReconstructionLoss = (x: tf.Tensor, reconstruction: tf.Tensor) => tf.Tensor;

export interface AutoencoderStepOptions {
  /** Denoising: the network's input is `corrupt(x, step)`, its target the clean x. */
  corrupt?: (x: tf.Tensor, step: number) => tf.Tensor;
  /** The loss per example; default `mse`. */
  loss?: ReconstructionLoss;
  /** The step's number, passed to `corrupt` (default 0). */
  step?: number;
}

/** One Adam step on a batch of images: encoder and decoder together, on the mean reconstruction loss. */
export function trainStep(
  ae: Autoencoder,
  optimizer: tf.Optimizer,
  batch: Batch | tf.Tensor,
  options: AutoencoderStepOptions = {},
): { loss: tf.Scalar } {
  const x = imagesOf(batch);
  const loss = options.loss ?? mse;
  const input = options.corrupt ? options.corrupt(x, options.step ?? 0) : x;
  return {
    loss: optimizer.minimize(
      () => loss(x, ae.decoder.apply(ae.encoder.apply(input)) as tf.Tensor).mean() as tf.Scalar,
      true,
    )!,
  };
}

export interface TrainAutoencoderOptions extends TrainOptions, Omit<AutoencoderStepOptions, 'step'> {}

/** Trains encoder and decoder together with Adam on the mean reconstruction loss. */
export async function trainAutoencoder(
  ae: Autoencoder,
  images: tf.Tensor,
  options: TrainAutoencoderOptions,
): Promise<History> {
  checkImageBatch(images, 'trainAutoencoder');
  const label = `${ae.architecture} autoencoder (z: ${ae.bottleneck})`;
  return runTrainingLoop({
    images,
    options,
    defaults: { batchSize: 64, learningRate: 1e-3, label },
    step: (round) => trainStep(ae, round.optimizers.model, round.batch(), { ...options, step: round.index }),
  });
}

export interface AutoencoderEvaluation {
  /** The mean reconstruction loss per example, (1/N) Σ_n loss(x_n, x̂_n): the MSE unless another loss is given. */
  loss: number;
}

/**
 * The mean reconstruction error over a dataset (optionally of corrupted inputs against clean targets),
 * with the per-example `loss` (default `mse`; lab 2 passes the student's own), in batches.
 */
export function evaluate(
  ae: Autoencoder,
  images: tf.Tensor,
  options: { batchSize?: number; corrupt?: (x: tf.Tensor, batch: number) => tf.Tensor; loss?: ReconstructionLoss } = {},
): AutoencoderEvaluation {
  checkImageBatch(images, 'autoencoder.evaluate');
  const loss = options.loss ?? mse;
  const [total] = sumOverBatches(images, options.batchSize ?? 1000, (x, b) => {
    const input = options.corrupt ? options.corrupt(x, b) : x;
    return loss(x, ae.decoder.predict(ae.encoder.predict(input) as tf.Tensor) as tf.Tensor);
  });
  return { loss: total / images.shape[0] };
}

/** @deprecated The name before the model contract: `evaluate(ae, images, options).loss`. */
export function evaluateMse(ae: Autoencoder, images: tf.Tensor, options: Parameters<typeof evaluate>[2] = {}): number {
  return evaluate(ae, images, options).loss;
}

/** The autoencoder as a model family (kit.ts's contract, checked by the compiler): not generative. */
export const family = {
  name: 'autoencoder',
  create: createAutoencoder,
  trainStep,
  train: trainAutoencoder,
  evaluate,
  partNames: encoderDecoderParts.partNames,
  parts: encoderDecoderParts.parts,
  fromParts: (parts: Parts, config: AutoencoderConfig): Autoencoder => {
    const { encoder, decoder, codeSize } = encoderDecoderParts.networks(parts);
    return { encoder, decoder, bottleneck: codeSize, architecture: config.architecture ?? 'mlp' };
  },
} satisfies ModelFamily<Autoencoder, AutoencoderConfig, tf.Tensor, TrainAutoencoderOptions, AutoencoderEvaluation>;
