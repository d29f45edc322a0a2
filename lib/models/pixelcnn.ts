/**
 * PixelCNN for 28×28 binary images (van den Oord et al. 2016).
 *
 * p(x) = Π_i p(x_i | x_<i) with p(x_i = 1 | x_<i) = σ(ℓ_i), where the logits ℓ come
 * from a stack of masked convolutions: one k × k mask-A layer (it cannot see x_i),
 * then mask-B 3 × 3 layers, then two 1 × 1 convolutions. Training evaluates every
 * conditional at once (one forward pass, teacher forcing); sampling needs one pass
 * per pixel, 784 in all, because each pixel conditions on the ones drawn before it.
 */
import * as tf from '@tensorflow/tfjs';
import { answerKey } from '../answer_keys';
import { Batch } from '../data/batches';
import { GenlabError } from '../errors';
import { MaskedConv2D } from '../layers/masked_conv';
import { bernoulliLogLikelihood, bitsPerDim } from '../losses';
import { Random, rngFor } from '../random';
import { History } from '../train';
import {
  apply,
  checkBinary,
  checkBinaryImages,
  checkImageBatch,
  GenerativeFamily,
  IMAGE_PIXELS,
  IMAGE_SIDE,
  imageBatchShape,
  imagesOf,
  initializers,
  Parts,
  positiveInteger,
  runTrainingLoop,
  sumOverBatches,
  TrainOptions,
} from './kit';

export interface PixelCnnConfig {
  /** Channels of the hidden layers (default 64). */
  filters?: number;
  /** Number of 3 × 3 mask-B layers (default 5). */
  layers?: number;
  /** Size of the first, mask-A kernel (default 7). */
  firstKernelSize?: number;
  /**
   * What each of the `layers` mask-B layers is (default 'plain'):
   *  - 'plain':    h ← relu(convB(h)), the stack of van den Oord et al. (2016a);
   *  - 'residual': h ← h + relu(convB(h)), so that gradients reach the first layers of a deeper stack;
   *  - 'gated':    h ← h + conv1×1(tanh(convB(h)) ⊙ σ(convB′(h))), the gated activation of
   *                van den Oord et al. (2016b), "Conditional Image Generation with PixelCNN Decoders".
   * Every branch is pixelwise after its masked convolution, so causality and `receptiveReach` hold.
   */
  block?: PixelCnnBlock;
  /** Channels of the 1 × 1 layer before the logits (default `filters`). */
  headFilters?: number;
  seed?: number;
}

/** The kinds of mask-B block `createPixelCnn` builds (see `PixelCnnConfig.block`). */
export const PIXELCNN_BLOCKS = ['plain', 'residual', 'gated'] as const;
export type PixelCnnBlock = (typeof PIXELCNN_BLOCKS)[number];

