/**
 * Pretrained models that ship with the course, in `pretrained/` (the tfjs layers format, one
 * folder per network), described by `pretrained/manifest.json`: what each model is, the
 * figures it reached, the seed, steps and commit that trained it, and a SHA-256 for every
 * file. `scripts/train_pretrained.ts` (`npm run train:pretrained`) writes both.
 *
 * `loadPretrained(name)` verifies every file against its checksum before it loads anything,
 * reads nothing but those files (no network), and returns the model in the form the lab's
 * own code uses, so a student can sample from it, evaluate it, or train it further:
 *
 *   const vae = await loadPretrained('vae-mlp');          // a vae.Vae
 *   const model = await loadPretrained('pixelcnn');       // a tf.LayersModel (pixelcnn.*)
 *   const dcgan = await loadPretrained('dcgan');          // a gan.Gan (its generator: the weight average)
 *   const cgan = await loadPretrained('conditional-dcgan'); // a conditionalGan.ConditionalGan
 *   const judge = await loadPretrained('mnist-judge');    // the CNN that judges GAN samples
 *   const model = await loadPretrained('diffusion');      // a diffusion.Diffusion (its network: the weight average)
 *   const model = await loadPretrained('flow');           // a flow.Flow (its networks: the weight average)
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { binarizeStochastic } from './data/batches';
import { loadMnist } from './data/mnist';
import { GenlabError } from './errors';
import { loadModel } from './io';
import './layers/masked_conv'; // registers MaskedConv2D for deserialisation
import type { ImageDataset } from './data/mnist';
import type { SampleQuality } from './judge';
import * as classifierModels from './models/classifier';
import * as conditionalGan from './models/conditional_gan';
import * as diffusion from './models/diffusion';
import * as flow from './models/flow';
import type { Parts } from './models/contract';
import * as gan from './models/gan';
import type { Gan, JudgeOptions } from './models/gan';
import * as pixelcnn from './models/pixelcnn';
import * as vae from './models/vae';
import type { Vae } from './models/vae';
import { DIFFUSION_RECIPE, FLOW_RECIPE } from './recipes';

/** What `loadPretrained` gives for each name. */
export interface PretrainedModels {
  'vae-mlp': Vae;
  pixelcnn: tf.LayersModel;
  dcgan: Gan;
  'conditional-dcgan': conditionalGan.ConditionalGan;
  'mnist-judge': tf.LayersModel;
  diffusion: diffusion.Diffusion;
  flow: flow.Flow;
}
export type PretrainedName = keyof PretrainedModels;

/** The test images a pretrained model is measured on, and the seed of any draw the measure makes. */
interface Measuring {
  test: ImageDataset;
  seed: number;
  /** The judge of generated samples (`mnist-judge`), loaded from the same folder. */
  judge: () => Promise<tf.LayersModel>;
}

/**
 * One shipped model: its family (whose networks, saved by `parts`, come back through `fromParts`) and how it is
 * measured, the figures the manifest records and a test recomputes.
 */
interface PretrainedRow<M> {
  family: { partNames: readonly string[]; fromParts: (parts: Parts, config: never) => M };
  measure: (model: M, on: Measuring) => Promise<Record<string, number>>;
}

/** A likelihood model's figure: its evaluation in nats on the test images, binarized with the measure's seed. */
function natsOnBinarizedTest<M>(figure: string, nats: (model: M, x: tf.Tensor) => number) {
  return async (model: M, { test, seed }: Measuring) => {
    const x = binarizeStochastic(test.images, seed);
    try {
      return { [figure]: nats(model, x) };
    } finally {
      x.dispose();
    }
  };
}

/** A sampler's figures: the shipped judge's measures of as many samples as there are test images. */
function judgedOnTest<M, Q extends SampleQuality>(
  evaluate: (model: M, reference: tf.Tensor, options: JudgeOptions) => Q | Promise<Q>,
  more: (q: Q) => Record<string, number> = () => ({}),
) {
  return async (model: M, { test, seed, judge }: Measuring) => {
    const classifier = await judge();
    try {
      const q = await evaluate(model, test.images, { classifier, samples: test.size, seed });
      return {
        'digits covered (of 10)': q.modesCovered,
        'mean judge confidence': q.meanConfidence,
        'Fréchet distance to test images': q.frechetDistance,
        ...more(q),
      };
    } finally {
      classifier.dispose();
    }
  };
}

