/**
 * Classifiers p(y | x) for 28×28 images: the supervised side of lab 1, and the head
 * that fine-tunes a pretrained encoder in lab 2.
 *
 * Every architecture outputs logits ℓ ∈ R^K (no softmax layer): the loss applies
 * the softmax itself, p(y = k | x) = exp(ℓ_k) / Σ_j exp(ℓ_j), which is stabler.
 *
 * - 'softmax': softmax regression, ℓ = W x + b (7,850 parameters);
 * - 'mlp': one or more ReLU hidden layers, then a linear output;
 * - 'cnn': two 5×5 conv + 2×2 max-pool stages (16 and 32 filters), a 128-unit
 *   ReLU layer, a linear output — LeNet's shape, ≈ 99% on MNIST.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Batch } from '../data/batches';
import { ImageDataset, loadMnist } from '../data/mnist';
import { loadModel, saveModel } from '../io';
import { outputDir } from '../viz/display';
import { answerKey } from '../answer_keys';
import { GenlabError } from '../errors';
import { softmaxCrossEntropy } from '../losses';
import { rngFor } from '../random';
import { History } from '../train';
import {
  concatOverBatches,
  IMAGE_SHAPE,
  initializers,
  ModelFamily,
  Parts,
  positiveInteger,
  runTrainingLoop,
  sumOverBatches,
  TrainOptions,
} from './kit';

export type ClassifierArchitecture = 'softmax' | 'mlp' | 'cnn';

export interface ClassifierConfig {
  architecture?: ClassifierArchitecture;
  /** Number of classes K (default 10). */
  classes?: number;
  /** Input image shape (default [28, 28, 1]). */
  inputShape?: number[];
  /** 'mlp': hidden layer sizes (default [256]). */
  hiddenUnits?: number[];
  /** 'cnn': filters of the two conv stages (default [16, 32]). */
  filters?: [number, number];
  /** 'cnn': units of the dense layer after the convs (default 128). */
  denseUnits?: number;
  /** Seed for the weight initialisers. */
  seed?: number;
}

/** A classifier that maps images [N, ...inputShape] to logits [N, K]. */
export function createClassifier(config: ClassifierConfig = {}): tf.LayersModel {
  const architecture = config.architecture ?? 'cnn';
  const classes = positiveInteger(config.classes ?? 10, 'classes');
  const rng = rngFor(config.seed);
  const input = tf.input({ shape: config.inputShape ?? [...IMAGE_SHAPE] });
  let h: tf.SymbolicTensor = input;
  if (architecture === 'softmax' || architecture === 'mlp') {
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    const hidden = architecture === 'mlp' ? (config.hiddenUnits ?? [256]) : [];
    for (const units of hidden)
      h = tf.layers
        .dense({ units: positiveInteger(units, 'hiddenUnits'), activation: 'relu', ...initializers(rng, 'relu') })
        .apply(h) as tf.SymbolicTensor;
  } else if (architecture === 'cnn') {
    for (const filters of config.filters ?? [16, 32]) {
      h = tf.layers
        .conv2d({
          filters: positiveInteger(filters, 'filters'),
          kernelSize: 5,
          padding: 'same',
          activation: 'relu',
          ...initializers(rng, 'relu'),
        })
        .apply(h) as tf.SymbolicTensor;
      h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
    }
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    h = tf.layers
      .dense({
        units: positiveInteger(config.denseUnits ?? 128, 'denseUnits'),
        activation: 'relu',
        ...initializers(rng, 'relu'),
      })
      .apply(h) as tf.SymbolicTensor;
  } else {
    throw new GenlabError(`architecture must be 'softmax', 'mlp' or 'cnn', got '${architecture}'.`);
  }
  const logits = tf.layers
    .dense({ units: classes, ...initializers(rng), name: 'logits' })
    .apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: `${architecture}_classifier` });
}

/**
 * A classifier on top of an encoder: x → encoder(x) → linear layer → logits.
 * The encoder is reused, not copied: its (pretrained) weights are the classifier's,
 * and training the classifier fine-tunes them.
 */