/** The model: binary images [N, 28, 28, 1] → Bernoulli logits [N, 28, 28, 1]. */
export function createPixelCnn(config: PixelCnnConfig = {}): tf.LayersModel {
  const filters = config.filters ?? 64;
  const layers = config.layers ?? 5;
  const rng = rngFor(config.seed);
  // Height and width left open: sampling runs the network on a window around the pixel it draws (see `cropRows`).
  const input = tf.input({ shape: [null, null, 1] });
  let h = new MaskedConv2D({
    filters,
    kernelSize: config.firstKernelSize ?? 7,
    maskType: 'A',
    activation: 'relu',
    seed: rng.nextSeed(),
    name: 'masked_a',
  }).apply(input) as tf.SymbolicTensor;
  const block = config.block ?? 'plain';
  if (!PIXELCNN_BLOCKS.includes(block)) {
    const named = PIXELCNN_BLOCKS.map((b) => `'${b}'`);
    throw new GenlabError(
      `createPixelCnn: block must be ${named.slice(0, -1).join(', ')} or ${named.at(-1)}, got '${block}'.`,
    );
  }
  const maskedB = (name: string, activation: 'relu' | 'linear') =>
    new MaskedConv2D({ filters, kernelSize: 3, maskType: 'B', activation, seed: rng.nextSeed(), name });
  for (let i = 1; i <= layers; i++) {
    if (block === 'plain') {
      h = apply(maskedB(`masked_b${i}`, 'relu'), h);
    } else if (block === 'residual') {
      h = apply(tf.layers.add({ name: `residual${i}` }), [h, apply(maskedB(`masked_b${i}`, 'relu'), h)]);
    } else {
      const tanh = apply(
        tf.layers.activation({ activation: 'tanh' }),
        apply(maskedB(`masked_b${i}_tanh`, 'linear'), h),
      );
      const gate = apply(
        tf.layers.activation({ activation: 'sigmoid' }),
        apply(maskedB(`masked_b${i}_gate`, 'linear'), h),
      );
      const gated = apply(tf.layers.multiply(), [tanh, gate]);
      const out = apply(tf.layers.conv2d({ filters, kernelSize: 1, ...initializers(rng) }), gated);
      h = apply(tf.layers.add({ name: `residual${i}` }), [h, out]);
    }
  }
  h = tf.layers
    .conv2d({
      filters: positiveInteger(config.headFilters ?? filters, 'headFilters'),
      kernelSize: 1,
      activation: 'relu',
      ...initializers(rng),
    })
    .apply(h) as tf.SymbolicTensor;
  const logits = tf.layers
    .conv2d({ filters: 1, kernelSize: 1, ...initializers(rng), name: 'logits' })
    .apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'pixelcnn' });
}

/** log p(x) per image (nats): the sum of the 784 Bernoulli conditionals, one forward pass. */
export function logLikelihood(model: tf.LayersModel, x: tf.Tensor): tf.Tensor1D {
  checkBinaryImages(x, 'logLikelihood');
  return tf.tidy(() => bernoulliLogLikelihood(x, model.apply(x) as tf.Tensor));
}

/** One Adam step on a batch of binary images, minimising the mean negative log-likelihood (nats per image). */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  batch: Batch | tf.Tensor,
): { loss: tf.Scalar } {
  const x = imagesOf(batch);
  return { loss: optimizer.minimize(() => logLikelihood(model, x).mean().neg() as tf.Scalar, true)! };
}

/** The PixelCNN's training options: the kit's (a cosine schedule, dynamic binarization, seeds). */
export type TrainPixelCnnOptions = TrainOptions;

/**
 * Trains a PixelCNN with Adam on the mean negative log-likelihood of seeded mini-batches, by the kit's loop:
 * `PIXELCNN_RECIPE.training` (a cosine from 4e-3 to 1e-4, each batch binarized afresh) is lab 4's recipe.
 */
export async function trainPixelCnn(
  model: tf.LayersModel,
  images: tf.Tensor,
  options: TrainPixelCnnOptions,
): Promise<History> {
  checkImageBatch(images, 'trainPixelCnn');
  // The Bernoulli likelihood needs 0/1 pixels: binary data, or a fresh binarization of each batch.
  if (!options.dynamicBinarization) checkBinary(images, 'trainPixelCnn (or pass dynamicBinarization: true)');
  return runTrainingLoop({
    images,
    options,
    defaults: { batchSize: 32, learningRate: 1e-3, label: 'PixelCNN' },
    step: (round) => trainStep(model, round.optimizers.model, round.batch()),
  });
}

export interface PixelCnnEvaluation {
  /** Mean −log p(x) over the dataset, nats per image. */
  negativeLogLikelihood: number;
  /** The same in bits per pixel: NLL / (784 ln 2). */
  bitsPerDim: number;
}

/** The mean negative log-likelihood over a dataset of binary images, in batches. */
export function evaluate(
  model: tf.LayersModel,
  x: tf.Tensor,
  options: { batchSize?: number } = {},
): PixelCnnEvaluation {
  checkBinaryImages(x, 'pixelcnn.evaluate');
  const [total] = sumOverBatches(x, options.batchSize ?? 500, (xb) => logLikelihood(model, xb));
  const nll = -total / x.shape[0];
  return { negativeLogLikelihood: nll, bitsPerDim: bitsPerDim(nll, IMAGE_PIXELS) };
}

