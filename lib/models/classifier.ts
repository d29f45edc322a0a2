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
import { batches } from '../data/batches';
import { ImageDataset, loadMnist } from '../data/mnist';
import { loadModel, saveModel } from '../io';
import { outputDir } from '../viz/display';
import { answerKey } from '../answer_keys';
import { GenlabError } from '../errors';
import { softmaxCrossEntropy } from '../losses';
import { Random, rngFor } from '../random';
import { fit, History } from '../train';

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

/**
 * Seeded weight initialisers for a layer: He-normal before a ReLU (it keeps the
 * activations' variance from halving at every layer, which in a deep conv
 * autoencoder lets the signal fade until the decoder collapses to the background),
 * Glorot-uniform otherwise; biases start at zero.
 */
export function initializers(rng: Random, activation?: 'relu') {
  const seed = rng.nextSeed();
  return { kernelInitializer: activation === 'relu' ? tf.initializers.heNormal({ seed }) : tf.initializers.glorotUniform({ seed }), biasInitializer: 'zeros' as const };
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new GenlabError(`${what} must be a whole number ≥ 1, got ${value}.`);
  return value;
}

/** A classifier that maps images [N, ...inputShape] to logits [N, K]. */
export function createClassifier(config: ClassifierConfig = {}): tf.LayersModel {
  const architecture = config.architecture ?? 'cnn';
  const classes = positiveInteger(config.classes ?? 10, 'classes');
  const rng = rngFor(config.seed);
  const input = tf.input({ shape: config.inputShape ?? [28, 28, 1] });
  let h: tf.SymbolicTensor = input;
  if (architecture === 'softmax' || architecture === 'mlp') {
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    const hidden = architecture === 'mlp' ? (config.hiddenUnits ?? [256]) : [];
    for (const units of hidden) h = tf.layers.dense({ units: positiveInteger(units, 'hiddenUnits'), activation: 'relu', ...initializers(rng, 'relu') }).apply(h) as tf.SymbolicTensor;
  } else if (architecture === 'cnn') {
    for (const filters of config.filters ?? [16, 32]) {
      h = tf.layers.conv2d({ filters: positiveInteger(filters, 'filters'), kernelSize: 5, padding: 'same', activation: 'relu', ...initializers(rng, 'relu') }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
    }
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: positiveInteger(config.denseUnits ?? 128, 'denseUnits'), activation: 'relu', ...initializers(rng, 'relu') }).apply(h) as tf.SymbolicTensor;
  } else {
    throw new GenlabError(`architecture must be 'softmax', 'mlp' or 'cnn', got '${architecture}'.`);
  }
  const logits = tf.layers.dense({ units: classes, ...initializers(rng), name: 'logits' }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: `${architecture}_classifier` });
}

/**
 * A classifier on top of an encoder: x → encoder(x) → linear layer → logits.
 * The encoder is reused, not copied: its (pretrained) weights are the classifier's,
 * and training the classifier fine-tunes them.
 */
export const classifierFromEncoder = answerKey('createFineTuneClassifier', function classifierFromEncoder(encoder: tf.LayersModel, options: { classes?: number; seed?: number } = {}): tf.LayersModel {
  const rng = rngFor(options.seed);
  const input = tf.input({ shape: encoder.inputs[0].shape.slice(1) as number[] });
  const code = encoder.apply(input) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: positiveInteger(options.classes ?? 10, 'classes'), ...initializers(rng), name: 'logits' }).apply(code) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'encoder_classifier' });
});

export interface TrainClassifierOptions {
  steps: number;
  batchSize?: number;
  /** Adam's step size (default 1e-3). */
  learningRate?: number;
  /** Seed of the batch order. */
  seed?: number;
  /** The loss per example, (labels [N], logits [N, K]) → [N]; default softmaxCrossEntropy. */
  loss?: (labels: tf.Tensor, logits: tf.Tensor) => tf.Tensor;
  label?: string;
  quiet?: boolean;
}

