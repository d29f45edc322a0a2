/** The conditional DCGAN: sizes by hand, the projection answer worked out from D's weights, who updates what, errors. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { batches } from '../../../lib/data/batches';
import { createClassifier } from '../../../lib/models/classifier';
import {
  createConditionalGan,
  cyclingLabels,
  evaluate,
  oneHot,
  sample,
  trainConditionalGan,
  trainStep,
} from '../../../lib/models/conditional_gan';
import { judgeSamples } from '../../../lib/judge';
import { createOptimizers } from '../../../lib/models/gan';
import { assertGenlabError, assertGenlabErrorAsync, maxAbsDiff } from '../../helpers';

/** A labelled batch of random images and the given digits. */
const labelled = (digits: number[], seed: number) =>
  batches(tf.randomUniform([digits.length, 28, 28, 1], 0, 1, 'float32', seed), tf.tensor1d(digits, 'int32'), {
    batchSize: digits.length,
    seed: 1,
  }).next().value;

describe('conditional GAN', function () {
  this.timeout(120000);
  before(() => init({ quiet: true }));

  it("is lab 5's DCGAN with the label added: parameter counts by hand", () => {
    const cgan = createConditionalGan({ filters: [32, 64], seed: 1 });
    // G: dense (96 + 10) → 7·7·128 (no bias), BN(128) ×4 numbers, up-conv 4·4·128·32 (no bias), BN(32), up-conv 4·4·32·1 + 1.
    assert.strictEqual(cgan.generator.countParams(), 106 * 6272 + 4 * 128 + 4 * 4 * 128 * 32 + 4 * 32 + 4 * 4 * 32 + 1);
    // D: conv 4·4·1·32 + 32, conv 4·4·32·64 (no bias), BN(64), realness dense 7·7·64 + 1, templates 10 × 7·7·64.
    assert.strictEqual(cgan.discriminator.countParams(), 16 * 32 + 32 + 16 * 32 * 64 + 4 * 64 + (3136 + 1) + 10 * 3136);
    const images = sample(cgan, 12, 7);
    assert.deepStrictEqual(images.shape, [12, 28, 28, 1]);
    assert.ok(
      images.dataSync().every((v) => v >= 0 && v <= 1),
      'samples are in [0, 1]',
    );
  });

  it("D's logit is w·φ(x) + b + e_y·φ(x), worked out from its weights; the label changes G's image", () => {
    const cgan = createConditionalGan({ filters: [4, 8], seed: 2 });
    const x = tf.randomUniform([3, 28, 28, 1], -1, 1, 'float32', 5);
    const digits = [0, 7, 3];
    const logits = (cgan.discriminator.predict([x, oneHot(digits, 10)]) as tf.Tensor).dataSync();
    const phiLayer = cgan.discriminator.getLayer('realness').input as tf.SymbolicTensor;
    const phi = (
      tf.model({ inputs: cgan.discriminator.inputs, outputs: phiLayer }).predict([x, oneHot(digits, 10)]) as tf.Tensor
    ).arraySync() as number[][];
    const [w, b] = cgan.discriminator
      .getLayer('realness')
      .getWeights()
      .map((t) => t.arraySync()) as [number[][], number[]];
    const [templates] = cgan.discriminator
      .getLayer('templates')
      .getWeights()
      .map((t) => t.arraySync()) as [number[][]];
    digits.forEach((y, i) => {
      let expected = b[0];
      phi[i].forEach((f, j) => (expected += f * w[j][0] + f * templates[y][j]));
      assert.ok(
        Math.abs(logits[i] - expected) < 1e-4 * (1 + Math.abs(expected)),
        `image ${i}: ${logits[i]} vs ${expected}`,
      );
    });
    // The same noise asked for a 1 and for a 7 gives two different images.
    const z = tf.randomUniform([1, 96], -1, 1, 'float32', 3);
    const one = cgan.generator.predict([z, oneHot([1], 10)]) as tf.Tensor;
    const seven = cgan.generator.predict([z, oneHot([7], 10)]) as tf.Tensor;
    assert.ok(maxAbsDiff(one.dataSync(), seven.dataSync()) > 1e-3);
  });

  it("trainStep: D's optimizer moves only D and G's only G, and it reports D(x, y) before the update", () => {
    const cgan = createConditionalGan({ filters: [4, 8], noiseDim: 8, seed: 4 });
    const batch = labelled([0, 1, 2, 3, 4, 5, 6, 7], 9);
    const dReal = tf.tidy(
      () =>
        tf
          .sigmoid(
            cgan.discriminator.apply([batch.x.mul(2).sub(1), oneHot(batch.y!, 10)], { training: true }) as tf.Tensor,
          )
          .mean()
          .dataSync()[0],
    );
    const trainable = (m: tf.LayersModel) => m.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    // Each step below gives one player's optimizer a rate of 0: whatever moves was moved by the other's.
    let [g0, d0] = [trainable(cgan.generator), trainable(cgan.discriminator)];
    const out = trainStep(cgan, { discriminator: tf.train.sgd(0.1), generator: tf.train.sgd(0) }, batch, { seed: 1 });
    assert.deepStrictEqual(Object.keys(out), ['discriminator', 'generator', 'D(x)', 'D(G(z))']);
    assert.ok(Math.abs(out['D(x)'].dataSync()[0] - dReal) < 1e-5);
    assert.deepStrictEqual(trainable(cgan.generator), g0, "D's step left G's weights alone");
    assert.notDeepStrictEqual(trainable(cgan.discriminator), d0, "D's step moved D");
    [g0, d0] = [trainable(cgan.generator), trainable(cgan.discriminator)];
    trainStep(cgan, { discriminator: tf.train.sgd(0), generator: tf.train.sgd(0.1) }, batch, { seed: 2 });
    assert.deepStrictEqual(trainable(cgan.discriminator), d0, "G's step left D's weights alone");
    assert.notDeepStrictEqual(trainable(cgan.generator), g0, "G's step moved G");
  });

  it('a round whose results a tidy drops leaves no tensor behind (the kept D(x) and D(G(z)) included)', () => {
    const cgan = createConditionalGan({ filters: [4, 8], noiseDim: 8, seed: 5 });
    const optimizers = createOptimizers();
    const batch = labelled([1, 2, 3], 4);
    tf.tidy(() => void trainStep(cgan, optimizers, batch, { seed: 1 })); // Adam's moments are made here
    const before = tf.memory().numTensors;
    tf.tidy(() => void trainStep(cgan, optimizers, batch, { seed: 2 }));
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('trainConditionalGan records both players and frees its tensors', async () => {
    const cgan = createConditionalGan({ filters: [4, 8], noiseDim: 8, seed: 5 });
    const images = tf.randomUniform([40, 28, 28, 1], 0, 1, 'float32', 2);
    const labels = tf.tensor1d(cyclingLabels(40), 'int32');
    const optimizers = createOptimizers();
    await trainConditionalGan(cgan, { images, labels }, { steps: 1, batchSize: 8, optimizers, quiet: true, seed: 1 });
    const before = tf.memory().numTensors;
    const history = await trainConditionalGan(
      cgan,
      { images, labels },
      { steps: 3, batchSize: 8, optimizers, quiet: true },
    );
    assert.deepStrictEqual(history.step, [1, 2, 3]);
    assert.deepStrictEqual(Object.keys(history.values).sort(), ['D(G(z))', 'D(x)', 'discriminator', 'generator']);
    assert.strictEqual(tf.memory().numTensors, before, 'no tensors left behind');
  });

  it("trains by the GAN's own loop: k discriminator steps per round, and a weight average sample draws from", async () => {
    const cgan = createConditionalGan({ filters: [4, 8], noiseDim: 8, seed: 5 });
    const images = tf.randomUniform([40, 28, 28, 1], 0, 1, 'float32', 2);
    const labels = tf.tensor1d(cyclingLabels(40), 'int32');
    const optimizers = createOptimizers();
    const calls = { d: 0, g: 0 };
    const count = (o: tf.Optimizer, player: 'd' | 'g') =>
      new Proxy(o, {
        get: (t, p) =>
          p === 'minimize'
            ? (...a: unknown[]) => (calls[player]++, (t.minimize as (...x: unknown[]) => unknown).apply(t, a))
            : Reflect.get(t, p),
      });
    const counting = {
      discriminator: count(optimizers.discriminator, 'd'),
      generator: count(optimizers.generator, 'g'),
    };
    await trainConditionalGan(
      cgan,
      { images, labels },
      { steps: 3, k: 2, batchSize: 8, optimizers: counting, averageGenerator: 0.9, quiet: true },
    );
    assert.deepStrictEqual(calls, { d: 6, g: 3 }, 'two D steps and one G step a round');
    assert.strictEqual(cgan.average?.steps, 3, 'the average took a step each round');
    const averaged = sample(cgan, 10, 4);
    const trained = sample(cgan, 10, 4, { averaged: false });
    assert.ok(maxAbsDiff(averaged.dataSync(), trained.dataSync()) > 0, 'sample draws from the average');
  });

  it('evaluate: how often the judge reads the digit asked for (a judge that always says 3 agrees on a tenth)', () => {
    const cgan = createConditionalGan({ filters: [4, 8], noiseDim: 8, seed: 6 });
    const judge = createClassifier({ architecture: 'mlp', hiddenUnits: [8], seed: 2 });
    // Every output is decided by its bias: zero the last layer's kernel, and put the bias on digit 3.
    const out = judge.layers[judge.layers.length - 1];
    const [kernel, bias] = out.getWeights();
    out.setWeights([tf.zerosLike(kernel), tf.oneHot([3], 10).reshape(bias.shape).mul(10)]);
    const reference = tf.randomUniform([30, 28, 28, 1], 0, 1, 'float32', 9);
    const quality = evaluate(cgan, reference, { classifier: judge, samples: 50, seed: 5 });
    assert.strictEqual(quality.labelAgreement, 5 / 50, 'cycling labels ask for a 3 five times in 50');
    const judged: Partial<typeof quality> = { ...quality };
    delete judged.labelAgreement;
    assert.deepStrictEqual(judged, judgeSamples(judge, sample(cgan, 50, 5), reference), 'the rest is judgeSamples');
  });

  it('says what is wrong with its input in a sentence', async () => {
    const cgan = createConditionalGan({ filters: [4, 8], noiseDim: 8, seed: 7 });
    assertGenlabError(() => oneHot([0, 10], 10), /label 1 is 10; labels are whole numbers from 0 to 9/);
    assertGenlabError(() => sample(cgan, 3, 1, { labels: [1, 2] }), /asked for 3 images but given 2 labels/);
    const unlabelled = batches(tf.zeros([4, 28, 28, 1]), undefined, { batchSize: 4, seed: 1 }).next().value;
    assertGenlabError(() => trainStep(cgan, createOptimizers(), unlabelled, { seed: 1 }), /needs labelled batches/);
    await assertGenlabErrorAsync(
      () => trainConditionalGan(cgan, { images: tf.zeros([4, 28, 28, 1]) } as never, { steps: 1 }),
      /needs labelled images/,
    );
    await assertGenlabErrorAsync(
      () =>
        trainConditionalGan(cgan, { images: tf.zeros([4, 28, 28, 1]), labels: tf.zeros([3], 'int32') }, { steps: 1 }),
      /labels must be one digit per image, shape \[4\]/,
    );
    assertGenlabError(() => createConditionalGan({ filters: [4] as unknown as [number, number] }), /two numbers/);
    assertGenlabError(
      () => evaluate(cgan, tf.zeros([2, 28, 28, 1]), undefined as unknown as { classifier: tf.LayersModel }),
      /needs a trained classifier/,
    );
  });
});
