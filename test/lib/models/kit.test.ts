/**
 * The model kit (lib/models/kit.ts): its helpers against direct computations, and the contract,
 * checked on every model file by running each verb the way a lab does.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/engine/backend';
import { binarize } from '../../../lib/data/batches';
import { loadMnist } from '../../../lib/data/mnist';
import * as autoencoder from '../../../lib/models/autoencoder';
import * as classifier from '../../../lib/models/classifier';
import * as gan from '../../../lib/models/gan';
import {
  checkBinary,
  checkBinaryImages,
  checkImageBatch,
  concatOverBatches,
  IMAGE_PIXELS,
  IMAGE_SHAPE,
  splitSeed,
  sumOverBatches,
} from '../../../lib/models/kit';
import * as pixelcnn from '../../../lib/models/pixelcnn';
import * as vae from '../../../lib/models/vae';
import { assertGenlabError, maxAbsDiff } from '../../helpers';

describe('the model kit', () => {
  before(() => init({ quiet: true }));

  it("the image shape is MNIST's, 28 × 28 × 1 = 784 pixels", () => {
    assert.deepStrictEqual([...IMAGE_SHAPE], [28, 28, 1]);
    assert.strictEqual(IMAGE_PIXELS, 784);
  });

  it('sumOverBatches adds up what one pass over the whole tensor adds up, with a short last batch, and frees its tensors', () => {
    const x = tf.tensor2d(
      Array.from({ length: 25 * 3 }, (_, i) => i),
      [25, 3],
    );
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const [sum, squares] = sumOverBatches(x, 10, (b, index) => {
      seen.push(index * 100 + b.shape[0]);
      return [b, b.square()];
    });
    assert.strictEqual(tf.memory().numTensors, before);
    assert.deepStrictEqual(seen, [10, 110, 205], 'batches of 10, 10 and 5, numbered 0, 1, 2');
    // 0 + 1 + … + 74 and 0² + … + 74², by the closed forms n(n−1)/2 and (n−1)n(2n−1)/6.
    assert.strictEqual(sum, (75 * 74) / 2);
    assert.strictEqual(squares, (74 * 75 * 149) / 6);
    assertGenlabError(() => sumOverBatches(x, 0, (b) => b), /batchSize must be a whole number ≥ 1, got 0/);
  });

  it('concatOverBatches joins per-batch outputs into what one pass gives, leaving only the result', () => {
    const x = tf.randomUniform([23, 4], -1, 1, 'float32', 3);
    const whole = x.relu().sum(1).dataSync();
    const before = tf.memory().numTensors;
    const joined = concatOverBatches(x, 7, (b) => b.relu().sum(1));
    assert.strictEqual(tf.memory().numTensors, before + 1);
    assert.ok(maxAbsDiff(joined.dataSync(), whole) < 1e-6);
  });

  it('the image checks say what was wrong and how to fix it', () => {
    assertGenlabError(
      () => checkImageBatch(tf.zeros([2, 784]), 'encode'),
      /encode expects images shaped \[N, 28, 28, 1\], got \[2,784\]/,
      /reshape/,
    );
    assertGenlabError(() => checkBinary(tf.tensor1d([0, 0.5, 1]), 'fit'), /fit expects binary images/, /binarize/);
    assertGenlabError(() => checkBinaryImages(tf.fill([1, 28, 28, 1], 0.3), 'logLikelihood'), /binary/);
    checkBinaryImages(tf.ones([1, 28, 28, 1]), 'logLikelihood');
  });

  it('splitSeed gives reproducible, different seeds for the networks of one model', () => {
    const [a, b] = splitSeed(5, 2);
    assert.notStrictEqual(a, b);
    assert.deepStrictEqual(splitSeed(5, 2), [a, b]);
    assert.notDeepStrictEqual(splitSeed(6, 2), [a, b]);
  });
});

/** What each model file must export (the contract at the top of lib/models/kit.ts). */
const CONTRACT = [
  {
    name: 'classifier',
    module: classifier as Record<string, unknown>,
    create: 'createClassifier',
    train: 'trainClassifier',
    generative: false,
  },
  {
    name: 'autoencoder',
    module: autoencoder as Record<string, unknown>,
    create: 'createAutoencoder',
    train: 'trainAutoencoder',
    generative: false,
  },
  { name: 'vae', module: vae as Record<string, unknown>, create: 'createVae', train: 'trainVae', generative: true },
  {
    name: 'pixelcnn',
    module: pixelcnn as Record<string, unknown>,
    create: 'createPixelCnn',
    train: 'trainPixelCnn',
    generative: true,
  },
  { name: 'gan', module: gan as Record<string, unknown>, create: 'createGan', train: 'trainGan', generative: true },
];

