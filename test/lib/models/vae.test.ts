import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { batches, binarize, binarizeStochastic } from '../../../lib/data/batches';
import { loadMnist } from '../../../lib/data/mnist';
import { VAE_RECIPE } from '../../../lib/recipes';
import { cosineSchedule, fit, setLearningRate } from '../../../lib/train';
import * as vae from '../../../lib/models/vae';
import { assertGenlabError, assertGenlabErrorAsync } from '../../helpers';

describe('VAE model', () => {
  let x: tf.Tensor4D;
  before(async () => {
    await init({ quiet: true });
    const { train } = loadMnist({ limit: { train: 1000, test: 1 } });
    x = binarize(train.images) as tf.Tensor4D;
  });

  for (const architecture of ['mlp', 'conv'] as const) {
    it(`${architecture}: shapes, and the same seed builds the same weights`, () => {
      const a = vae.createVae({ latentDim: 3, architecture, seed: 5 });
      const b = vae.createVae({ latentDim: 3, architecture, seed: 5 });
      const { mu, logvar } = vae.encode(a, x.slice(0, 4));
      assert.deepStrictEqual(
        [mu.shape, logvar.shape],
        [
          [4, 3],
          [4, 3],
        ],
      );
      assert.deepStrictEqual(vae.decode(a, mu).shape, [4, 28, 28, 1]);
      assert.deepStrictEqual(Array.from(vae.encode(b, x.slice(0, 4)).mu.dataSync()), Array.from(mu.dataSync()));
    });
  }

  it('a step whose results a tidy drops leaves no tensor behind (its kept terms included)', () => {
    const model = vae.createVae({ latentDim: 2, hiddenUnits: [8], seed: 3 });
    const optimizer = tf.train.adam(1e-3);
    const x = tf.tidy(() => binarize(tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1)));
    tf.tidy(() => void vae.trainStep(model, optimizer, x, { seed: 1 })); // Adam's moments are made here
    const before = tf.memory().numTensors;
    tf.tidy(() => void vae.trainStep(model, optimizer, x, { seed: 2 }));
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('trains: the −ELBO falls, the IWAE bound tightens with K, memory stays flat', async () => {
    const model = vae.createVae({ latentDim: 8, seed: 1, hiddenUnits: [256, 128] });
    const optimizer = tf.train.adam(1e-3);
    const before = vae.evaluate(model, x, { seed: 1 }).negativeElbo;
    // An untrained decoder outputs logits ≈ 0: −log p(x|z) ≈ 784·ln 2 ≈ 543 nats.
    assert.ok(Math.abs(before - 784 * Math.log(2)) < 30, `initial −ELBO ${before}`);
    const counts: number[] = [];
    await fit({
      steps: 150,
      quiet: true,
      step: (i) => vae.trainStep(model, optimizer, x.slice((i * 50) % 950, 50), { seed: i }),
      onStep: () => void counts.push(tf.memory().numTensors),
    });
    assert.ok(
      counts.slice(1).every((c) => c === counts[1]),
      'no tensors leak across steps',
    );
    const after = vae.evaluate(model, x, { seed: 1 });
    assert.ok(after.negativeElbo < 220, `−ELBO after training ${after.negativeElbo}`);
    assert.ok(Math.abs(after.negativeElbo - after.reconstruction - after.kl) < 1e-3);
    const nll1 = vae.iwaeNegativeLogLikelihood(model, x.slice(0, 200), 1, { seed: 2 });
    const nll50 = vae.iwaeNegativeLogLikelihood(model, x.slice(0, 200), 50, { seed: 2 });
    assert.ok(nll50 < nll1, `IWAE K=50 (${nll50}) should be tighter than K=1 (${nll1})`);
  });

  it('samples, reconstructs, interpolates and draws a 2-D latent grid', () => {
    const model = vae.createVae({ latentDim: 2, seed: 3 });
    assert.deepStrictEqual(vae.sample(model, 5, 1).shape, [5, 28, 28, 1]);
    const r = vae.reconstruct(model, x.slice(0, 3));
    assert.ok(r.min().dataSync()[0] >= 0 && r.max().dataSync()[0] <= 1);
    const path = vae.interpolate(model, x.slice(0, 1), x.slice(1, 1), 7);
    assert.deepStrictEqual(path.shape, [7, 28, 28, 1]);
    // The ends of the path are the reconstructions of the two images.
    assert.ok(
      path
        .slice(0, 1)
        .sub(vae.reconstruct(model, x.slice(0, 1)))
        .abs()
        .max()
        .dataSync()[0] < 1e-5,
    );
    assert.deepStrictEqual(vae.latentGrid(model, 4).shape, [16, 28, 28, 1]);
    assertGenlabError(
      () => vae.latentGrid(vae.createVae({ latentDim: 3, seed: 1 })),
      /latentDim 3/,
      /createVae\(\{ latentDim: 2 \}\)/,
    );
    assertGenlabError(() => vae.encode(model, tf.zeros([2, 784])), /\[N, 28, 28, 1\], got \[2,784\]/);
  });

  it('klWeight ramps β linearly over min(maxSteps, ⌊maxFraction · steps⌋) steps, then holds it', () => {
    const warmup = { klWarmup: { maxSteps: 2000, maxFraction: 1 / 6 } };
    assert.strictEqual(vae.klWeight(0, 13000, warmup), 0);
    assert.strictEqual(vae.klWeight(1000, 13000, warmup), 0.5);
    assert.strictEqual(vae.klWeight(2000, 13000, warmup), 1);
    assert.strictEqual(vae.klWeight(9000, 13000, { ...warmup, beta: 5 }), 5);
    assert.strictEqual(vae.klWeight(2, 30, warmup), 2 / 5, '30 steps: a warm-up of ⌊30 / 6⌋ = 5');
    assert.strictEqual(vae.klWeight(0, 30), 1, 'no warm-up: the ELBO from the start');
  });

  it("trainVae with lab 3's recipe takes the very steps of the loop the lab wrote out by hand", async () => {
    const steps = 12;
    const hand = vae.createVae({ latentDim: 4, hiddenUnits: [32], seed: 8 });
    const byRecipe = vae.createVae({ latentDim: 4, hiddenUnits: [32], seed: 8 });
    // The loop lab 3 had before the recipe was data: Adam 2e-3 → 1e-4 on a cosine, batches of 128 from seed 1,
    // warm-up over min(2000, ⌊steps / 6⌋), binarization seed i + 1, noise seed 1,000,000 + i.
    const optimizer = tf.train.adam(2e-3);
    const learningRate = cosineSchedule(2e-3, 1e-4, steps);
    const warmupSteps = Math.min(2000, Math.floor(steps / 6));
    const stream = batches(x, undefined, { batchSize: 128, seed: 1 });
    const byHand = await fit({
      steps,
      quiet: true,
      step: (i) => {
        setLearningRate(optimizer, learningRate(i));
        const beta = Math.min(1, i / Math.max(1, warmupSteps));
        return vae.trainStep(hand, optimizer, binarizeStochastic(stream.next().value.x, i + 1), {
          seed: 1_000_000 + i,
          beta,
        });
      },
    });
    const recipe = await vae.trainVae(byRecipe, x, { ...VAE_RECIPE.training, steps, quiet: true });
    assert.deepStrictEqual(recipe.values, byHand.values);
    const weights = (m: vae.Vae) =>
      [...m.encoder.getWeights(), ...m.decoder.getWeights()].map((w) => Array.from(w.dataSync()));
    assert.deepStrictEqual(weights(byRecipe), weights(hand));
  });

  it("trainVae runs a lab's own step with each step's noise seed and KL weight", async () => {
    const model = vae.createVae({ latentDim: 2, hiddenUnits: [8], seed: 1 });
    const calls: [number, number][] = [];
    await vae.trainVae(model, x, {
      steps: 6,
      quiet: true,
      klWarmup: { maxSteps: 3 },
      seeds: { noise: 50 },
      trainStep: (m, optimizer, batch, step) => {
        calls.push([step.seed, step.beta!]);
        return vae.trainStep(m, optimizer, batch, step);
      },
    });
    assert.deepStrictEqual(calls, [
      [50, 0],
      [51, 1 / 3],
      [52, 2 / 3],
      [53, 1],
      [54, 1],
      [55, 1],
    ]);
  });

  it('trainVae refuses grey images unless it binarizes each batch itself, in a sentence', async () => {
    const model = vae.createVae({ latentDim: 2, hiddenUnits: [8], seed: 1 });
    const grey = tf.fill([8, 28, 28, 1], 0.5);
    await assertGenlabErrorAsync(
      () => vae.trainVae(model, grey, { steps: 1, quiet: true }),
      /expects binary images/,
      /dynamicBinarization: true/,
    );
    const history = await vae.trainVae(model, grey, { steps: 1, quiet: true, dynamicBinarization: true });
    assert.ok(Number.isFinite(history.values.loss[0]));
  });

  it('the recipe is frozen: a notebook cannot change what the benchmark measures', () => {
    assert.throws(() => {
      (VAE_RECIPE.training as { batchSize: number }).batchSize = 1;
    }, TypeError);
    assert.strictEqual(VAE_RECIPE.training.batchSize, 128);
  });
});
