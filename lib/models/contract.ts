/**
 * The model contract as a type. Every model file ends with
 *
 *   export const family = { name, create, trainStep, train, evaluate, [sample,] parts, fromParts }
 *     satisfies ModelFamily<…>;   // or GenerativeFamily<…>
 *
 * so the compiler, not a reviewer, checks that it keeps the contract kit.ts describes: the same argument
 * order for every verb, a seed wherever the verb draws at random, a training loop that resolves to a
 * `History`, an evaluation of plain numbers, and persistence as two verbs (its networks out, its networks
 * in) that `lib/pretrained.ts` saves and loads by, whatever the model is made of. A new model family (a
 * flow, a diffusion model) writes its `family` and is a row in `PRETRAINED` away from shipping weights.
 * test/lib/models/contract.test.ts shows the compiler refusing a family that breaks the contract.
 */
import type * as tf from '@tensorflow/tfjs';
import type { History, StepResult } from '../train';
import type { TrainOptions } from './training';

/**
 * An evaluation: named plain numbers, each a mean per example over the dataset, or a list of plain numbers
 * (one per class, as the judge's counts of each digit); never a tensor to dispose (an interface qualifies).
 */
export type Evaluation<E> = { [K in keyof E]: number | number[] };

/** A model's networks by name (encoder and decoder, generator and discriminator, or one `model`). */
export type Parts = Record<string, tf.LayersModel>;

/**
 * One model family's verbs. `M` is the model, `C` its config (with the `seed` that fixes every initial
 * weight), `D` what it trains on, `O` its training options (the kit's `TrainOptions` and its own), `E` what
 * `evaluate` returns, `ED` what it evaluates on (default `D`).
 *
 * The optimizers, the batch and the options of `trainStep` differ from family to family (a GAN has two
 * optimizers), so only the model first and loss terms out are fixed there.
 */
export interface ModelFamily<
  M,
  C extends { seed?: number },
  D,
  O extends TrainOptions,
  E extends Evaluation<E>,
  ED = D,
> {
  /** The model file's name in lib/index.ts (`vae`, `conditionalGan`). */
  readonly name: string;
  /** A new model; `config.seed` fixes every initial weight. */
  create: (config?: C) => M;
  /** One gradient step (for a GAN, one round) on one mini-batch; its loss terms, `fit`-ready. */
  trainStep: (model: M, optimizer: never, batch: never, options: never) => StepResult;
  /** The whole loop (the kit's `runTrainingLoop`); `options.seed` fixes the batches and every draw. */
  train: (model: M, data: D, options: O) => Promise<History>;
  /** The model's measures over a whole dataset, in batches. */
  evaluate: (model: M, data: ED, options: never) => E;
  /** The names of the networks `parts` gives, in order: the folders a saved model has. */
  readonly partNames: readonly string[];
  /** The networks to save, by name (`partNames`): the folders `saveModel` writes. */
  parts: (model: M) => Parts;
  /** The model again from its saved networks (and the config it was made with). */
  fromParts: (parts: Parts, config: C) => M;
}

/** A generative model's family: the contract plus `sample`, n images [n, 28, 28, 1] in [0, 1] from `seed`. */
export interface GenerativeFamily<
  M,
  C extends { seed?: number },
  D,
  O extends TrainOptions,
  E extends Evaluation<E>,
  ED = D,
> extends ModelFamily<M, C, D, O, E, ED> {
  sample: (model: M, n: number, seed: number, options: never) => tf.Tensor4D | Promise<tf.Tensor4D>;
}
