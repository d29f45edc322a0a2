/** Lab 2's autoencoders: the lecture's layers by hand, training against the mean-image baseline, batched evaluation against a direct computation. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { loadMnist } from '../../../lib/data/mnist';
import { mse } from '../../../lib/losses';
import * as autoencoder from '../../../lib/models/autoencoder';
import { assertGenlabError, maxAbsDiff } from '../../helpers';

describe('autoencoders', function () {
  this.timeout(120000);
  before(() => init({ quiet: true }));

  it("the conv autoencoder has the lecture's layers: parameter count by hand, shapes 28 → 7 → 28", () => {
    const b = 16;
    const ae = autoencoder.createAutoencoder({ architecture: 'conv', bottleneck: b, seed: 1 });
    // Encoder: 3×3 convs 1→16, 16→32, 32→32, 32→32 (weights + biases), then 7·7·32 → b.
    assert.strictEqual(ae.encoder.countParams(), 160 + 4640 + 9248 + 9248 + 1568 * b + b);
    // Decoder: b → 7·7·32, then 3×3 up-convs 32→32, 32→32, 32→16, 16→1.
    assert.strictEqual(ae.decoder.countParams(), b * 1568 + 1568 + 9248 + 9248 + 4624 + 145);
    const shapes = ae.encoder.layers
      .filter((l) => l.getClassName() === 'Conv2D')
      .map((l) => (l.outputShape as number[]).slice(1));
    assert.deepStrictEqual(shapes, [
      [14, 14, 16],
      [7, 7, 32],
      [7, 7, 32],
      [7, 7, 32],
    ]);
    const out = autoencoder.reconstruct(ae, tf.zeros([3, 28, 28, 1]));
    assert.deepStrictEqual(out.shape, [3, 28, 28, 1]);
    const v = out.dataSync();
    assert.ok(
      v.every((p) => p > 0 && p < 1),
      'the decoder ends in a sigmoid',
    );
    // A zero code decodes to σ(bias) = MNIST's mean intensity 0.1307 (every ReLU before it gets 0 · w + 0).
    const blank = ae.decoder.predict(tf.zeros([1, b])) as tf.Tensor;
    assert.ok(
      Array.from(blank.dataSync()).every((p) => Math.abs(p - 0.1307) < 1e-4),
      'the output bias starts at the mean intensity',
    );
  });

  it('the MLP autoencoder is 784 → 256 → z → 256 → 784', () => {
    const ae = autoencoder.createAutoencoder({ architecture: 'mlp', bottleneck: 32, seed: 1 });
    assert.strictEqual(ae.encoder.countParams(), 784 * 256 + 256 + 256 * 32 + 32);
    assert.strictEqual(ae.decoder.countParams(), 32 * 256 + 256 + 256 * 784 + 784);
    assertGenlabError(
      () => autoencoder.createAutoencoder({ bottleneck: 0 }),
      /bottleneck must be a whole number ≥ 1, got 0/,
    );
    assertGenlabError(
      () => autoencoder.reconstruct(ae, tf.zeros([2, 784])),
      /images shaped \[N, 28, 28, 1\], got \[2,784\]/,
    );
  });

  it("training lowers the reconstruction error below the mean image's, and evaluate agrees with a direct computation", async () => {
    const { train, test } = loadMnist({ limit: { train: 1000, test: 200 } });
    const ae = autoencoder.createAutoencoder({ architecture: 'mlp', bottleneck: 16, seed: 0 });
    const before = tf.memory().numTensors;
    await autoencoder.trainAutoencoder(ae, train.images, { steps: 200, learningRate: 2e-3, quiet: true });
    assert.strictEqual(tf.memory().numTensors, before);
    const error = autoencoder.evaluate(ae, test.images, { batchSize: 64 }).loss;
    assert.strictEqual(
      autoencoder.evaluateMse(ae, test.images, { batchSize: 64 }),
      error,
      'the older name gives the same number',
    );
    // Independent: the MSE from the reconstructions, summed in float64.
    const x = test.images.dataSync();
    const r = autoencoder.reconstruct(ae, test.images).dataSync();
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += (x[i] - r[i]) ** 2;
    assert.ok(Math.abs(error - sum / x.length) < 1e-5, `${error} vs ${sum / x.length}`);
    // Baseline: predicting the mean training image for every input.
    const mean = train.images.mean(0).dataSync();
    let baseline = 0;
    for (let i = 0; i < x.length; i++) baseline += (x[i] - mean[i % 784]) ** 2;
    baseline /= x.length;
    assert.ok(error < 0.7 * baseline, `autoencoder MSE ${error} vs mean-image MSE ${baseline}`);
  });

  it('encodeAll encodes in batches what one pass encodes, and leaves only its result behind', () => {
    const ae = autoencoder.createAutoencoder({ architecture: 'mlp', bottleneck: 4, seed: 6 });
    const x = tf.randomUniform([25, 28, 28, 1], 0, 1, 'float32', 8);
    const whole = (ae.encoder.predict(x) as tf.Tensor).dataSync();
    const before = tf.memory().numTensors;
    const codes = autoencoder.encodeAll(ae, x, 10);
    assert.strictEqual(tf.memory().numTensors, before + 1, 'only the codes remain');
    assert.deepStrictEqual(codes.shape, [25, 4]);
    assert.ok(maxAbsDiff(codes.dataSync(), whole) < 1e-6);
  });

  it('addGaussianNoise adds seeded noise of the given spread, clipped to [0, 1]', () => {
    const x = tf.fill([1, 100, 100, 1], 0.5);
    const noisy = autoencoder.addGaussianNoise(x, { std: 0.1, seed: 3 });
    const v = noisy.dataSync();
    let mean = 0,
      sq = 0;
    for (const p of v) {
      mean += p;
      sq += (p - 0.5) ** 2;
    }
    mean /= v.length;
    assert.ok(
      Math.abs(mean - 0.5) < 0.005 && Math.abs(Math.sqrt(sq / v.length) - 0.1) < 0.005,
      `mean ${mean}, sd ${Math.sqrt(sq / v.length)}`,
    );
    assert.ok(
      autoencoder
        .addGaussianNoise(x, { std: 5, seed: 3 })
        .dataSync()
        .every((p) => p >= 0 && p <= 1),
    );
    assert.deepStrictEqual(
      Array.from(autoencoder.addGaussianNoise(x, { std: 0.1, seed: 3 }).dataSync()),
      Array.from(v),
    );
  });

  it('trainStep returns the mean MSE of the batch before the update, from the clean target when the input is corrupted', () => {
    const ae = autoencoder.createAutoencoder({ architecture: 'mlp', bottleneck: 4, seed: 3 });
    const x = tf.randomUniform([6, 28, 28, 1], 0, 1, 'float32', 5);
    const noisy = autoencoder.addGaussianNoise(x, { std: 0.3, seed: 1 });
    const xs = x.dataSync();
    const r = (ae.decoder.predict(ae.encoder.predict(noisy) as tf.Tensor) as tf.Tensor).dataSync();
    let sum = 0;
    for (let i = 0; i < xs.length; i++) sum += (xs[i] - r[i]) ** 2;
    const { loss } = autoencoder.trainStep(
      ae,
      tf.train.adam(1e-3),
      { x, epoch: 0, indices: new Int32Array(6) },
      { corrupt: () => noisy, loss: mse },
    );
    assert.ok(Math.abs(loss.dataSync()[0] - sum / xs.length) < 1e-6, `${loss.dataSync()[0]} vs ${sum / xs.length}`);
  });
});
