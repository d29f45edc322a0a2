/** The GAN models and training steps: architectures by hand, who updates what, memory. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { loadMnist } from '../../../lib/data/mnist';
import { createClassifier } from '../../../lib/models/classifier';
import {
  createGan,
  createOptimizers,
  discriminatorStep,
  evaluate,
  fromGanRange,
  generate,
  generatorStep,
  sample,
  sampleNoise,
  toGanRange,
  trainGan,
  trainStep,
} from '../../../lib/models/gan';
import { judgeSamples } from '../../../lib/judge';
import { assertGenlabError, maxAbsDiff } from '../../helpers';

const snapshot = (model: tf.LayersModel) => model.trainableWeights.map((w) => Array.from(w.read().dataSync()));
const changed = (before: number[][], model: tf.LayersModel) =>
  snapshot(model).some((w, i) => maxAbsDiff(w, before[i]) > 0);

describe('GAN models', function () {
  this.timeout(120000);
  before(() => init({ quiet: true }));

  it("the MLP GAN has CS231n's sizes: parameter counts by hand", () => {
    const gan = createGan({ architecture: 'mlp', seed: 1 });
    assert.strictEqual(gan.generator.countParams(), 96 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 784 + 784);
    assert.strictEqual(gan.discriminator.countParams(), 784 * 256 + 256 + 256 * 256 + 256 + 256 + 1);
  });

  it('the DCGAN: up-convs in G, strided convs in D, batch norm; parameter counts by hand', () => {
    const gan = createGan({ architecture: 'dcgan', seed: 1 });
    // G: dense 96 → 7·7·128 (no bias), BN(128) ×4 numbers, up-conv 4·4·128·64 (no bias), BN(64), up-conv 4·4·64·1 + 1.
    assert.strictEqual(gan.generator.countParams(), 96 * 6272 + 4 * 128 + 4 * 4 * 128 * 64 + 4 * 64 + 4 * 4 * 64 + 1);
    // D: conv 4·4·1·64 + 64, conv 4·4·64·128 (no bias), BN(128), dense 7·7·128 + 1.
    assert.strictEqual(gan.discriminator.countParams(), 1088 + 4 * 4 * 64 * 128 + 4 * 128 + 6272 + 1);
    const images = sample(gan, 3, 7);
    assert.strictEqual(generate, sample, "generate is lab 5's name for sample");
    assert.deepStrictEqual(images.shape, [3, 28, 28, 1]);
    assert.ok(
      images.dataSync().every((v) => v >= 0 && v <= 1),
      'generated images are in [0, 1]',
    );
    assertGenlabError(
      () => createGan({ architecture: 'vae' as 'mlp' }),
      /architecture must be 'mlp' or 'dcgan', got 'vae'/,
    );
  });

  it('noise is U(−1, 1) and seeded; the [0, 1] ↔ [−1, 1] maps invert each other', () => {
    const z = Array.from(sampleNoise(5000, 4, 3).dataSync());
    assert.ok(z.every((v) => v >= -1 && v < 1));
    const mean = z.reduce((s, v) => s + v, 0) / z.length;
    const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length;
    assert.ok(
      Math.abs(mean) < 0.03 && Math.abs(variance - 1 / 3) < 0.02,
      `mean ${mean}, variance ${variance} (U(−1,1): 0, 1/3)`,
    );
    assert.deepStrictEqual(Array.from(sampleNoise(3, 4, 3).dataSync()), Array.from(sampleNoise(3, 4, 3).dataSync()));
    const x = tf.tensor1d([0, 0.25, 1]);
    assert.deepStrictEqual(Array.from(toGanRange(x).dataSync()), [-1, -0.5, 1]);
    assert.ok(maxAbsDiff(fromGanRange(toGanRange(x)).dataSync(), x.dataSync()) < 1e-7);
  });

  it('a discriminator step changes only D and learns to tell real from fake; a generator step changes only G', () => {
    const { train } = loadMnist({ limit: { train: 256, test: 1 } });
    const gan = createGan({ architecture: 'mlp', seed: 2 });
    const opt = createOptimizers(1e-3);
    const real = toGanRange(train.images.slice(0, 64));
    const g0 = snapshot(gan.generator),
      d0 = snapshot(gan.discriminator);
    let first: { dReal: number; dFake: number } | undefined;
    let last = { dReal: 0, dFake: 0 };
    for (let i = 0; i < 20; i++) {
      const r = discriminatorStep(gan, opt.discriminator, real, 100 + i);
      last = { dReal: r.dReal.dataSync()[0], dFake: r.dFake.dataSync()[0] };
      first ??= last;
      Object.values(r).forEach((t) => t.dispose());
    }
    assert.ok(changed(d0, gan.discriminator) && !changed(g0, gan.generator), 'D steps update D only');
    assert.ok(
      last.dReal - last.dFake > first!.dReal - first!.dFake + 0.3,
      `D(x) − D(G(z)): ${first!.dReal - first!.dFake} → ${last.dReal - last.dFake}`,
    );
    const d1 = snapshot(gan.discriminator);
    generatorStep(gan, opt.generator, 64, 5).dispose();
    assert.ok(changed(g0, gan.generator) && !changed(d1, gan.discriminator), 'G steps update G only');
  });

  it('trainGan runs k discriminator steps per generator step, records both players, and frees its tensors', async () => {
    const { train } = loadMnist({ limit: { train: 256, test: 1 } });
    const gan = createGan({ architecture: 'mlp', seed: 3 });
    const optimizers = createOptimizers();
    const calls = { d: 0, g: 0 };
    const counting = {
      discriminator: new Proxy(optimizers.discriminator, {
        get: (t, p) =>
          p === 'minimize'
            ? (...a: unknown[]) => (calls.d++, (t.minimize as (...x: unknown[]) => unknown).apply(t, a))
            : Reflect.get(t, p),
      }),
      generator: new Proxy(optimizers.generator, {
        get: (t, p) =>
          p === 'minimize'
            ? (...a: unknown[]) => (calls.g++, (t.minimize as (...x: unknown[]) => unknown).apply(t, a))
            : Reflect.get(t, p),
      }),
    };
    await trainGan(gan, train.images, { steps: 1, batchSize: 32, quiet: true, optimizers: counting }); // creates Adam's slots
    calls.d = calls.g = 0;
    const before = tf.memory().numTensors;
    const history = await trainGan(gan, train.images, {
      steps: 4,
      k: 3,
      batchSize: 32,
      quiet: true,
      optimizers: counting,
    });
    assert.deepStrictEqual(calls, { d: 12, g: 4 });
    assert.strictEqual(tf.memory().numTensors, before, 'no tensor outlives a step');
    assert.deepStrictEqual(Object.keys(history.values).sort(), ['D(G(z))', 'D(x)', 'discriminator', 'generator']);
    assert.strictEqual(history.values.generator.length, 4);
    await assert.rejects(
      trainGan(gan, train.images, { steps: 1, k: 0 }),
      /k \(discriminator steps per generator step\) must be a whole number ≥ 1, got 0/,
    );
  });

  it('averageGenerator keeps w̄ ← β w̄ + (1 − β) w of every G weight, with the warm-up β_t = min(β, (1 + t)/(10 + t)), across calls; sample draws from it', async () => {
    const { train } = loadMnist({ limit: { train: 128, test: 1 } });
    const gan = createGan({ architecture: 'dcgan', filters: [4, 8], noiseDim: 8, seed: 5 });
    const allWeights = (m: tf.LayersModel) => m.weights.map((w) => Array.from(w.read().dataSync()));
    // The recurrence by hand, on copies of G's weights read after every step (batch norm's statistics included).
    let expected = allWeights(gan.generator);
    let t = 0;
    const follow = () => {
      const beta = Math.min(0.9, (1 + t) / (10 + t));
      expected = allWeights(gan.generator).map((w, i) => w.map((v, j) => beta * expected[i][j] + (1 - beta) * v));
      t++;
    };
    const optimizers = createOptimizers();
    const options = { batchSize: 16, quiet: true, optimizers, averageGenerator: 0.9, onStep: follow };
    await trainGan(gan, train.images, { ...options, steps: 3, seed: 1 });
    await trainGan(gan, train.images, { ...options, steps: 12, seed: 2 }); // β reaches 0.9 at t = 71: still warming
    assert.strictEqual(gan.average!.steps, 15);
    const averaged = allWeights(gan.average!.model);
    for (let i = 0; i < expected.length; i++) assert.ok(maxAbsDiff(averaged[i], expected[i]) < 1e-5, `weight ${i}`);
    assert.ok(maxAbsDiff(averaged[0], allWeights(gan.generator)[0]) > 1e-4, 'the average is not G itself');
    const fromAverage = tf.tidy(() => fromGanRange(gan.average!.model.predict(sampleNoise(4, 8, 9)) as tf.Tensor));
    const fromG = tf.tidy(() => fromGanRange(gan.generator.predict(sampleNoise(4, 8, 9)) as tf.Tensor));
    assert.ok(maxAbsDiff(sample(gan, 4, 9).dataSync(), fromAverage.dataSync()) < 1e-6, 'sample uses the average');
    assert.ok(maxAbsDiff(sample(gan, 4, 9, { averaged: false }).dataSync(), fromG.dataSync()) < 1e-6);
    await assert.rejects(
      trainGan(gan, train.images, { steps: 1, averageGenerator: 1 }),
      /averageGenerator is the average's decay β, between 0 and 1 \(e\.g\. 0\.999\), got 1/,
    );
  });

  it('trainStep plays one round: a D step on the real batch, then a G step on as many fakes, each player updated by its optimizer', () => {
    const gan = createGan({ architecture: 'mlp', noiseDim: 8, seed: 4 });
    const optimizers = createOptimizers();
    const real = tf.randomUniform([16, 28, 28, 1], 0, 1, 'float32', 1);
    const snapshot = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
    const [d0, g0] = [snapshot(gan.discriminator), snapshot(gan.generator)];
    // D(x) before the update, from the discriminator on the rescaled batch: what the step reports.
    const dReal = tf.tidy(
      () =>
        tf
          .sigmoid(gan.discriminator.apply(toGanRange(real), { training: true }) as tf.Tensor)
          .mean()
          .dataSync()[0],
    );
    const out = trainStep(gan, optimizers, real, { seed: 3 });
    assert.deepStrictEqual(Object.keys(out), ['discriminator', 'generator', 'D(x)', 'D(G(z))']);
    assert.ok(Math.abs(out['D(x)'].dataSync()[0] - dReal) < 1e-5);
    assert.notDeepStrictEqual(snapshot(gan.discriminator), d0);
    assert.notDeepStrictEqual(snapshot(gan.generator), g0);
  });

  it('evaluate judges samples as judgeSamples does, and asks for its judge in a sentence', () => {
    const gan = createGan({ architecture: 'mlp', noiseDim: 8, seed: 4 });
    const judge = createClassifier({ architecture: 'mlp', hiddenUnits: [8], seed: 2 });
    const reference = tf.randomUniform([30, 28, 28, 1], 0, 1, 'float32', 9);
    const quality = evaluate(gan, reference, { classifier: judge, samples: 40, seed: 5 });
    assert.deepStrictEqual(quality, judgeSamples(judge, sample(gan, 40, 5), reference));
    assertGenlabError(
      () => evaluate(gan, reference, undefined as unknown as { classifier: tf.LayersModel }),
      /needs a trained classifier/,
    );
  });
});
