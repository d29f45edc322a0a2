/** The wasm BatchMatMul replacement (explicit transposes) against the cpu backend. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { onWasmKernelsOnly, relError } from '../helpers';

describe('wasm BatchMatMul with transposed operands', () => {
  onWasmKernelsOnly();

  const shapes: [number[], number[], boolean, boolean][] = [
    [[5, 3], [3, 4], false, false],
    [[3, 5], [3, 4], true, false],
    [[5, 3], [4, 3], false, true],
    [[3, 5], [4, 3], true, true],
    [[2, 3, 5], [2, 3, 4], true, false],
    [[2, 5, 3], [2, 4, 3], false, true],
    [[1, 7, 6], [3, 6, 2], false, false], // broadcast batch
    [[3, 6, 7], [1, 2, 6], true, true],
  ];
  for (const [sa, sb, ta, tb] of shapes) {
    it(`[${sa}]${ta ? 'ᵀ' : ''} · [${sb}]${tb ? 'ᵀ' : ''} matches cpu`, async () => {
      const a = tf.randomNormal(sa, 0, 1, 'float32', 1).dataSync();
      const b = tf.randomNormal(sb, 0, 1, 'float32', 2).dataSync();
      const run = () => tf.tidy(() => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb).dataSync());
      const onWasm = run();
      await tf.setBackend('cpu');
      const onCpu = run();
      await tf.setBackend('wasm');
      assert.ok(relError(onWasm, onCpu) < 1e-5);
    });
  }

  it('leaves no intermediate tensors behind', () => {
    const a = tf.randomNormal([4, 3]);
    const b = tf.randomNormal([4, 5]);
    const before = tf.memory();
    tf.matMul(a, b, true, false).dispose();
    assert.strictEqual(tf.memory().numTensors, before.numTensors);
    assert.strictEqual(tf.memory().numBytes, before.numBytes);
  });
});
