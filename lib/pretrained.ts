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
import * as classifier from './models/classifier';
import * as conditionalGan from './models/conditional_gan';
import { judgeSamples } from './judge';
import { Gan, GanArchitecture, sample } from './models/gan';
import * as pixelcnn from './models/pixelcnn';
import * as vae from './models/vae';
import type { Vae, VaeArchitecture } from './models/vae';

/** What `loadPretrained` gives for each name. */
export interface PretrainedModels {
  'vae-mlp': Vae;
  pixelcnn: tf.LayersModel;
  dcgan: Gan;
  'conditional-dcgan': conditionalGan.ConditionalGan;
  'mnist-judge': tf.LayersModel;
}
export type PretrainedName = keyof PretrainedModels;

/** The networks (folders) each model is saved as. */
export const PRETRAINED_PARTS: Record<PretrainedName, readonly string[]> = {
  'vae-mlp': ['encoder', 'decoder'],
  pixelcnn: ['model'],
  dcgan: ['generator', 'discriminator'],
  'conditional-dcgan': ['generator', 'discriminator'],
  'mnist-judge': ['model'],
};

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
  const config = entry.config;
  switch (name as PretrainedName) {
    case 'vae-mlp':
      return {
        encoder: parts.encoder,
        decoder: parts.decoder,
        latentDim: parts.decoder.inputs[0].shape[1] as number,
        architecture: (config.architecture as VaeArchitecture | undefined) ?? 'mlp',
      } satisfies Vae as PretrainedModels[N];
    case 'dcgan':
      return {
        generator: parts.generator,
        discriminator: parts.discriminator,
        noiseDim: parts.generator.inputs[0].shape[1] as number,
        noise: 'uniform',
        architecture: (config.architecture as GanArchitecture | undefined) ?? 'dcgan',
      } satisfies Gan as PretrainedModels[N];
    case 'conditional-dcgan':
      return {
        generator: parts.generator,
        discriminator: parts.discriminator,
        noiseDim: parts.generator.inputs[0].shape[1] as number,
        classes: parts.generator.inputs[1].shape[1] as number,
      } satisfies conditionalGan.ConditionalGan as PretrainedModels[N];
    default:
      return parts.model as PretrainedModels[N];
  }
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
    switch (name) {
      case 'vae-mlp': {
        const x = binarizeStochastic(test.images, options.seed);
        const e = vae.evaluate(model as Vae, x, { seed: 7 });
        x.dispose();
        return { 'test −ELBO (nats)': e.negativeElbo };
      }
      case 'pixelcnn': {
        const x = binarizeStochastic(test.images, options.seed);
        const e = pixelcnn.evaluate(model as tf.LayersModel, x, { batchSize: 100 });
        x.dispose();
        return { 'test NLL (nats)': e.negativeLogLikelihood };
      }
      case 'dcgan': {
        const judge = await loadPretrained('mnist-judge', options.dir);
        const samples = sample(model as Gan, options.images, options.seed);
        const q = judgeSamples(judge, samples, test.images);
        samples.dispose();
        judge.dispose();
        return {
          'digits covered (of 10)': q.modesCovered,
          'mean judge confidence': q.meanConfidence,
          'Fréchet distance to test images': q.frechetDistance,
        };
      }
      case 'conditional-dcgan': {
        const judge = await loadPretrained('mnist-judge', options.dir);
        const q = conditionalGan.evaluate(model as conditionalGan.ConditionalGan, test.images, {
          classifier: judge,
          samples: options.images,
          seed: options.seed,
        });
        judge.dispose();
        return {
          'digits covered (of 10)': q.modesCovered,
          'mean judge confidence': q.meanConfidence,
          'Fréchet distance to test images': q.frechetDistance,
          'digit asked for, as the judge reads it (%)': 100 * q.labelAgreement,
        };
      }
      case 'mnist-judge': {
        return { 'test accuracy (%)': 100 * classifier.evaluate(model as tf.LayersModel, test).accuracy };
      }
    }
  } finally {
    test.images.dispose();
    test.labels.dispose();
  }
}