export const classifierFromEncoder = answerKey(
  'createFineTuneClassifier',
  function classifierFromEncoder(
    encoder: tf.LayersModel,
    options: { classes?: number; seed?: number } = {},
  ): tf.LayersModel {
    const rng = rngFor(options.seed);
    const input = tf.input({ shape: encoder.inputs[0].shape.slice(1) as number[] });
    const code = encoder.apply(input) as tf.SymbolicTensor;
    const logits = tf.layers
      .dense({ units: positiveInteger(options.classes ?? 10, 'classes'), ...initializers(rng), name: 'logits' })
      .apply(code) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: logits, name: 'encoder_classifier' });
  },
);

/** Images with their class labels: what the classifier learns from (each split `loadMnist()` returns is one). */
export interface LabelledImages {
  /** [N, 28, 28, 1] (or the classifier's input shape). */
  images: tf.Tensor;
  /** int32 [N], class indices. */
  labels: tf.Tensor;
}

/** The loss per example, (labels [N], logits [N, K]) → [N]. */
export type ClassificationLoss = (labels: tf.Tensor, logits: tf.Tensor) => tf.Tensor;

export interface TrainClassifierOptions extends TrainOptions {
  /** The loss per example; default softmaxCrossEntropy. */
  loss?: ClassificationLoss;
}

/**
 * One Adam step on a labelled mini-batch ({ x, y }, as `batches(images, labels, …)` yields), minimising the
 * mean loss. Returns the loss and the batch's accuracy.
 */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  batch: Pick<Batch, 'x' | 'y'>,
  options: { loss?: ClassificationLoss } = {},
): { loss: tf.Scalar; accuracy: tf.Scalar } {
  const { x, y } = batch;
  if (!y)
    throw new GenlabError(
      'classifier.trainStep needs labels: pass a batch drawn with them, batches(images, labels, { batchSize }).',
    );
  const loss = options.loss ?? softmaxCrossEntropy;
  let logits!: tf.Tensor;
  const value = optimizer.minimize(() => {
    logits = tf.keep(model.apply(x, { training: true }) as tf.Tensor);
    return loss(y, logits).mean() as tf.Scalar;
  }, true)!;
  const accuracy = tf.tidy(() => logits.argMax(1).equal(y).toFloat().mean() as tf.Scalar);
  logits.dispose(); // kept out of minimize's scope for the accuracy; no tidy owns it now
  return { loss: value, accuracy };
}

/**
 * Trains with Adam on mini-batches of labelled images, minimising the mean loss; records the loss and
 * the batch accuracy. Returns the history (`plotHistory` it). The older form
 * `trainClassifier(model, images, labels, options)` still works.
 */
export async function trainClassifier(
  model: tf.LayersModel,
  data: LabelledImages,
  options: TrainClassifierOptions,
): Promise<History>;
/** @deprecated The form before the model contract: pass `{ images, labels }` as the second argument instead. */
export async function trainClassifier(
  model: tf.LayersModel,
  images: tf.Tensor,
  labels: tf.Tensor,
  options: TrainClassifierOptions,
): Promise<History>;
export async function trainClassifier(
  model: tf.LayersModel,
  data: LabelledImages | tf.Tensor,
  third: TrainClassifierOptions | tf.Tensor,
  fourth?: TrainClassifierOptions,
): Promise<History> {
  const { images, labels } = data instanceof tf.Tensor ? { images: data, labels: third as tf.Tensor } : data;
  const options = (data instanceof tf.Tensor ? fourth : third) as TrainClassifierOptions;
  return runTrainingLoop({
    images,
    labels,
    options,
    defaults: { batchSize: 64, learningRate: 1e-3, label: model.name },
    step: (round) => trainStep(model, round.optimizers.model, round.batch(), options),
  });
}

export interface ClassifierEvaluation {
  /** Mean loss per example (cross-entropy, nats, unless another loss is given). */
  loss: number;
  /** Fraction of the images classified correctly. */
  accuracy: number;
}

