/**
 * The diffusion model: the schedules against their closed forms; the forward process's mean and variance by
 * sampling; the ε-loss at its two ends (an oracle and a network that says nothing); the ancestral step against the
 * posterior mean written as DDPM's equation 7 (a second formula, not the one the code uses); DDIM's special cases
 * (η = 0 to the image is x̂_0, η = 1 is the ancestral step, an oracle reaches the image in a few steps);
 * v-prediction's ε̂ in closed form and its loss as the reweighted ε-loss; guidance as the linear mix of two passes; training that lowers the loss; bad input as sentences.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { loadMnist } from '../../../lib/data/mnist';
import * as diffusion from '../../../lib/models/diffusion';
import { assertGenlabError, maxAbsDiff } from '../../helpers';

const schedule = diffusion.noiseSchedule(1000);

/** DDPM's posterior mean μ̃_t(x_t, x_0) (Ho et al. 2020, eq. 7), in plain JavaScript, element by element. */
function posteriorMean(xt: number[], x0: number[], t: number): number[] {
  const { betas, alphas, alphaBars } = schedule;
  const prev = t > 0 ? alphaBars[t - 1] : 1;
  return xt.map(
    (v, i) =>
      ((Math.sqrt(prev) * betas[t]) / (1 - alphaBars[t])) * x0[i] +
      ((Math.sqrt(alphas[t]) * (1 - prev)) / (1 - alphaBars[t])) * v,
  );
}

/** x̂_0 from x_t and ε, x_0 = (x_t − √(1 − ᾱ) ε) / √ᾱ, in plain JavaScript. */
const imageFrom = (xt: number[], eps: number[], t: number) =>
  xt.map((v, i) => (v - Math.sqrt(1 - schedule.alphaBars[t]) * eps[i]) / Math.sqrt(schedule.alphaBars[t]));

const values = (x: tf.Tensor) => Array.from(x.dataSync());