/**
 * How the shipped diffusion model is sampled, and measured: DDIM in the lab's 20 steps, at guidance w = 1.5 rather
 * than the lab's 3. Trained longer, the model needs less push towards its label, and guidance trades diversity for
 * confidence: on 2,000 samples against 2,000 test digits, w = 1 / 1.5 / 2 / 3 gave judge confidence
 * 0.957 / 0.989 / 0.996 / 0.999 and Fréchet distance 5.48 / 7.01 / 12.27 / 20.96 (on 10,000 at w = 3: 0.999 and 13.91).
 */
export const PRETRAINED_DIFFUSION_SAMPLING = Object.freeze({ steps: DIFFUSION_RECIPE.sampling.steps, guidance: 1.5 });

/** The shipped models, one row each: a new model family ships weights by adding its row (and its plan in train:pretrained). */
const PRETRAINED: { [N in PretrainedName]: PretrainedRow<PretrainedModels[N]> } = {
  'vae-mlp': {
    family: vae.family,
    measure: natsOnBinarizedTest('test −ELBO (nats)', (model, x) => vae.evaluate(model, x, { seed: 7 }).negativeElbo),
  },
  pixelcnn: {
    family: pixelcnn.family,
    measure: natsOnBinarizedTest(
      'test NLL (nats)',
      (model, x) => pixelcnn.evaluate(model, x, { batchSize: 100 }).negativeLogLikelihood,
    ),
  },
  dcgan: { family: gan.family, measure: judgedOnTest(gan.evaluate) },
  'conditional-dcgan': {
    family: conditionalGan.family,
    measure: judgedOnTest(conditionalGan.evaluate, (q) => ({
      'digit asked for, as the judge reads it (%)': 100 * q.labelAgreement,
    })),
  },
  'mnist-judge': {
    family: classifierModels.family,
    measure: async (model, { test }) => ({
      'test accuracy (%)': 100 * classifierModels.evaluate(model, test).accuracy,
    }),
  },
  diffusion: {
    family: diffusion.family,
    measure: judgedOnTest(
      (model, reference, options) =>
        diffusion.judge(model, reference, { ...options, ...PRETRAINED_DIFFUSION_SAMPLING }),
      (q) => ({ 'digit asked for, as the judge reads it (%)': 100 * q.labelAgreement }),
    ),
  },
  flow: {
    family: flow.family,
    // Lab 6's measure: the 8-bit test images dequantized with the measure's seed, in the recipe's batches.
    measure: async (model, { test, seed }) => ({
      'test bits/dim': flow.evaluate(model, test.images, { batchSize: FLOW_RECIPE.evaluation.batchSize, seed })
        .bitsPerDim,
    }),
  },
};

/** The networks (folders) each model is saved as: its family's parts. */
export const PRETRAINED_PARTS = Object.fromEntries(
  Object.entries(PRETRAINED).map(([name, row]) => [name, row.family.partNames]),
) as Record<PretrainedName, readonly string[]>;

/** Every file `name` is saved as, relative to pretrained/: model.json and weights.bin of each network. */
export function pretrainedFiles(name: PretrainedName): string[] {
  return PRETRAINED_PARTS[name].flatMap((part) => [`${name}/${part}/model.json`, `${name}/${part}/weights.bin`]);
}

export interface PretrainedEntry {
  /** The lab it belongs to ('03-vae'). */
  lab: string;
  description: string;
  /** The config it was created with (createVae, createPixelCnn, createGan, createClassifier). */
  config: Record<string, unknown>;
  /** Every file, relative to pretrained/, with its SHA-256 (hex). */
  files: Record<string, string>;
  /** The figures it reached on the whole test set, by name, with the command that measured them. */
  figures: Record<string, number>;
  /**
   * A figure measured on a small held-out set that a test recomputes (`test/lib/pretrained.test.ts`):
   * `images` test images from the start of the MNIST test set, `seed` for any randomness.
   */
  check: { figure: string; value: number; images: number; seed: number; tolerance: number };
  training: {
    steps: number;
    seed: number;
    seconds: number;
    backend: string;
    /** The commit whose code trained it (with "+changes" when the tree was not clean). */
    commit: string;
    date: string;
    command: string;
    options: Record<string, unknown>;
  };
}

export interface PretrainedManifest {
  models: Partial<Record<PretrainedName, PretrainedEntry>>;
}

