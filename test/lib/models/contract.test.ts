/**
 * The model contract (lib/models/contract.ts): the compiler refuses a model family that breaks it, every model
 * file has a family that keeps it, and each family's verbs do what the contract says when run the way a lab
 * runs them (trained, evaluated, sampled, its seed fixing every draw, its networks saved and loaded back).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import * as ts from 'typescript';
import { projectRoot } from '../../../jupyter/environment';
import { init } from '../../../lib/backend';
import { binarize } from '../../../lib/data/batches';
import { loadMnist } from '../../../lib/data/mnist';
import * as genlab from '../../../lib/index';
import { loadModel, saveModel } from '../../../lib/io';
import * as autoencoder from '../../../lib/models/autoencoder';
import * as classifier from '../../../lib/models/classifier';
import * as conditionalGan from '../../../lib/models/conditional_gan';
import * as flow from '../../../lib/models/flow';
import * as diffusion from '../../../lib/models/diffusion';
import * as gan from '../../../lib/models/gan';
import * as pixelcnn from '../../../lib/models/pixelcnn';
import * as vae from '../../../lib/models/vae';
import { maxAbsDiff, tempDir } from '../../helpers';

const ROOT = projectRoot();
const MODELS = path.join(ROOT, 'lib', 'models');

/**
 * Type-checks `source` as if it were a file in lib/models/ (so it imports the kit as a model file does), with the
 * project's compiler options; returns each error as the line it is on, then its message.
 */
function typeErrors(source: string): string[] {
  const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const file = path.join(MODELS, '__contract_fixture__.ts');
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    path.resolve(name) === file ? ts.createSourceFile(name, source, language, true) : read(name, language, ...rest);
  const exists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || exists(name);
  const program = ts.createProgram([file], { ...options, noEmit: true }, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName && path.resolve(d.file.fileName) === file)
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${source.split('\n')[line].trim()} :: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
}

/** A small model family written as a new one would be, with `change` applied to one of its lines. */
function fixture(change: (lines: Record<string, string>) => void = () => {}): string {
  const lines: Record<string, string> = {
    create: 'create: (config: { seed?: number } = {}) => newModel(config.seed),',
    trainStep:
      'trainStep: (model: Model, optimizer: tf.Optimizer, batch: tf.Tensor) => ({ loss: step(model, optimizer, batch) }),',
    train: 'train: (model: Model, images: tf.Tensor, options: TrainOptions) => trainModel(model, images, options),',
    evaluate: 'evaluate: (model: Model, images: tf.Tensor) => ({ negativeLogLikelihood: nll(model, images) }),',
    sample: 'sample: (model: Model, n: number, seed: number) => draw(model, n, seed),',
    partNames: "partNames: ['model'],",
    parts: 'parts: (model: Model) => ({ model: model.network }),',
    fromParts: 'fromParts: (parts: Parts) => ({ network: parts.model }),',
  };
  change(lines);
  return `
import * as tf from '@tensorflow/tfjs';
import type { History } from '../train';
import type { GenerativeFamily, Parts, TrainOptions } from './kit';
interface Model { network: tf.LayersModel }
declare function newModel(seed?: number): Model;
declare function step(model: Model, optimizer: tf.Optimizer, batch: tf.Tensor): tf.Scalar;
declare function trainModel(model: Model, images: tf.Tensor, options: TrainOptions): Promise<History>;
declare function nll(model: Model, images: tf.Tensor): number;
declare function draw(model: Model, n: number, seed: number): tf.Tensor4D;
export const family = {
  name: 'flow',
  ${Object.values(lines).join('\n  ')}
} satisfies GenerativeFamily<Model, { seed?: number }, tf.Tensor, TrainOptions, { negativeLogLikelihood: number }>;
`;
}

