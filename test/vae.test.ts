import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../lib/engine/backend';
import { binarize } from '../lib/data/batches';
import { loadMnist } from '../lib/data/mnist';
import { fit } from '../lib/train';
import * as vae from '../lib/models/vae';
import { assertGenlabError } from './helpers';

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
      assert.deepStrictEqual([mu.shape, logvar.shape], [[4, 3], [4, 3]]);
      assert.deepStrictEqual(vae.decode(a, mu).shape, [4, 28, 28, 1]);
      assert.deepStrictEqual(Array.from(vae.encode(b, x.slice(0, 4)).mu.dataSync()), Array.from(mu.dataSync()));
    });
  }

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
    assert.ok(counts.slice(1).every((c) => c === counts[1]), 'no tensors leak across steps');
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
    assert.ok(path.slice(0, 1).sub(vae.reconstruct(model, x.slice(0, 1))).abs().max().dataSync()[0] < 1e-5);
    assert.deepStrictEqual(vae.latentGrid(model, 4).shape, [16, 28, 28, 1]);
    assertGenlabError(() => vae.latentGrid(vae.createVae({ latentDim: 3, seed: 1 })), /latentDim 3/, /createVae\(\{ latentDim: 2 \}\)/);
    assertGenlabError(() => vae.encode(model, tf.zeros([2, 784])), /\[N, 28, 28, 1\], got \[2,784\]/);
  });
});
