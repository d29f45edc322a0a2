/**
 * ActNorm (lib/layers/act_norm.ts): its map, log-determinant, inverse and data-dependent initialisation against
 * values worked out here in float64, and its round trip through a saved model.
 */
import * as assert from 'assert';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { loadModel, saveModel } from '../../../lib/io';
import { ActNorm } from '../../../lib/layers/act_norm';
import { maxAbsDiff, tempDir } from '../../helpers';

/** An ActNorm on [h, w, c] images, built, with the given bias and log-scale. */
function actNorm(shape: number[], bias: number[], logScale: number[]): ActNorm {
  const layer = new ActNorm();
  layer.apply(tf.input({ shape }));
  layer.setWeights([tf.tensor1d(bias), tf.tensor1d(logScale)]);
  return layer;
}

describe('ActNorm', () => {
  before(() => init({ quiet: true }));

  it('maps x to (x + b) e^{log s} per channel, with log |det| = H·W·Σ log s, and its inverse undoes it', () => {
    const [bias, logScale] = [
      [0.5, -1],
      [0.2, -0.7],
    ];
    const layer = actNorm([3, 2, 2], bias, logScale);
    const x = tf.randomNormal([2, 3, 2, 2], 0, 1, 'float32', 1);
    const { y, logDet } = layer.forward(x);
    const xs = x.dataSync();
    const expected = Array.from(xs, (v, i) => (v + bias[i % 2]) * Math.exp(logScale[i % 2]));
    assert.ok(maxAbsDiff(y.dataSync(), expected) < 1e-5);
    // 6 positions share each channel's scale: 6 (0.2 − 0.7) = −3 for every example.
    assert.ok(maxAbsDiff(logDet.dataSync(), [-3, -3]) < 1e-5, `${logDet.dataSync()}`);
    assert.ok(maxAbsDiff(layer.inverse(y).dataSync(), xs) < 1e-5);
  });

  it('initializeFrom: mean 0 and variance 1 per channel on that batch (as computed here); a constant channel keeps scale 1', () => {
    const layer = actNorm([2, 2, 2], [0, 0], [0, 0]);
    // Channel 0 varies; channel 1 is 3 everywhere.
    const values = [1, 3, 2, 3, 4, 3, 7, 3, -1, 3, 0, 3, 5, 3, 2, 3];
    const x = tf.tensor4d(values, [2, 2, 2, 2]);
    layer.initializeFrom(x);
    const c0 = values.filter((_, i) => i % 2 === 0);
    const mean = c0.reduce((a, b) => a + b) / c0.length;
    const std = Math.sqrt(c0.reduce((a, b) => a + (b - mean) ** 2, 0) / c0.length);
    const [b, logS] = layer.getWeights().map((w) => Array.from(w.dataSync()));
    assert.ok(maxAbsDiff(b, [-mean, -3]) < 1e-5, `bias ${b}`);
    assert.ok(maxAbsDiff(logS, [-Math.log(std), 0]) < 1e-5, `log scale ${logS}`);
    const { mean: m, variance: v } = tf.moments(layer.forward(x).y, [0, 1, 2]);
    assert.ok(maxAbsDiff(m.dataSync(), [0, 0]) < 1e-5);
    assert.ok(maxAbsDiff(v.dataSync(), [1, 0]) < 1e-4);
  });

  it('saves and loads in a model, its weights included', async () => {
    const input = tf.input({ shape: [2, 2, 3] });
    const layer = new ActNorm();
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    layer.setWeights([tf.tensor1d([1, 2, 3]), tf.tensor1d([-0.5, 0, 0.5])]);
    const dir = path.join(tempDir(), 'actnorm');
    await saveModel(model, dir);
    const back = await loadModel(dir);
    const loaded = back.layers.find((l) => l instanceof ActNorm) as ActNorm;
    assert.ok(loaded, 'the loaded model holds an ActNorm');
    const x = tf.randomNormal([1, 2, 2, 3], 0, 1, 'float32', 2);
    assert.ok(maxAbsDiff(loaded.forward(x).y.dataSync(), layer.forward(x).y.dataSync()) < 1e-6);
  });
});
