/** The wasm Sum replacement (leading axes as a product with ones) against the cpu backend and by hand. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../lib/backend';
import { relError } from './helpers';

describe('wasm Sum', () => {
  before(() => init({ backend: 'wasm', quiet: true }));
  after(() => init({ quiet: true }));

  const cases: { shape: number[]; axis: number | number[]; keepDims: boolean; dtype?: 'int32' }[] = [
    { shape: [6, 5, 4, 3], axis: [0, 1, 2], keepDims: false }, // a bias gradient
    { shape: [6, 5, 4, 3], axis: [2, 0, 1], keepDims: true }, // axes in any order
    { shape: [7, 9], axis: 0, keepDims: false },
    { shape: [7, 9], axis: -2, keepDims: true }, // negative axis
    { shape: [3, 4, 5], axis: [1, 2], keepDims: false }, // trailing axes: the stock kernel
    { shape: [3, 4, 5], axis: [0, 2], keepDims: false }, // not a prefix: the stock kernel
    { shape: [3, 4], axis: [0, 1], keepDims: false }, // every axis: the stock kernel
    { shape: [4, 3], axis: 0, keepDims: false, dtype: 'int32' }, // int32: the stock kernel
  ];
  for (const c of cases) {
    it(`sum over [${c.axis}] of [${c.shape}]${c.keepDims ? ', keepDims' : ''}${c.dtype ? ` (${c.dtype})` : ''} matches cpu`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, (_, i) => (c.dtype ? (i % 11) - 5 : Math.cos(i * 0.7) * 3));
      const run = () => tf.tidy(() => {
        const out = tf.sum(tf.tensor(values, c.shape, c.dtype ?? 'float32'), c.axis, c.keepDims);
        return { shape: out.shape, values: Array.from(out.dataSync()) };
      });
      const onWasm = run();
      await tf.setBackend('cpu');
      const onCpu = run();
      await tf.setBackend('wasm');
      assert.deepStrictEqual(onWasm.shape, onCpu.shape);
      assert.ok(relError(onWasm.values, onCpu.values) < 1e-5, `${onWasm.values} vs ${onCpu.values}`);
    });
  }

  it('counts exactly: the sum of ones over [64, 28, 28] is 50,176 in every channel, and nothing is left behind', () => {
    const x = tf.ones([64, 28, 28, 8]);
    const before = tf.memory().numTensors;
    const s = tf.sum(x, [0, 1, 2]);
    assert.deepStrictEqual(Array.from(s.dataSync()), new Array(8).fill(50176));
    s.dispose();
    assert.strictEqual(tf.memory().numTensors, before);
    x.dispose();
  });
});
