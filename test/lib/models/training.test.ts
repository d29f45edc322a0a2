/**
 * The kit's training loop (lib/models/training.ts), each of its parts against a loop written out by hand or a
 * closed form: the schedule, the batches and their transform, the noise seeds, the inner player's k steps,
 * the weight average, and who disposes the optimizers.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { batches, binarizeStochastic } from '../../../lib/data/batches';
import { createWeightAverage, runTrainingLoop, updateWeightAverage } from '../../../lib/models/kit';
import { assertGenlabErrorAsync } from '../../helpers';

/** A one-weight model y = w·x (w starts at `w0`), so every weight the loop touches can be followed by hand. */
function scalarModel(w0: number): tf.LayersModel {
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: 'zeros' })],
  });
  model.setWeights([tf.tensor2d([[w0]])]);
  return model;
}

describe("the kit's training loop", function () {
  this.timeout(60000);
  before(() => init({ quiet: true }));
  const images = tf.randomUniform([10, 28, 28, 1], 0, 1, 'float32', 3);

  it('follows the cosine from learningRate to finalLearningRate on every optimizer, step by step', async () => {
    const seen: number[][] = [];
    const rate = (o: tf.Optimizer) => (o as unknown as { learningRate: number }).learningRate;
    await runTrainingLoop({
      images,
      options: { steps: 5, learningRate: 0.1, finalLearningRate: 0.01, quiet: true },
      defaults: { batchSize: 2, learningRate: 1, label: 'test' },
      optimizers: (lr) => ({ a: tf.train.adam(lr), b: tf.train.sgd(lr) }),
      step: (round) => {
        seen.push([rate(round.optimizers.a), rate(round.optimizers.b)]);
        return { loss: 0 };
      },
    });
    // η(t) = η_min + ½ (η_0 − η_min)(1 + cos(π t / T)), T = 5.
    const expected = [0, 1, 2, 3, 4].map((t) => 0.01 + 0.5 * (0.1 - 0.01) * (1 + Math.cos((Math.PI * t) / 5)));
    seen.forEach(([a, b], t) => {
      assert.ok(Math.abs(a - expected[t]) < 1e-12 && Math.abs(b - expected[t]) < 1e-12, `step ${t}: ${a}, ${b}`);
    });
  });

  it('draws the batches batches() draws from `seed`, the j-th binarized with seeds.binarization + j, capped at the data', async () => {
    const drawn: number[][] = [];
    await runTrainingLoop({
      images,
      options: { steps: 3, batchSize: 4, seed: 9, dynamicBinarization: true, seeds: { binarization: 70 }, quiet: true },
      defaults: { batchSize: 2, learningRate: 1e-3, label: 'test' },
      // Two batches a round: the inner player's and the step's.
      inner: { times: 1, step: (round) => drawn.push(Array.from(round.batch().x.dataSync())) },
      step: (round) => {
        drawn.push(Array.from(round.batch().x.dataSync()));
        return { loss: 0 };
      },
    });
    const stream = batches(images, undefined, { batchSize: 4, seed: 9 });
    const byHand = Array.from({ length: 6 }, (_, j) =>
      Array.from(binarizeStochastic(stream.next().value.x, 70 + j).dataSync()),
    );
    assert.deepStrictEqual(drawn, byHand);
    const whole: number[] = [];
    await runTrainingLoop({
      images,
      options: { steps: 1, batchSize: 500, quiet: true },
      defaults: { batchSize: 2, learningRate: 1e-3, label: 'test' },
      step: (round) => {
        whole.push(round.batch().x.shape[0]);
        return { loss: 0 };
      },
    });
    assert.deepStrictEqual(whole, [10], 'a batch larger than the data is the whole data');
  });

  it('gives the j-th noise seed as seeds.noise + j, by default seed + 1,000,000, and runs the inner player k − 1 times a round', async () => {
    const seeds: string[] = [];
    const run = (options: { seed?: number; seeds?: { noise: number } }) =>
      runTrainingLoop({
        images,
        options: { steps: 2, quiet: true, ...options },
        defaults: { batchSize: 2, learningRate: 1e-3, label: 'test' },
        inner: { times: 2, step: (round) => seeds.push(`inner ${round.index}: ${round.noiseSeed()}`) },
        step: (round) => {
          seeds.push(`step ${round.index}: ${round.noiseSeed()}`);
          return { loss: 0 };
        },
      });
    await run({ seeds: { noise: 40 } });
    assert.deepStrictEqual(seeds, [
      'inner 0: 40',
      'inner 0: 41',
      'step 0: 42',
      'inner 1: 43',
      'inner 1: 44',
      'step 1: 45',
    ]);
    seeds.length = 0;
    await run({ seed: 3 });
    assert.strictEqual(seeds[0], 'inner 0: 1000003');
  });

  it('keeps the weight average w̄ ← β_t w̄ + (1 − β_t) w, β_t = min(β, (1 + t)/(10 + t)), after every round', async () => {
    const model = scalarModel(0);
    const average = await createWeightAverage(model);
    const weight = (m: tf.LayersModel) => m.getWeights()[0].dataSync()[0];
    // Each round sets w to 1, 2, 3, … by hand; the average must follow the closed form.
    await runTrainingLoop({
      images,
      options: { steps: 4, quiet: true },
      defaults: { batchSize: 2, learningRate: 1e-3, label: 'test' },
      step: (round) => {
        model.setWeights([tf.tensor2d([[round.index + 1]])]);
        return { loss: 0 };
      },
      average: { of: model, into: average, decay: 0.5 },
    });
    let expected = 0;
    for (let t = 0; t < 4; t++) {
      const beta = Math.min(0.5, (1 + t) / (10 + t));
      expected = beta * expected + (1 - beta) * (t + 1);
    }
    assert.ok(Math.abs(weight(average.model) - expected) < 1e-6, `${weight(average.model)} vs ${expected}`);
    assert.strictEqual(average.steps, 4);
    // updateWeightAverage on its own takes the same step.
    updateWeightAverage(average, model, 0.5);
    const beta = Math.min(0.5, 5 / 14);
    assert.ok(Math.abs(weight(average.model) - (beta * expected + (1 - beta) * 4)) < 1e-6);
  });

  it('disposes the optimizers it made, keeps those it was given, and refuses a bad decay or k with a sentence', async () => {
    const given = { model: tf.train.adam(0.1) };
    const w = tf.variable(tf.scalar(1));
    const step = (round: { optimizers: { model: tf.Optimizer } }) => ({
      loss: round.optimizers.model.minimize(() => w.square() as tf.Scalar, true)!,
    });
    const loop = { images, defaults: { batchSize: 2, learningRate: 1e-3, label: 'test' }, step };
    await runTrainingLoop({ ...loop, options: { steps: 2, quiet: true }, optimizers: given });
    given.model.minimize(() => w.square() as tf.Scalar); // still usable: not disposed
    const before = tf.memory().numTensors;
    await runTrainingLoop({ ...loop, options: { steps: 2, quiet: true } });
    assert.strictEqual(tf.memory().numTensors, before, "the loop's own Adam and its moments are gone");
    const model = scalarModel(1);
    await assertGenlabErrorAsync(
      async () =>
        runTrainingLoop({
          ...loop,
          options: { steps: 1, quiet: true },
          average: { of: model, into: await createWeightAverage(model), decay: 1 },
        }),
      /decay β is between 0 and 1 \(e\.g\. 0\.999\), got 1/,
    );
    await assertGenlabErrorAsync(
      () => runTrainingLoop({ ...loop, options: { steps: 1, quiet: true }, inner: { times: 1.5, step: () => 0 } }),
      /steps per round must be a whole number ≥ 0, got 1\.5/,
    );
  });
});
