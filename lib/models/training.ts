/**
 * The one training loop every model's `trainX` is built on (part of the kit: import it from ./kit).
 *
 * What a model brings is its step: given the round's optimizers, a source of mini-batches and a source of
 * seeds, take one gradient step and return its loss terms. Everything around the step is here, the same
 * for every model:
 *
 * - the optimizers: one Adam at `learningRate` unless the model (or the caller) brings its own, e.g. a
 *   GAN's pair; those the loop made it disposes after;
 * - the learning-rate schedule: with `finalLearningRate`, every optimizer follows a cosine from
 *   `learningRate` down to it over the run;
 * - the mini-batches: drawn without replacement from a permutation seeded by `seed`, capped at the
 *   dataset's size so a tiny (smoke) dataset still trains, each passed through the batch transform
 *   (`dynamicBinarization`: x_b ~ Bernoulli(x), the j-th batch drawn with seed `seeds.binarization + j`);
 * - the steps' own random draws (a VAE's ε, a GAN's z): the j-th seed asked for is `seeds.noise + j`, so
 *   one `seed` fixes the whole run and `seeds` pins a recipe's draws exactly;
 * - players taking k steps: a round may first run another player's step `inner.times` times, each on a
 *   batch of its own (a GAN's k − 1 extra discriminator steps);
 * - weight averaging: after each round, an exponential moving average of a network's weights
 *   (`average`), the copy a GAN samples from;
 * - `fit` doing the steps: tidy memory, the progress bar, the history, `onStep`.
 */
import * as tf from '@tensorflow/tfjs';
import { Batch, batches, binarizeStochastic } from '../data/batches';
import { GenlabError } from '../errors';
import { cosineSchedule, fit, History, setLearningRate, StepResult } from '../train';

/** The options every `trainX` takes. */
export interface TrainOptions {
  /** Gradient steps (rounds, for a GAN: generator steps) to take. */
  steps: number;
  batchSize?: number;
  /** The optimizers' step size (at the start, with a schedule). */
  learningRate?: number;
  /** A cosine schedule: the learning rate falls from `learningRate` to this by the last step (default: constant). */
  finalLearningRate?: number;
  /** Binarize each batch afresh, x_b ~ Bernoulli(x) (default false: the images are used as they are). */
  dynamicBinarization?: boolean;
  /** Seed of the batch order, and (unless `seeds` names them) of every draw the steps make. */
  seed?: number;
  /**
   * The first seed of each stream of draws: the j-th batch is binarized with `binarization + j` (default
   * `seed`), the steps' j-th draw of noise uses `noise + j` (default `seed + 1,000,000`).
   */
  seeds?: { binarization?: number; noise?: number };
  /** The progress bar's label. */
  label?: string;
  quiet?: boolean;
  /** Called after each step with its values (sample grids, checkpoints); may be async. */
  onStep?: (step: number, values: Record<string, number>) => void | Promise<void>;
}

/** What a round's step is given. */
export interface Round<O> {
  /** The optimizers (one Adam as `{ model }`, unless the loop was given others). */
  optimizers: O;
  /** The next mini-batch, transformed ({ x, y }, y where the loop has labels). */
  batch: () => Batch;
  /** The next seed of the steps' noise. */
  noiseSeed: () => number;
  /** The round's number, from 0. */
  index: number;
}

/** An exponential moving average of a network's weights: a copy of it, and the updates it has had. */
export interface WeightAverage {
  model: tf.LayersModel;
  steps: number;
}

/** The loop's plan: the data, the caller's options, the model's defaults and its step. */
export interface TrainingLoop<O extends object> {
  images: tf.Tensor;
  /** Labels drawn with the images (the classifier's, the conditional GAN's). */
  labels?: tf.Tensor;
  options: TrainOptions;
  /** What the model fills in where the options are silent. */
  defaults: { batchSize: number; learningRate: number; label: string };
  /** The optimizers, given (kept) or made from the learning rate (disposed after). Default one Adam, `{ model }`. */
  optimizers?: O | ((learningRate: number) => O);
  /**
   * Another player's step, run `times` times before each round's `step`. What it returns is disposed (tensors a
   * step kept with `tf.keep`, which a tidy would let live, included).
   */
  inner?: { times: number; step: (round: Round<O>) => tf.TensorContainer | void };
  /** The model's round: one gradient step (per player), returning its loss terms. */
  step: (round: Round<O>) => StepResult;
  /** After each round, move `average` towards `of`'s weights with this decay. */
  average?: { of: tf.LayersModel; into: WeightAverage; decay: number };
}