/** The mean loss and the accuracy over a labelled dataset, in batches (inference mode). */
export function evaluate(
  model: tf.LayersModel,
  data: LabelledImages,
  options: { batchSize?: number; loss?: ClassificationLoss } = {},
): ClassifierEvaluation {
  const loss = options.loss ?? softmaxCrossEntropy;
  const n = data.images.shape[0];
  if (data.labels.shape[0] !== n)
    throw new GenlabError(`classifier.evaluate: ${n} images but ${data.labels.shape[0]} labels; they must match.`);
  const batchSize = options.batchSize ?? 1000;
  const [totalLoss, correct] = sumOverBatches(data.images, batchSize, (x, index) => {
    const y = data.labels.slice(index * batchSize, x.shape[0]);
    const logits = model.predict(x) as tf.Tensor;
    return [loss(y, logits), logits.argMax(1).equal(y).toFloat()];
  });
  return { loss: totalLoss / n, accuracy: correct / n };
}

/** The predicted class of each image, argmax_k ℓ_k, computed in batches. */
export function predictClasses(model: tf.LayersModel, images: tf.Tensor, batchSize = 1000): Int32Array {
  const predicted = concatOverBatches(images, batchSize, (x) => (model.predict(x) as tf.Tensor).argMax(1));
  const out = Int32Array.from(predicted.dataSync());
  predicted.dispose();
  return out;
}

/**
 * The activations of the layer just before the output (the CNN's 128 ReLU units),
 * [N, units], in batches: the features a Fréchet distance compares.
 */
export function penultimateFeatures(model: tf.LayersModel, images: tf.Tensor, batchSize = 1000): tf.Tensor2D {
  const layers = model.layers;
  if (layers.length < 3)
    throw new GenlabError(
      `penultimateFeatures needs a classifier with a hidden layer before its output; '${model.name}' has none.`,
    );
  const features = tf.model({ inputs: model.inputs, outputs: layers[layers.length - 2].output as tf.SymbolicTensor });
  return concatOverBatches(images, batchSize, (x) => {
    const out = features.predict(x) as tf.Tensor;
    return out.reshape([x.shape[0], -1]);
  }) as tf.Tensor2D;
}

/**
 * A CNN trained once on MNIST to judge generated digits: loaded from `dir` when a
 * previous run saved it there, otherwise trained for `steps` (default 1500: ≈ 98.8%
 * test accuracy, about 2½ minutes with wasm) and saved for next time. The default
 * folder, genlab-output/models/mnist-cnn-<steps>-steps-<N>-images under the working
 * folder, names the training budget, so a quick (smoke) run never stands in for a full one.
 */
export async function loadOrTrainMnistClassifier(
  options: { dir?: string; steps?: number; train?: ImageDataset; quiet?: boolean } = {},
): Promise<tf.LayersModel> {
  const train = options.train ?? loadMnist().train;
  const steps = options.steps ?? 1500;
  const dir = options.dir ?? path.join(outputDir(), 'models', `mnist-cnn-${steps}-steps-${train.size}-images`);
  if (fs.existsSync(path.join(dir, 'model.json'))) return loadModel(dir);
  const model = createClassifier({ architecture: 'cnn', seed: 1 });
  await trainClassifier(model, train, { steps, label: 'MNIST classifier (for judging samples)', quiet: options.quiet });
  await saveModel(model, dir);
  return model;
}

/** The classifier as a model family (kit.ts's contract, checked by the compiler): not generative, one network. */
export const family = {
  name: 'classifier',
  create: createClassifier,
  trainStep,
  train: trainClassifier,
  evaluate,
  partNames: ['model'],
  parts: (model: tf.LayersModel) => ({ model }),
  fromParts: (parts: Parts) => parts.model,
} satisfies ModelFamily<tf.LayersModel, ClassifierConfig, LabelledImages, TrainClassifierOptions, ClassifierEvaluation>;