describe('the model contract, kept by every model file', function () {
  this.timeout(120000);
  let images: tf.Tensor4D;
  let labels: tf.Tensor1D;
  let judge: tf.LayersModel;
  before(async () => {
    await init({ quiet: true });
    const { train } = loadMnist({ limit: { train: 64, test: 1 } });
    images = binarize(train.images) as tf.Tensor4D; // binary: every model accepts it
    labels = train.labels;
    judge = classifier.createClassifier({ architecture: 'mlp', hiddenUnits: [8], seed: 1 });
  });

  for (const model of CONTRACT) {
    it(`${model.name}: exports ${model.create}, trainStep, ${model.train}, evaluate${model.generative ? ', sample' : ''}`, () => {
      for (const verb of [
        model.create,
        'trainStep',
        model.train,
        'evaluate',
        ...(model.generative ? ['sample'] : []),
      ]) {
        assert.strictEqual(typeof model.module[verb], 'function', `${model.name}.${verb}`);
      }
      if (!model.generative)
        assert.strictEqual(model.module.sample, undefined, `${model.name} is not generative and has no sample`);
    });
  }

  it('each trains for a few steps into a History, evaluates to finite means, and the generative ones sample [n, 28, 28, 1] in [0, 1]', async () => {
    const options = { steps: 2, batchSize: 16, seed: 1, quiet: true };
    const runs: {
      name: string;
      history: () => Promise<{ values: Record<string, number[]> }>;
      evaluate: () => Record<string, unknown>;
      sample?: () => Promise<tf.Tensor> | tf.Tensor;
    }[] = [];
    const c = classifier.createClassifier({ architecture: 'softmax', seed: 1 });
    runs.push({
      name: 'classifier',
      history: () => classifier.trainClassifier(c, { images, labels }, options),
      evaluate: () => ({ ...classifier.evaluate(c, { images, labels }) }),
    });
    const ae = autoencoder.createAutoencoder({ architecture: 'mlp', bottleneck: 4, seed: 1 });
    runs.push({
      name: 'autoencoder',
      history: () => autoencoder.trainAutoencoder(ae, images, options),
      evaluate: () => ({ ...autoencoder.evaluate(ae, images) }),
    });
    const v = vae.createVae({ latentDim: 2, hiddenUnits: [16], seed: 1 });
    runs.push({
      name: 'vae',
      history: () => vae.trainVae(v, images, options),
      evaluate: () => ({ ...vae.evaluate(v, images) }),
      sample: () => vae.sample(v, 3, 1),
    });
    const p = pixelcnn.createPixelCnn({ filters: 4, layers: 1, seed: 1 });
    runs.push({
      name: 'pixelcnn',
      history: () => pixelcnn.trainPixelCnn(p, images, options),
      evaluate: () => ({ ...pixelcnn.evaluate(p, images) }),
      sample: () => pixelcnn.sample(p, 3, 1),
    });
    const g = gan.createGan({ architecture: 'mlp', noiseDim: 4, seed: 1 });
    runs.push({
      name: 'gan',
      history: () => gan.trainGan(g, images, options),
      evaluate: () => ({ ...gan.evaluate(g, images, { classifier: judge, samples: 20 }) }),
      sample: () => gan.sample(g, 3, 1),
    });
    for (const run of runs) {
      const history = await run.history();
      const terms = Object.keys(history.values);
      assert.ok(
        terms[0] === 'loss' || (run.name === 'gan' && terms[0] === 'discriminator'),
        `${run.name}: the first loss term is ${terms[0]}`,
      );
      assert.ok(
        Object.values(history.values).every((series) => series.length === 2 && series.every(Number.isFinite)),
        run.name,
      );
      const measures = Object.entries(run.evaluate()).filter(([, value]) => typeof value === 'number');
      assert.ok(
        measures.length >= 1 && measures.every(([, value]) => Number.isFinite(value)),
        `${run.name}.evaluate: ${JSON.stringify(measures)}`,
      );
      if (run.sample) {
        const samples = await run.sample();
        assert.deepStrictEqual(samples.shape, [3, 28, 28, 1], run.name);
        assert.ok(
          samples.min().dataSync()[0] >= 0 && samples.max().dataSync()[0] <= 1,
          `${run.name} samples lie in [0, 1]`,
        );
      }
    }
  });
});
