/** The wasm Tile replacement (a broadcast where every repeated axis has length 1) against the cpu backend. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { onEngineWasm } from '../helpers';

describe('wasm Tile', () => {
  onEngineWasm();

  const cases: { shape: number[]; reps: number[]; dtype: 'float32' | 'int32' }[] = [
    { shape: [1, 1, 1, 5], reps: [3, 4, 2, 1], dtype: 'float32' }, // batch-norm gradient shape: broadcast
    { shape: [2, 1, 3], reps: [1, 4, 1], dtype: 'float32' }, // broadcast along a middle axis
    { shape: [4], reps: [1], dtype: 'float32' }, // nothing repeated
    { shape: [2, 3], reps: [2, 3], dtype: 'float32' }, // a true tile: the stock kernel
    { shape: [1, 3], reps: [4, 2], dtype: 'float32' }, // mixed: one axis broadcast, one tiled
    { shape: [1, 2], reps: [3, 1], dtype: 'int32' }, // int32 goes to the stock kernel
  ];
  for (const c of cases) {
    it(`[${c.shape}] × reps [${c.reps}] (${c.dtype}) matches cpu, value for value`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, (_, i) => (c.dtype === 'int32' ? i * 7 - 3 : Math.sin(i + 1) * 10));
      const run = () =>
        tf.tidy(() => {
          const out = tf.tile(tf.tensor(values, c.shape, c.dtype), c.reps);
          return { shape: out.shape, values: Array.from(out.dataSync()) };
        });
      const onWasm = run();
      await tf.setBackend('cpu');
      const onCpu = run();
      await tf.setBackend('wasm');
      assert.deepStrictEqual(
        onWasm.shape,
        c.shape.map((d, i) => d * c.reps[i]),
      );
      assert.deepStrictEqual(onWasm, onCpu); // a copy, so exact
    });
  }

  it('leaves no intermediate tensors behind', () => {
    const x = tf.ones([1, 1, 1, 8]);
    const before = tf.memory();
    tf.tile(x, [2, 3, 3, 1]).dispose();
    assert.strictEqual(tf.memory().numTensors, before.numTensors);
    assert.strictEqual(tf.memory().numBytes, before.numBytes);
    x.dispose();
  });
});