/** The mean negative log-likelihood (nats per image): `evaluate(model, x).negativeLogLikelihood`, kept under its lab-4 name. */
export function negativeLogLikelihood(model: tf.LayersModel, x: tf.Tensor, batchSize = 500): number {
  return evaluate(model, x, { batchSize }).negativeLogLikelihood;
}

export interface SampleOptions {
  /** Called after each row is drawn with the images so far (for a live display); may be async. */
  onRow?: (row: number, images: tf.Tensor4D) => void | Promise<void>;
  /** Draw only rows ≥ fromRow, keeping the rows above from `start` (completion). */
  fromRow?: number;
  start?: tf.Tensor4D;
  /**
   * Run the network only on the pixels that can influence pixel (r, c) while drawing it
   * (default true): rows r − reach … r and columns c − reach … c + reach, where `reach`
   * is how far the receptive field extends (see `receptiveReach`); or rows 0 … r when
   * that cannot be worked out from the layers. Exact, not an approximation: masked
   * kernels never look at rows below, and nothing outside the window reaches (r, c).
   * For lab 4's network (reach 15) that is at most 16 × 28 pixels instead of 28 × 28.
   */
  cropRows?: boolean;
}

/**
 * How far the network's receptive field reaches from a pixel — rows up, and columns to
 * either side: the largest sum of (k − 1)/2 over the masked convolutions along any path
 * from the input to the logits (1×1 convolutions and pixelwise layers add nothing; the
 * branches of a gated or residual block are parallel, so they count once). Undefined
 * when a layer mixes pixels in a way this does not know (any other conv).
 */
export function receptiveReach(model: tf.LayersModel): number | undefined {
  const pixelwise = new Set([
    'InputLayer',
    'Activation',
    'ReLU',
    'LeakyReLU',
    'Dropout',
    'Add',
    'Multiply',
    'Concatenate',
    'BatchNormalization',
  ]);
  // model.layers is in topological order, so every layer's inputs have their reach by the time it comes.
  const reachAfter = new Map<tf.layers.Layer, number>();
  for (const layer of model.layers) {
    const name = layer.getClassName();
    let own = 0;
    if (layer instanceof MaskedConv2D) own = (layer.kernelSize - 1) / 2;
    else if (name === 'Conv2D' && (layer.getConfig().kernelSize as number[]).every((k) => k === 1)) own = 0;
    else if (!pixelwise.has(name)) return undefined;
    const inputs = layer.inboundNodes.flatMap((node) => node.inboundLayers);
    reachAfter.set(layer, own + Math.max(0, ...inputs.map((l) => reachAfter.get(l) ?? 0)));
  }
  return Math.max(0, ...model.outputLayers.map((l) => reachAfter.get(l) ?? 0));
}

/**
 * Draws images pixel by pixel: for i = 1 … 784 in raster order, run the network on the
 * image so far and draw x_i ~ Bernoulli(σ(ℓ_i)). Seeded. The model's causality
 * guarantees that pixels not yet drawn do not influence ℓ_i.
 */