/** The default noise stream's offset from `seed`, so that batch order and noise never share a seed. */
const NOISE_SEED_OFFSET = 1_000_000;

/** Runs a model's training loop (see the module's comment); resolves to the `History`. */
export async function runTrainingLoop<O extends object = { model: tf.Optimizer }>(
  loop: TrainingLoop<O>,
): Promise<History> {
  const { images, options, defaults } = loop;
  const inner = loop.inner;
  if (inner && (!Number.isInteger(inner.times) || inner.times < 0))
    throw new GenlabError(`The inner player's steps per round must be a whole number ≥ 0, got ${inner.times}.`);
  const average = loop.average;
  if (average && !(average.decay > 0 && average.decay < 1))
    throw new GenlabError(`A weight average's decay β is between 0 and 1 (e.g. 0.999), got ${average.decay}.`);
  const learningRate = options.learningRate ?? defaults.learningRate;
  const made = loop.optimizers === undefined || typeof loop.optimizers === 'function';
  const optimizers: O =
    loop.optimizers === undefined
      ? ({ model: tf.train.adam(learningRate) } as unknown as O)
      : typeof loop.optimizers === 'function'
        ? loop.optimizers(learningRate)
        : loop.optimizers;
  const schedule =
    options.finalLearningRate === undefined
      ? undefined
      : cosineSchedule(learningRate, options.finalLearningRate, Math.max(1, options.steps));
  const seed = options.seed ?? 0;
  const stream = batches(images, loop.labels, {
    batchSize: Math.min(options.batchSize ?? defaults.batchSize, images.shape[0]),
    seed,
  });
  const binarizationSeed = options.seeds?.binarization ?? seed;
  let batchesDrawn = 0;
  const nextBatch = (): Batch => {
    const batch = stream.next().value;
    const j = batchesDrawn++;
    return options.dynamicBinarization ? { ...batch, x: binarizeStochastic(batch.x, binarizationSeed + j) } : batch;
  };
  const noiseSeed = options.seeds?.noise ?? seed + NOISE_SEED_OFFSET;
  let noiseDrawn = 0;
  try {
    return await fit({
      steps: options.steps,
      label: options.label ?? defaults.label,
      quiet: options.quiet,
      onStep: options.onStep,
      step: (index) => {
        if (schedule) for (const o of Object.values(optimizers) as tf.Optimizer[]) setLearningRate(o, schedule(index));
        const round: Round<O> = { optimizers, batch: nextBatch, noiseSeed: () => noiseSeed + noiseDrawn++, index };
        for (let t = 0; t < (inner?.times ?? 0); t++) tf.tidy(() => tf.dispose(inner!.step(round) ?? []));
        const result = loop.step(round);
        if (average) updateWeightAverage(average.into, average.of, average.decay);
        return result;
      },
    });
  } finally {
    if (made) for (const o of Object.values(optimizers) as tf.Optimizer[]) o.dispose();
  }
}

/**
 * A copy of `model` (same architecture and weights) for `updateWeightAverage` to move towards it. Averaging
 * a network's recent weights smooths the jumps of the last steps; a GAN's generator, whose samples jump from
 * step to step as the two players chase each other, draws cleaner images from its average (Yazıcı et al.
 * 2019, "The unusual effectiveness of averaging in GAN training").
 */
export async function createWeightAverage(model: tf.LayersModel): Promise<WeightAverage> {
  const copy = await tf.models.modelFromJSON({
    modelTopology: model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'],
  });
  copy.setWeights(model.getWeights());
  return { model: copy, steps: 0 };
}

/**
 * The average's step: w̄ ← β w̄ + (1 − β) w for every weight (batch norm's moving statistics included), with
 * β = min(decay, (1 + t) / (10 + t)) at the average's t-th step, so that the first steps' near-random
 * weights are soon forgotten (as TensorFlow's ExponentialMovingAverage does with num_updates).
 */
export function updateWeightAverage(average: WeightAverage, model: tf.LayersModel, decay: number): void {
  const beta = Math.min(decay, (1 + average.steps) / (10 + average.steps));
  tf.tidy(() => {
    const current = model.weights;
    average.model.weights.forEach((w, i) => {
      const v = w.read() as tf.Variable;
      v.assign(v.mul(beta).add((current[i].read() as tf.Tensor).mul(1 - beta)));
    });
  });
  average.steps++;
}