describe('diffusion', function () {
  this.timeout(180000);
  before(() => init({ quiet: true }));

  it('the linear schedule runs from β = 1e-4 to 0.02 over 1,000 steps, and ᾱ_t = exp Σ log(1 − β_s)', () => {
    assert.strictEqual(schedule.betas.length, 1000);
    assert.ok(Math.abs(schedule.betas[0] - 1e-4) < 1e-12 && Math.abs(schedule.betas[999] - 0.02) < 1e-12);
    assert.ok(Math.abs(schedule.betas[500] - (1e-4 + (0.0199 * 500) / 999)) < 1e-12);
    let logSum = 0;
    schedule.betas.forEach((b, t) => {
      logSum += Math.log1p(-b);
      assert.ok(Math.abs(schedule.alphaBars[t] - Math.exp(logSum)) < 1e-12, `ᾱ_${t}`);
      assert.strictEqual(schedule.alphas[t], 1 - b);
    });
    // The image is all but gone at the end: √ᾱ_T ≈ 0.0064 (DDPM's figure).
    assert.ok(Math.abs(Math.sqrt(schedule.alphaBars[999]) - 0.00635) < 1e-4);
    // Fewer steps add as much noise in all: T = 100 rescales β so that Σ β_t is DDPM's.
    const sum = (betas: readonly number[]) => betas.reduce((p, b) => p + b, 0);
    assert.ok(Math.abs(sum(diffusion.noiseSchedule(100).betas) - sum(schedule.betas)) < 1e-9);
  });

  it('the cosine schedule is ᾱ_t = f(t + 1) / f(0), f(u) = cos²((u / T + s) / (1 + s) · π / 2), where β is not clipped', () => {
    const cosine = diffusion.noiseSchedule(200, 'cosine');
    const f = (u: number) => Math.cos(((u / 200 + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [0, 1, 50, 120, 180]) assert.ok(Math.abs(cosine.alphaBars[t] - f(t + 1) / f(0)) < 1e-9, `t = ${t}`);
    assert.ok(cosine.betas.every((b) => b > 0 && b <= 0.999));
  });

  it('qSample: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε per example, by hand; over many draws its mean is √ᾱ_t x_0 and its variance 1 − ᾱ_t', () => {
    const x0 = tf.tensor2d([
      [1, -1],
      [0.5, 0],
    ]);
    const eps = tf.tensor2d([
      [0.2, 0.4],
      [-1, 2],
    ]);
    const t = [10, 700];
    const got = values(diffusion.qSample(x0, t, eps, schedule));
    const [a, b] = [schedule.alphaBars[10], schedule.alphaBars[700]];
    const want = [
      Math.sqrt(a) * 1 + Math.sqrt(1 - a) * 0.2,
      -Math.sqrt(a) + Math.sqrt(1 - a) * 0.4,
      Math.sqrt(b) * 0.5 - Math.sqrt(1 - b),
      2 * Math.sqrt(1 - b),
    ];
    assert.ok(maxAbsDiff(got, want) < 1e-6, `${got} vs ${want}`);
    // Images: one step per image, broadcast over its pixels.
    const images = tf.fill([3, 28, 28, 1], 0.7);
    const steps = [0, 300, 999];
    const xt = diffusion.qSample(images, steps, tf.randomNormal([3, 28, 28, 1], 0, 1, 'float32', 1), schedule);
    steps.forEach((s, i) => {
      const pixels = values(xt.slice([i], [1]));
      const mean = pixels.reduce((p, v) => p + v, 0) / pixels.length;
      const variance = pixels.reduce((p, v) => p + (v - mean) ** 2, 0) / pixels.length;
      const alphaBar = schedule.alphaBars[s];
      assert.ok(
        Math.abs(mean - Math.sqrt(alphaBar) * 0.7) < 4 * Math.sqrt((1 - alphaBar) / 784) + 1e-6,
        `mean at ${s}`,
      );
      assert.ok(Math.abs(variance - (1 - alphaBar)) < 0.15 * (1 - alphaBar) + 1e-6, `variance at ${s}: ${variance}`);
    });
  });

  it('the ε-loss is 0 for the oracle that knows x_0, and mean(ε²) for a network that always says 0; a scalar, a mean over every element', () => {
    const x0 = tf.randomUniform([4, 3], -1, 1, 'float32', 2);
    const eps = tf.randomNormal([4, 3], 0, 1, 'float32', 3);
    const t = [5, 100, 400, 990];
    const oracle: diffusion.Denoiser = (xt, steps) =>
      xt.sub(diffusion.perExample(schedule.alphaBars.map(Math.sqrt), steps, xt).mul(x0)).div(
        diffusion.perExample(
          schedule.alphaBars.map((a) => Math.sqrt(1 - a)),
          steps,
          xt,
        ),
      );
    const perfect = diffusion.epsilonLoss(oracle, x0, t, eps, diffusion.noising(schedule));
    assert.strictEqual(perfect.rank, 0);
    assert.ok(perfect.dataSync()[0] < 1e-8, `${perfect.dataSync()[0]}`);
    const silent = diffusion
      .epsilonLoss((xt) => tf.zerosLike(xt), x0, t, eps, diffusion.noising(schedule))
      .dataSync()[0];
    const want = values(eps).reduce((p, v) => p + v * v, 0) / 12;
    assert.ok(Math.abs(silent - want) < 1e-5, `${silent} vs ${want}`);
  });

  it('an ancestral step’s mean is the posterior mean μ̃(x_t, x̂_0) of DDPM’s equation 7, its noise scaled by √β̃_t, and at t = 0 it adds none', () => {
    const xt = [0.3, -1.2, 0.8];
    const eps = [0.5, 0.1, -0.7];
    const z = [1, -2, 0.5];
    for (const t of [0, 1, 250, 999]) {
      const mean = posteriorMean(xt, imageFrom(xt, eps, t), t);
      const noiseless = values(diffusion.ancestralStep(tf.tensor1d(xt), t, tf.tensor1d(eps), tf.zeros([3]), schedule));
      assert.ok(maxAbsDiff(noiseless, mean) < 1e-5, `t = ${t}: ${noiseless} vs ${mean}`);
      const noisy = values(diffusion.ancestralStep(tf.tensor1d(xt), t, tf.tensor1d(eps), tf.tensor1d(z), schedule));
      const sigma =
        t === 0 ? 0 : Math.sqrt((schedule.betas[t] * (1 - schedule.alphaBars[t - 1])) / (1 - schedule.alphaBars[t]));
      assert.ok(
        maxAbsDiff(
          noisy,
          mean.map((m, i) => m + sigma * z[i]),
        ) < 1e-5,
        `t = ${t}`,
      );
    }
  });

  it('DDIM: to t′ = −1 it gives x̂_0; with η = 1 and t′ = t − 1 its noiseless part is the ancestral mean; an oracle reaches x_0 in 5 steps', () => {
    const xt = [0.3, -1.2, 0.8];
    const eps = [0.5, 0.1, -0.7];
    const t = 400;
    const toImage = values(diffusion.ddimStep(tf.tensor1d(xt), t, -1, tf.tensor1d(eps), schedule));
    assert.ok(maxAbsDiff(toImage, imageFrom(xt, eps, t)) < 1e-5);
    const eta1 = values(diffusion.ddimStep(tf.tensor1d(xt), t, t - 1, tf.tensor1d(eps), schedule, 1, tf.zeros([3])));
    assert.ok(maxAbsDiff(eta1, posteriorMean(xt, imageFrom(xt, eps, t), t)) < 1e-5, `${eta1}`);
    // η = 0: deterministic, x_{t'} = √ᾱ' x̂_0 + √(1 − ᾱ') ε̂.
    const eta0 = values(diffusion.ddimStep(tf.tensor1d(xt), t, 100, tf.tensor1d(eps), schedule));
    const a = schedule.alphaBars[100];
    const want = imageFrom(xt, eps, t).map((v, i) => Math.sqrt(a) * v + Math.sqrt(1 - a) * eps[i]);
    assert.ok(maxAbsDiff(eta0, want) < 1e-5);
    // The oracle ε̂ = (x_t − √ᾱ_t x_0) / √(1 − ᾱ_t) for one known x_0: five DDIM steps from noise land on it.
    const x0 = tf.tensor1d([0.9, -0.4, 0.1]);
    let x: tf.Tensor = tf.randomNormal([3], 0, 1, 'float32', 4);
    const steps = diffusion.samplingSteps(schedule, 5);
    assert.deepStrictEqual(steps, [999, 749, 500, 250, 0]);
    steps.forEach((s, i) => {
      const oracle = x.sub(x0.mul(Math.sqrt(schedule.alphaBars[s]))).div(Math.sqrt(1 - schedule.alphaBars[s]));
      x = diffusion.ddimStep(x, s, i + 1 < steps.length ? steps[i + 1] : -1, oracle, schedule);
    });
    assert.ok(maxAbsDiff(values(x), values(x0)) < 1e-4, `${values(x)}`);
  });

  it('step features are [sin tω_k, cos tω_k]; labels one-hot with a last "no label" column', () => {
    const features = diffusion.timeFeatures([0, 1]).arraySync();
    assert.deepStrictEqual(features[0], [...Array(16).fill(0), ...Array(16).fill(1)]);
    assert.ok(Math.abs(features[1][0] - Math.sin(1)) < 1e-6 && Math.abs(features[1][16] - Math.cos(1)) < 1e-6);
    assert.ok(Math.abs(features[1][8] - Math.sin(1e-2)) < 1e-6, 'ω_8 = 10000^(−1/2)');
    assert.deepStrictEqual(diffusion.labelRows([2, null], 3).arraySync(), [
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ]);
  });

  it('guidance w mixes one conditional and one unconditional pass: ε_∅ + w (ε_y − ε_∅)', () => {
    const model = diffusion.createDiffusion({ channels: [4, 4], embedding: 8, timesteps: 50, seed: 2 });
    // Random weights everywhere (the output layer starts at zero).
    model.network.setWeights(
      model.network.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.3, 'float32', 10 + i)),
    );
    const xt = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 5);
    const labelled = diffusion.predictNoise(model, xt, [20, 20], [3, 7]);
    const none = diffusion.predictNoise(model, xt, [20, 20], [null, null]);
    assert.ok(maxAbsDiff(values(labelled), values(none)) > 1e-3, 'the label changes ε̂');
    for (const w of [0, 1, 2.5]) {
      const guided = diffusion.guidedNoise(model, xt, 20, [3, 7], w);
      const want = none.add(labelled.sub(none).mul(w));
      assert.ok(maxAbsDiff(values(guided), values(want)) < 1e-4, `w = ${w}`);
    }
  });

  it('many images at once sample as each would alone: the network runs on a few hundred at a time, each image with its own label', () => {
    const model = diffusion.createDiffusion({ channels: [4, 4], embedding: 8, timesteps: 50, seed: 4 });
    model.network.setWeights(
      model.network.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.3, 'float32', 30 + i)),
    );
    // More images than the sampler shows the network at once, so that the batch is cut; labels that vary per image.
    const n = 520;
    const xt = tf.randomNormal([n, 28, 28, 1], 0, 1, 'float32', 6);
    const labels = Array.from({ length: n }, (_, i) => (i * 7) % 10);
    const options = { from: 40, steps: 3, guidance: 2.5 };
    const all = diffusion.denoise(model, xt, { ...options, labels });
    for (const [start, size] of [
      [0, 3],
      [248, 5],
      [517, 3],
    ]) {
      const alone = diffusion.denoise(model, xt.slice(start, size), {
        ...options,
        labels: labels.slice(start, start + size),
      });
      assert.ok(
        maxAbsDiff(values(all.slice(start, size)), values(alone)) < 1e-5,
        `images ${start} to ${start + size - 1}`,
      );
    }
  });

  it('a v-model: untrained, ε̂ = √(1 − ᾱ_t) x_t exactly; its loss is the ε-loss with step t weighted by 1 / ᾱ_t', () => {
    const model = diffusion.createDiffusion({ channels: [4, 4], embedding: 8, seed: 3 });
    assert.strictEqual(model.config.prediction, 'v');
    const x0 = tf.randomUniform([3, 28, 28, 1], -1, 1, 'float32', 6);
    const noise = tf.randomNormal([3, 28, 28, 1], 0, 1, 'float32', 7);
    const t = [20, 500, 990];
    const xt = diffusion.qSample(x0, t, noise, model.schedule);
    // The output layer starts at zero, so v̂ = 0.
    const want = tf.concat(t.map((s, i) => xt.slice(i, 1).mul(Math.sqrt(1 - model.schedule.alphaBars[s]))));
    assert.ok(maxAbsDiff(values(diffusion.predictNoise(model, xt, t, [1, 2, null])), values(want)) < 1e-6);
    // With random weights: vLoss against (ε̂ − ε)² / ᾱ_t, element by element, from predictNoise.
    model.network.setWeights(
      model.network.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.2, 'float32', 30 + i)),
    );
    const labels = [4, null, 9];
    const got = diffusion.vLoss(model, x0, t, noise, labels).dataSync()[0];
    const eps = values(diffusion.predictNoise(model, xt, t, labels));
    const truth = values(noise);
    let total = 0;
    eps.forEach((e, i) => (total += (e - truth[i]) ** 2 / model.schedule.alphaBars[t[Math.floor(i / 784)]]));
    assert.ok(Math.abs(got - total / eps.length) < 1e-4 * (total / eps.length), `${got} vs ${total / eps.length}`);
  });

  it('trained for 150 steps on 512 digits, the ε-loss on held-out digits falls: an ε-model from 1 (a network that says 0) to under 0.25, a v-model to under half its start; samples are images in [0, 1]', async () => {
    const { train, test } = loadMnist({ limit: { train: 512, test: 128 } });
    const trained = async (prediction: 'epsilon' | 'v') => {
      const model = diffusion.createDiffusion({ channels: [8, 16], embedding: 16, prediction, seed: 1 });
      const before = diffusion.evaluate(model, test, { seed: 1 }).loss;
      await diffusion.trainDiffusion(model, train, {
        steps: 150,
        batchSize: 32,
        learningRate: 2e-3,
        seed: 1,
        quiet: true,
      });
      return { model, before, after: diffusion.evaluate(model, test, { seed: 1 }).loss };
    };
    const epsilon = await trained('epsilon');
    assert.ok(Math.abs(epsilon.before - 1) < 0.02, `the zero network's loss is E ε² = 1, got ${epsilon.before}`);
    assert.ok(epsilon.after < 0.25, `after training: ${epsilon.after}`);
    const v = await trained('v');
    assert.ok(v.after < v.before / 2, `v-model: ${v.before} → ${v.after}`);
    const model = v.model;
    const images = await diffusion.sample(model, 4, 1, { steps: 10, guidance: 2 });
    assert.deepStrictEqual(images.shape, [4, 28, 28, 1]);
    assert.ok(images.min().dataSync()[0] >= 0 && images.max().dataSync()[0] <= 1);
    const again = await diffusion.sample(model, 4, 1, { steps: 10, guidance: 2 });
    assert.strictEqual(maxAbsDiff(values(images), values(again)), 0, 'the seed fixes the samples');
    const partly = diffusion.denoise(
      model,
      diffusion.qSample(
        diffusion.toChainRange(test.images.slice(0, 2)),
        [300, 300],
        tf.randomNormal([2, 28, 28, 1]),
        model.schedule,
      ),
      { from: 300, steps: 5, labels: [null, null] },
    );
    assert.deepStrictEqual(partly.shape, [2, 28, 28, 1]);
  });

  it('bad input is a sentence: steps outside the schedule, labels outside the digits, t′ not before t, η without noise, a wrong image shape', () => {
    const x = tf.zeros([1, 2]);
    assertGenlabError(() => diffusion.qSample(x, [1000], x, schedule), /t is a step from 0 to 999, got 1000/);
    assertGenlabError(() => diffusion.qSample(x, [1, 2], x, schedule), /One step per example: 1 examples but 2 steps/);
    assertGenlabError(() => diffusion.ddimStep(x, 10, 10, x, schedule), /earlier step than t = 10/);
    assertGenlabError(() => diffusion.ddimStep(x, 10, 5, x, schedule, 0.5), /draws noise: pass it as z/);
    assertGenlabError(
      () => diffusion.labelRows([11], 10),
      /label 0 is 11; labels are whole numbers from 0 to 9, or null/,
    );
    assertGenlabError(() => diffusion.noiseSchedule(100, 'quadratic' as 'linear'), /'linear' or 'cosine'/);
    const model = diffusion.createDiffusion({ channels: [2, 2], embedding: 4, timesteps: 10, seed: 1 });
    assertGenlabError(() => diffusion.denoise(model, tf.zeros([1, 28, 28])), /\[N, 28, 28, 1\]/);
    assertGenlabError(
      () => diffusion.denoise(model, tf.zeros([1, 28, 28, 1]), { labels: [1, 2] }),
      /1 images but 2 labels/,
    );
    assertGenlabError(
      () => diffusion.denoise(model, tf.zeros([1, 28, 28, 1]), { guidance: -1 }),
      /guidance is a number ≥ 0/,
    );
    assertGenlabError(() => diffusion.createDiffusion({ channels: [4] as unknown as [number, number] }), /two numbers/);
    assertGenlabError(() => diffusion.createDiffusion({ prediction: 'x0' as 'v' }), /'epsilon' or 'v'/);
  });
});