describe('the model contract, as a type the compiler checks', function () {
  this.timeout(120000);

  it('a new family written to the contract compiles; one that breaks it does not, whichever verb breaks it', () => {
    assert.deepStrictEqual(typeErrors(fixture()), [], 'the well-formed family compiles');
    const broken: [string, (lines: Record<string, string>) => void, RegExp][] = [
      [
        'train with its arguments in another order',
        (l) =>
          (l.train =
            'train: (images: tf.Tensor, model: Model, options: TrainOptions) => trainModel(model, images, options),'),
        /^train:/,
      ],
      [
        'train that does not resolve to a History',
        (l) => (l.train = 'train: (model: Model, images: tf.Tensor) => nll(model, images),'),
        /^train:/,
      ],
      [
        'evaluate returning a tensor instead of plain numbers',
        (l) => (l.evaluate = 'evaluate: (model: Model, images: tf.Tensor) => ({ nll: images.mean() }),'),
        /^evaluate:/,
      ],
      [
        'sample with no seed (its third argument an options object)',
        (l) =>
          (l.sample =
            'sample: (model: Model, n: number, options: { temperature: number }) => draw(model, n, options.temperature),'),
        /^sample:/,
      ],
      [
        'sample returning numbers instead of images',
        (l) => (l.sample = 'sample: (model: Model, n: number, seed: number) => [n, seed],'),
        /^sample:/,
      ],
      [
        'no persistence verbs',
        (l) => {
          delete l.parts;
          delete l.fromParts;
        },
        /^export const family|satisfies/,
      ],
      [
        'a config without a number seed',
        (l) => (l.create = 'create: (config: { seed?: string } = {}) => newModel(Number(config.seed)),'),
        /^create:/,
      ],
      [
        'trainStep whose first argument is not the model',
        (l) =>
          (l.trainStep =
            'trainStep: (optimizer: tf.Optimizer, model: Model) => ({ loss: step(model, optimizer, tf.zeros([1])) }),'),
        /^trainStep:/,
      ],
    ];
    for (const [what, change, pattern] of broken) {
      const errors = typeErrors(fixture(change));
      assert.ok(errors.length > 0, `${what}: the compiler accepted it`);
      assert.ok(
        errors.some((e) => pattern.test(e.split(' :: ')[0])),
        `${what}: the errors are not on its line: ${errors.join(' | ')}`,
      );
    }
  });

  it('every model file in lib/models/ has a family, and lib/index.ts exports it under the family’s name', () => {
    const helpers = new Set(['kit.ts', 'contract.ts', 'training.ts', 'dcgan_blocks.ts']);
    const files = fs.readdirSync(MODELS).filter((f) => f.endsWith('.ts') && !helpers.has(f));
    assert.strictEqual(files.length, FAMILIES.length, `model files: ${files.join(', ')}`);
    for (const file of files) {
      const source = fs.readFileSync(path.join(MODELS, file), 'utf8');
      assert.match(
        source,
        /export const family = \{[\s\S]*?\} satisfies (Generative|Model)Family</,
        `${file} declares its family`,
      );
    }
    for (const family of FAMILIES) {
      const exported = (genlab as unknown as Record<string, { family?: unknown }>)[family.name];
      assert.strictEqual(exported?.family, family, `genlab.${family.name}.family`);
    }
  });
});

/** Every family, in the order the labs meet them. */
const FAMILIES = [
  classifier.family,
  autoencoder.family,
  vae.family,
  pixelcnn.family,
  gan.family,
  conditionalGan.family,
  flow.family,
  diffusion.family,
] as const;

