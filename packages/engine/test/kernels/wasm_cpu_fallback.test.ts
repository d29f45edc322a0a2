/** The kernels wasm lacks, run by the cpu backend's kernels: by hand, against the cpu backend, and leaving nothing behind. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { onEngineWasm } from '../helpers';

describe('wasm kernels run on the cpu backend where wasm has none', () => {
  onEngineWasm();

  it('registers every kernel the cpu backend has (complex and string inputs are refused with a sentence when used)', () => {
    const wasm = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
    const missing = tf
      .getKernelsForBackend('cpu')
      .map((k) => k.kernelName)
      .filter((k) => !wasm.has(k));
    assert.deepStrictEqual(missing, []);
  });

  it('einsum: a Gram matrix by hand, and no cpu data left behind', () => {
    assert.strictEqual(tf.getBackend(), 'wasm');
    // What other tests left on the cpu backend (models they built there) is theirs: only the einsum's must go.
    const cpuBefore = tf.engine().findBackend('cpu')!.numDataIds();
    // F = [[1, 2], [3, 4]] (positions × channels): FᵀF = [[1 + 9, 2 + 12], [2 + 12, 4 + 16]].
    const f = tf.tensor3d([1, 2, 3, 4], [1, 2, 2]);
    const gram = tf.einsum('npc,npd->ncd', f, f);
    assert.deepStrictEqual(gram.shape, [1, 2, 2]);
    assert.deepStrictEqual(Array.from(gram.dataSync()), [10, 14, 14, 20]);
    assert.strictEqual(tf.engine().findBackend('cpu')!.numDataIds(), cpuBefore);
  });

  it('the gradient of a depthwise convolution equals the cpu backend’s', async () => {
    const gradientOn = async (backend: string) => {
      await tf.setBackend(backend);
      const x = tf.tensor4d(
        Array.from({ length: 50 }, (_, i) => Math.sin(i)),
        [1, 5, 5, 2],
      );
      const k = tf.tensor4d(
        Array.from({ length: 18 }, (_, i) => Math.cos(i)),
        [3, 3, 2, 1],
      );
      const [dx, dk] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf
          .depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')
          .square()
          .sum(),
      )([x, k]);
      return [Array.from(dx.dataSync()), Array.from(dk.dataSync())];
    };
    const onWasm = await gradientOn('wasm');
    const onCpu = await gradientOn('cpu');
    await tf.setBackend('wasm');
    onWasm.forEach((g, i) =>
      g.forEach((v, j) => assert.ok(Math.abs(v - onCpu[i][j]) < 1e-4, `${v} vs ${onCpu[i][j]}`)),
    );
  });
});