export const sample = answerKey(
  'samplePixelCnn',
  async function sample(
    model: tf.LayersModel,
    n: number,
    seed: number | Random,
    options: SampleOptions = {},
  ): Promise<tf.Tensor4D> {
    const rng = rngFor(seed);
    const fromRow = options.fromRow ?? 0;
    if (options.start) checkBinaryImages(options.start, 'sample({ start })');
    const pixels = options.start ? Float32Array.from(options.start.dataSync()) : new Float32Array(n * IMAGE_PIXELS);
    const count = options.start ? options.start.shape[0] : n;
    const crop = options.cropRows ?? true;
    const reach = crop ? receptiveReach(model) : undefined;
    // Models saved before the width was left open take whole rows only.
    const cropColumns = reach !== undefined && model.inputs[0].shape[2] === null;
    for (let r = 0; r < IMAGE_SIDE; r++) {
      if (r < fromRow) continue;
      const top = reach === undefined ? 0 : Math.max(0, r - reach);
      const rows = crop ? r + 1 - top : IMAGE_SIDE;
      for (let c = 0; c < IMAGE_SIDE; c++) {
        const left = cropColumns ? Math.max(0, c - reach!) : 0;
        const cols = cropColumns ? Math.min(IMAGE_SIDE, c + reach! + 1) - left : IMAGE_SIDE;
        const probs = tf.tidy(() => {
          const images = tf.tensor4d(pixels, imageBatchShape(count)).slice([0, top, left, 0], [count, rows, cols, 1]);
          return tf
            .sigmoid((model.apply(images) as tf.Tensor4D).slice([0, r - top, c - left, 0], [count, 1, 1, 1]))
            .dataSync();
        });
        for (let i = 0; i < count; i++) pixels[i * IMAGE_PIXELS + r * IMAGE_SIDE + c] = rng.next() < probs[i] ? 1 : 0;
      }
      if (options.onRow) {
        const images = tf.tensor4d(pixels, imageBatchShape(count));
        await options.onRow(r, images);
        images.dispose();
      }
    }
    return tf.tensor4d(pixels, imageBatchShape(count));
  },
);

/** Completion: keeps the top `rowsGiven` rows of each image and samples the rest. */
export function complete(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  rowsGiven: number,
  seed: number | Random,
  options: Omit<SampleOptions, 'fromRow' | 'start'> = {},
): Promise<tf.Tensor4D> {
  if (!Number.isInteger(rowsGiven) || rowsGiven < 0 || rowsGiven > IMAGE_SIDE)
    throw new GenlabError(`complete: rowsGiven must be a whole number from 0 to 28, got ${rowsGiven}.`);
  return sample(model, x.shape[0], seed, { ...options, fromRow: rowsGiven, start: x });
}

/**
 * The causality check: ∂ℓ_i/∂x for one output pixel i (raster index), as a
 * [28, 28] map. For a correct PixelCNN it is zero at pixel i and at every pixel after it.
 */
export function receptiveField(model: tf.LayersModel, pixel: number, input?: tf.Tensor4D): Float32Array {
  if (!Number.isInteger(pixel) || pixel < 0 || pixel >= IMAGE_PIXELS)
    throw new GenlabError(`receptiveField: pixel must be a raster index in 0…783, got ${pixel}.`);
  return tf.tidy(() => {
    const x = input ?? tf.randomUniform(imageBatchShape(1), 0, 1, 'float32', 1).round();
    const r = Math.floor(pixel / IMAGE_SIDE);
    const c = pixel % IMAGE_SIDE;
    const g = tf.grad((xi: tf.Tensor) => (model.apply(xi) as tf.Tensor4D).slice([0, r, c, 0], [1, 1, 1, 1]).sum())(
      x as tf.Tensor4D,
    );
    return g.abs().reshape([IMAGE_PIXELS]).dataSync() as Float32Array;
  });
}

/** Raster indices ≥ `pixel` where the gradient of ℓ_pixel is non-zero: empty for a causal model. */
export function causalityViolations(model: tf.LayersModel, pixel: number, input?: tf.Tensor4D): number[] {
  const field = receptiveField(model, pixel, input);
  const bad: number[] = [];
  for (let j = pixel; j < IMAGE_PIXELS; j++) if (field[j] !== 0) bad.push(j);
  return bad;
}

/** The PixelCNN as a model family (kit.ts's contract, checked by the compiler): one network, its masks in its layers. */
export const family = {
  name: 'pixelcnn',
  create: createPixelCnn,
  trainStep,
  train: trainPixelCnn,
  evaluate,
  sample,
  partNames: ['model'],
  parts: (model: tf.LayersModel) => ({ model }),
  fromParts: (parts: Parts) => parts.model,
} satisfies GenerativeFamily<tf.LayersModel, PixelCnnConfig, tf.Tensor, TrainPixelCnnOptions, PixelCnnEvaluation>;
