/** The wasm Identity and same-dtype Cast that share their input's buffer (reference-counted) instead of copying it. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { onEngineWasm } from '../helpers';

describe('wasm Identity and Cast share the buffer', () => {
  onEngineWasm();

  const offsetOf = (t: tf.Tensor) =>
    (tf.backend() as unknown as { getMemoryOffset(dataId: object): number }).getMemoryOffset(t.dataId);

  it('Identity (tf.clone) and a float32 → float32 cast point at the same memory, and outlive their input', () => {
    const x = tf.tensor1d([1.5, -2, 3.25]);
    const clone = tf.clone(x);
    const cast = tf.cast(x, 'float32');
    assert.strictEqual(offsetOf(clone), offsetOf(x));
    assert.strictEqual(offsetOf(cast), offsetOf(x));
    x.dispose(); // the buffer stays while the clone and the cast hold it
    assert.deepStrictEqual(Array.from(clone.dataSync()), [1.5, -2, 3.25]);
    assert.deepStrictEqual(Array.from(cast.dataSync()), [1.5, -2, 3.25]);
    clone.dispose();
    assert.deepStrictEqual(Array.from(cast.dataSync()), [1.5, -2, 3.25]);
    cast.dispose();
  });

  it('a cast to another dtype still converts, into memory of its own; to bool it is x ≠ 0', () => {
    const x = tf.tensor1d([1.7, -2.2, 0, 256, -0]);
    const ints = tf.cast(x, 'int32');
    assert.notStrictEqual(offsetOf(ints), offsetOf(x));
    assert.deepStrictEqual(Array.from(ints.dataSync()), [1, -2, 0, 256, 0]);
    assert.deepStrictEqual(Array.from(tf.cast(x, 'bool').dataSync()), [1, 1, 0, 1, 0]);
    assert.deepStrictEqual(Array.from(tf.cast(ints, 'bool').dataSync()), [1, 1, 0, 1, 0]);
    assert.deepStrictEqual(Array.from(tf.cast(ints, 'float32').dataSync()), [1, -2, 0, 256, 0]);
    assert.strictEqual(tf.cast(x, 'bool').dtype, 'bool');
    tf.dispose([x, ints]);
  });

  it('a ReLU gradient (which casts its mask to float32) is unchanged, and no tensor leaks', () => {
    const x = tf.tensor1d([-1, 0.5, 2, -3]);
    const live = tf.memory().numTensors;
    const g = tf.grad(
      (v: tf.Tensor) =>
        tf
          .relu(v)
          .mul(tf.tensor1d([1, 2, 3, 4]))
          .sum() as tf.Scalar,
    )(x);
    assert.deepStrictEqual(Array.from(g.dataSync()), [0, 2, 3, 0]);
    g.dispose();
    assert.strictEqual(tf.memory().numTensors, live);
    x.dispose();
  });
});
