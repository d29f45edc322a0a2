/**
 * `startWasm` as any TensorFlow.js program uses it: the wasm backend becomes the active one, and a plain tfjs program
 * (a tf.sequential convolutional network trained with model.fit, which tfjs's own wasm backend cannot train: it has
 * no Conv2DBackpropFilter) trains to the same losses as on the cpu backend, an independent implementation.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { onEngineWasm } from './helpers';

/** The losses of `epochs` full-batch steps of a small conv net from fixed weights, on the active backend. */
async function convNetLosses(epochs: number): Promise<number[]> {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, strides: 2, activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  });
  // Weights from a fixed seed, so both backends start from the same point.
  model.setWeights(model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.3, 'float32', 10 + i)));
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  const xs = tf.randomNormal([16, 8, 8, 1], 0, 1, 'float32', 1);
  const ys = tf.randomNormal([16, 3], 0, 1, 'float32', 2);
  const history = await model.fit(xs, ys, { epochs, batchSize: 16, shuffle: false, verbose: 0 });
  tf.dispose([xs, ys]);
  model.dispose();
  return history.history.loss as number[];
}

describe('startWasm, for any TensorFlow.js program', function () {
  this.timeout(120000);
  const wasm = onEngineWasm();

  it('makes wasm the active backend and says what runs', () => {
    assert.strictEqual(tf.getBackend(), 'wasm');
    const started = wasm.started();
    assert.strictEqual(typeof started.simd, 'boolean');
    assert.ok(started.threads >= 1, `threads: ${started.threads}`);
    assert.ok(started.native.active || started.native.reason || started.native.off, JSON.stringify(started.native));
  });

  it('a tf.sequential conv net trains with model.fit to the losses the cpu backend gives', async () => {
    const onWasm = await convNetLosses(4);
    await tf.setBackend('cpu');
    const onCpu = await convNetLosses(4);
    await tf.setBackend('wasm');
    assert.ok(onWasm[3] < onWasm[0], `the loss falls: ${onWasm}`);
    onWasm.forEach((loss, i) =>
      assert.ok(
        Math.abs(loss - onCpu[i]) <= 1e-4 * Math.max(1, Math.abs(onCpu[i])),
        `epoch ${i}: ${loss} vs ${onCpu[i]}`,
      ),
    );
  });
});