/** The folder the weights ship in: `pretrained/` at the package's root (beside dist/). */
export function pretrainedDir(): string {
  return path.resolve(__dirname, '..', '..', 'pretrained');
}

export function readManifest(dir = pretrainedDir()): PretrainedManifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file))
    throw new GenlabError(
      `There is no ${file}: the pretrained models ship with the course in pretrained/ (restore it with \`git checkout pretrained/\`, or train them with \`npm run train:pretrained\`).`,
    );
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as PretrainedManifest;
  } catch (err) {
    throw new GenlabError(
      `${file} is not valid JSON (${(err as Error).message}): restore it with \`git checkout pretrained/\`.`,
    );
  }
}

export const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The manifest's entry for `name`, or a sentence naming the models there are. */
export function pretrainedInfo(name: string, dir = pretrainedDir()): PretrainedEntry {
  const manifest = readManifest(dir);
  const entry = (manifest.models as Record<string, PretrainedEntry | undefined>)[name];
  if (!entry) {
    const known = Object.keys(manifest.models);
    throw new GenlabError(
      `There is no pretrained model named '${name}'; there ${known.length === 1 ? 'is' : 'are'}: ${known.map((k) => `'${k}'`).join(', ') || 'none'}.`,
    );
  }
  return entry;
}

/** Checks every file of `name` against the manifest's SHA-256; throws a sentence naming the first that differs. */
export function verifyPretrained(name: PretrainedName, dir = pretrainedDir()): PretrainedEntry {
  const entry = pretrainedInfo(name, dir);
  for (const [relative, expected] of Object.entries(entry.files)) {
    const file = path.join(dir, relative);
    if (!fs.existsSync(file))
      throw new GenlabError(
        `The pretrained model '${name}' is missing ${file}: restore it with \`git checkout pretrained/\`.`,
      );
    const actual = sha256(file);
    if (actual !== expected)
      throw new GenlabError(
        `${file} does not match its checksum in pretrained/manifest.json (SHA-256 ${actual.slice(0, 12)}…, expected ${expected.slice(0, 12)}…): the file is damaged or was changed. Restore it with \`git checkout pretrained/\`.`,
      );
  }
  for (const file of pretrainedFiles(name))
    if (!entry.files[file])
      throw new GenlabError(
        `pretrained/manifest.json lists no checksum for ${file}: retrain it with \`npm run train:pretrained -- ${name}\`.`,
      );
  return entry;
}

/**
 * Loads the pretrained model `name` after checking every file's SHA-256 against the manifest,
 * offline, on whatever backend `init()` chose. Each call gives fresh weights: train them further
 * and the shipped files stay as they are.
 */
export async function loadPretrained<N extends PretrainedName>(
  name: N,
  dir = pretrainedDir(),
): Promise<PretrainedModels[N]> {
  const known = Object.keys(PRETRAINED_PARTS);
  if (!known.includes(name))
    throw new GenlabError(
      `There is no pretrained model named '${name}'; there are: ${known.map((k) => `'${k}'`).join(', ')}.`,
    );
  const entry = verifyPretrained(name, dir);
  const parts: Record<string, tf.LayersModel> = {};
  for (const part of PRETRAINED_PARTS[name]) parts[part] = await loadModel(path.join(dir, name, part));
  const row = PRETRAINED[name] as PretrainedRow<PretrainedModels[N]>;
  return row.family.fromParts(parts, entry.config as never);
}

/**
 * The figure `loadPretrained(name)`'s model is checked by: measured on the first `images` images of the
 * MNIST test set (binarized with `seed` where the model is binary), the same way for the manifest's
 * whole-test-set figures (`images` = 10,000) and for the test that reloads every checkpoint.
 */
export async function measurePretrained(
  name: PretrainedName,
  model: PretrainedModels[PretrainedName],
  options: { images: number; seed: number; dir?: string },
): Promise<Record<string, number>> {
  const { test } = loadMnist({ limit: { train: 1, test: options.images } });
  try {
    const row = PRETRAINED[name] as PretrainedRow<PretrainedModels[PretrainedName]>;
    return await row.measure(model, {
      test,
      seed: options.seed,
      judge: () => loadPretrained('mnist-judge', options.dir),
    });
  } finally {
    test.images.dispose();
    test.labels.dispose();
  }
}
