/** wasm's UnsortedSegmentSum (genlab's: tfjs-backend-wasm has none) against sums worked out by hand, and the gather gradient it serves. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { onEngineWasm } from '../helpers';

describe('wasm UnsortedSegmentSum', () => {
  onEngineWasm();

  it('sums rows into their segments, drops ids out of range, leaves empty segments 0', () => {
    assert.strictEqual(tf.getBackend(), 'wasm');
    // Rows (1, 2), (3, 4), (5, 6), (7, 8) into segments 2, 0, 2, 5 of 4: segment 0 = (3, 4), 1 = 0, 2 = (6, 8), id 5 dropped.
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const sums = tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, 5], 'int32'), 4);
    assert.deepStrictEqual(sums.shape, [4, 2]);
    assert.deepStrictEqual(Array.from(sums.dataSync()), [3, 4, 0, 0, 6, 8, 0, 0]);
    const ints = tf.unsortedSegmentSum(tf.tensor1d([5, -2, 7], 'int32'), tf.tensor1d([1, 1, 0], 'int32'), 2);
    assert.strictEqual(ints.dtype, 'int32');
    assert.deepStrictEqual(Array.from(ints.dataSync()), [7, 3]);
  });

  it("is the gradient of tf.gather: each row's gradient counts how often it was picked", () => {
    // d/dx Σ gather(x, [0, 2, 0]) = 2 for row 0, 0 for row 1, 1 for row 2 (each entry of the row).
    const gradient = tf.grad((x: tf.Tensor) => tf.gather(x, tf.tensor1d([0, 2, 0], 'int32')).sum())(tf.ones([3, 2]));
    assert.deepStrictEqual(Array.from(gradient.dataSync()), [2, 2, 0, 0, 1, 1]);
  });
});