describe('the model contract, kept by every model family when run', function () {
  this.timeout(180000);
  let grey: tf.Tensor4D;
  let labels: tf.Tensor1D;
  let judge: tf.LayersModel;
  before(async () => {
    await init({ quiet: true });
    const { train } = loadMnist({ limit: { train: 64, test: 1 } });
    grey = train.images;
    labels = train.labels;
    judge = classifier.createClassifier({ architecture: 'mlp', hiddenUnits: [8], seed: 1 });
  });

  /** Each family's small model, what it trains and is judged on, and the options that make every draw count. */
  function cases() {
    const images = binarize(grey) as tf.Tensor4D;
    const labelled = { images: grey, labels };
    const binarizing = { dynamicBinarization: true };
    return [
      {
        family: classifier.family,
        create: () => classifier.createClassifier({ architecture: 'softmax', seed: 1 }),
        data: labelled,
        evaluateOn: labelled,
        options: {},
      },
      {
        family: autoencoder.family,
        create: () => autoencoder.createAutoencoder({ architecture: 'mlp', bottleneck: 4, seed: 1 }),
        data: grey,
        evaluateOn: grey,
        options: {},
      },
      {
        family: vae.family,
        create: () => vae.createVae({ latentDim: 2, hiddenUnits: [16], seed: 1 }),
        data: grey,
        evaluateOn: images,
        options: binarizing,
      },
      {
        family: pixelcnn.family,
        create: () => pixelcnn.createPixelCnn({ filters: 4, layers: 1, seed: 1 }),
        data: grey,
        evaluateOn: images,
        options: binarizing,
      },
      {
        family: gan.family,
        create: () => gan.createGan({ architecture: 'mlp', noiseDim: 4, seed: 1 }),
        data: grey,
        evaluateOn: grey,
        options: { k: 2 },
        evaluateOptions: { classifier: judge, samples: 20 },
      },
      {
        family: conditionalGan.family,
        create: () => conditionalGan.createConditionalGan({ noiseDim: 4, filters: [4, 4], seed: 1 }),
        data: labelled,
        evaluateOn: grey,
        options: { k: 2 },
        evaluateOptions: { classifier: judge, samples: 20 },
      },
      {
        family: flow.family,
        create: () => flow.createFlow({ filters: 4, seed: 1 }),
        data: grey,
        evaluateOn: grey,
        options: {},
      },
      {
        family: diffusion.family,
        create: () => diffusion.createDiffusion({ channels: [4, 4], embedding: 8, seed: 1 }),
        data: labelled,
        evaluateOn: labelled,
        options: {},
      },
    ];
  }

  /** The family's verbs as a lab calls them (the contract fixes their order; the options are the family's own). */
  const verbs = (family: (typeof FAMILIES)[number]) =>
    family as unknown as {
      train: (model: unknown, data: unknown, options: object) => Promise<{ values: Record<string, number[]> }>;
      evaluate: (model: unknown, data: unknown, options?: object) => Record<string, number | number[]>;
      sample?: (model: unknown, n: number, seed: number) => tf.Tensor | Promise<tf.Tensor>;
      parts: (model: unknown) => Record<string, tf.LayersModel>;
      fromParts: (parts: Record<string, tf.LayersModel>, config: object) => unknown;
    };

  it('each trains into a History led by its loss, evaluates to finite plain numbers, and the generative ones sample [n, 28, 28, 1] in [0, 1]', async () => {
    for (const c of cases()) {
      const f = verbs(c.family);
      const model = c.create();
      const history = await f.train(model, c.data, { steps: 2, batchSize: 16, seed: 1, quiet: true, ...c.options });
      const terms = Object.keys(history.values);
      assert.strictEqual(
        terms[0],
        c.family.name.endsWith('an') ? 'discriminator' : 'loss',
        `${c.family.name}: first term`,
      );
      assert.ok(
        Object.values(history.values).every((series) => series.length === 2 && series.every(Number.isFinite)),
        c.family.name,
      );
      const measures = Object.values(f.evaluate(model, c.evaluateOn, c.evaluateOptions)).flat();
      assert.ok(
        measures.length >= 1 && measures.every((v) => typeof v === 'number' && Number.isFinite(v)),
        c.family.name,
      );
      assert.strictEqual('sample' in c.family, !['classifier', 'autoencoder'].includes(c.family.name), c.family.name);
      if (f.sample) {
        const samples = await f.sample(model, 3, 1);
        assert.deepStrictEqual(samples.shape, [3, 28, 28, 1], c.family.name);
        assert.ok(samples.min().dataSync()[0] >= 0 && samples.max().dataSync()[0] <= 1, `${c.family.name}: in [0, 1]`);
      }
    }
  });

  it('each one’s seed fixes every draw of its training: the same seed trains the same weights, another seed others', async () => {
    for (const c of cases()) {
      const f = verbs(c.family);
      const weightsAfter = async (seed: number) => {
        const model = c.create(); // the same initial weights each time: only the training's draws differ
        await f.train(model, c.data, { steps: 3, batchSize: 16, seed, quiet: true, ...c.options });
        return Object.values(f.parts(model)).flatMap((net) =>
          net.getWeights().flatMap((w) => Array.from(w.dataSync())),
        );
      };
      const [a, again, other] = [await weightsAfter(5), await weightsAfter(5), await weightsAfter(6)];
      assert.deepStrictEqual(again, a, `${c.family.name}: seed 5 twice`);
      assert.ok(maxAbsDiff(other, a) > 0, `${c.family.name}: seeds 5 and 6 trained the same weights`);
    }
  });

  it('each one’s networks go out (parts, partNames) and come back in (fromParts) through saved folders, predicting the same', async () => {
    for (const c of cases()) {
      const f = verbs(c.family);
      const model = c.create();
      const parts = f.parts(model);
      assert.deepStrictEqual(Object.keys(parts), [...c.family.partNames], c.family.name);
      const dir = tempDir();
      const loaded: Record<string, tf.LayersModel> = {};
      for (const [name, net] of Object.entries(parts)) {
        await saveModel(net, path.join(dir, name));
        loaded[name] = await loadModel(path.join(dir, name));
      }
      const back = f.fromParts(loaded, {});
      for (const [name, net] of Object.entries(f.parts(back))) {
        const inputs = net.inputs.map((input, i) =>
          // A free height or width (the fully convolutional PixelCNN's) is given the images' 28.
          tf.randomUniform([2, ...input.shape.slice(1).map((d) => d ?? 28)], 0, 1, 'float32', 10 + i),
        );
        // A model with several outputs (the flow's couplings, joined) predicts a list: compare every one.
        const predict = (m: tf.LayersModel) =>
          [m.predict(inputs.length === 1 ? inputs[0] : inputs)].flat().flatMap((t) => Array.from(t.dataSync()));
        assert.ok(maxAbsDiff(predict(net), predict(parts[name])) < 1e-6, `${c.family.name}.${name}`);
      }
      if (f.sample) {
        const [x, y] = [await f.sample(model, 2, 3), await f.sample(back, 2, 3)];
        assert.ok(
          maxAbsDiff(x.dataSync(), y.dataSync()) < 1e-6,
          `${c.family.name}: the same samples after the round trip`,
        );
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