/**
 * Trains with Adam on mini-batches of (images, labels), minimising the mean loss;
 * records the loss and the batch accuracy. Returns the history (`plotHistory` it).
 */
export async function trainClassifier(model: tf.LayersModel, images: tf.Tensor, labels: tf.Tensor, options: TrainClassifierOptions): Promise<History> {
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  const loss = options.loss ?? softmaxCrossEntropy;
  const stream = batches(images, labels, { batchSize: Math.min(options.batchSize ?? 64, images.shape[0]), seed: options.seed ?? 0 });
  try {
    return await fit({
      steps: options.steps,
      label: options.label ?? model.name,
      quiet: options.quiet,
      step: () => {
        const { x, y } = stream.next().value;
        let logits!: tf.Tensor;
        const value = optimizer.minimize(() => {
          logits = tf.keep(model.apply(x, { training: true }) as tf.Tensor);
          return loss(y!, logits).mean() as tf.Scalar;
        }, true)!;
        const batchAccuracy = logits.argMax(1).equal(y!).toFloat().mean() as tf.Scalar;
        logits.dispose(); // kept out of minimize's scope for the accuracy; no tidy owns it now
        return { loss: value, accuracy: batchAccuracy };
      },
    });
  } finally {
    optimizer.dispose();
  }
}

/** The predicted class of each image, argmax_k ℓ_k, computed in batches. */
export function predictClasses(model: tf.LayersModel, images: tf.Tensor, batchSize = 1000): Int32Array {
  const n = images.shape[0];
  const out = new Int32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const predicted = tf.tidy(() => (model.predict(images.slice(start, size)) as tf.Tensor).argMax(1).dataSync());
    out.set(predicted, start);
  }
  return out;
}

/**
 * The activations of the layer just before the output (the CNN's 128 ReLU units),
 * [N, units], in batches: the features a Fréchet distance compares.
 */
export function penultimateFeatures(model: tf.LayersModel, images: tf.Tensor, batchSize = 1000): tf.Tensor2D {
  const layers = model.layers;
  if (layers.length < 3) throw new GenlabError(`penultimateFeatures needs a classifier with a hidden layer before its output; '${model.name}' has none.`);
  const features = tf.model({ inputs: model.inputs, outputs: layers[layers.length - 2].output as tf.SymbolicTensor });
  const parts: tf.Tensor[] = [];
  for (let start = 0; start < images.shape[0]; start += batchSize) {
    parts.push(tf.tidy(() => (features.predict(images.slice(start, Math.min(batchSize, images.shape[0] - start))) as tf.Tensor).reshape([-1, (features.outputs[0].shape as number[]).slice(1).reduce((a, b) => a * b, 1)])));
  }
  const all = tf.concat(parts) as tf.Tensor2D;
  parts.forEach((p) => p.dispose());
  return all;
}

/**
 * A CNN trained once on MNIST to judge generated digits: loaded from `dir` when a
 * previous run saved it there, otherwise trained for `steps` (default 1500: ≈ 98.8%
 * test accuracy, about 2½ minutes with wasm) and saved for next time. The default
 * folder, genlab-output/models/mnist-cnn-<steps>-steps-<N>-images under the working
 * folder, names the training budget, so a quick (smoke) run never stands in for a full one.
 */
export async function loadOrTrainMnistClassifier(options: { dir?: string; steps?: number; train?: ImageDataset; quiet?: boolean } = {}): Promise<tf.LayersModel> {
  const train = options.train ?? loadMnist().train;
  const steps = options.steps ?? 1500;
  const dir = options.dir ?? path.join(outputDir(), 'models', `mnist-cnn-${steps}-steps-${train.size}-images`);
  if (fs.existsSync(path.join(dir, 'model.json'))) return loadModel(dir);
  const model = createClassifier({ architecture: 'cnn', seed: 1 });
  await trainClassifier(model, train.images, train.labels, { steps, label: 'MNIST classifier (for judging samples)', quiet: options.quiet });
  await saveModel(model, dir);
  return model;
}
