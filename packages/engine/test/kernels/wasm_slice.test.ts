/** The wasm Slice replacement against indices worked out here, and against the cpu backend. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { mergeAxes } from '../../src/kernels/wasm_slice';
import { kernelTestValues, onEngineWasm } from '../helpers';

/** The slice the slow obvious way: every output index mapped back to the input. */
function reference(values: number[], shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const total = size.reduce((p, d) => p * d, 1);
  const index = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < total; n++) {
    out.push(values[index.reduce((flat, i, a) => flat * shape[a] + begin[a] + i, 0)]);
    for (let a = shape.length - 1; a >= 0 && ++index[a] === size[a]; a--) index[a] = 0;
  }
  return out;
}

describe('wasm Slice', () => {
  onEngineWasm();

  it('mergeAxes joins each axis the slice takes whole to the axis before it', () => {
    // An up-conv crop: rows and columns cut, the single channel taken whole.
    assert.deepStrictEqual(mergeAxes([64, 30, 30, 1], [0, 1, 1, 0], [64, 28, 28, 1]), {
      shape: [64, 30, 30],
      begin: [0, 1, 1],
      size: [64, 28, 28],
    });
    // Rows cut, columns and channels whole: one run per image.
    assert.deepStrictEqual(mergeAxes([8, 16, 16, 4], [0, 2, 0, 0], [8, 12, 16, 4]), {
      shape: [8, 1024],
      begin: [0, 128],
      size: [8, 768],
    });
    assert.deepStrictEqual(mergeAxes([5, 6], [1, 2], [3, 3]), { shape: [5, 6], begin: [1, 2], size: [3, 3] });
    assert.deepStrictEqual(mergeAxes([5, 6], [0, 0], [5, 6]), { shape: [30], begin: [0], size: [30] });
  });

  const cases: { shape: number[]; begin: number[]; size: number[]; dtype?: 'float32' | 'int32' | 'bool' }[] = [
    { shape: [4, 30, 30, 1], begin: [0, 1, 1, 0], size: [4, 28, 28, 1] }, // short runs, copied number by number
    { shape: [3, 16, 16, 64], begin: [0, 1, 1, 0], size: [3, 14, 14, 64] }, // long runs, copied by view
    { shape: [3, 16, 16, 64], begin: [1, 2, 0, 0], size: [2, 12, 16, 64] }, // rows only: runs of whole rows
    { shape: [2, 3, 4, 5, 6], begin: [1, 0, 1, 2, 3], size: [1, 3, 2, 2, 3] }, // rank 5 (the stock kernel's slow fallback)
    { shape: [7], begin: [2], size: [4] },
    { shape: [6, 5], begin: [0, 0], size: [6, 5] }, // the whole tensor
    { shape: [6, 5], begin: [2, 1], size: [-1, 3] }, // -1: to the end
    { shape: [6, 5], begin: [2, 1], size: [0, 3] }, // empty
    { shape: [4, 9], begin: [1, 2], size: [2, 5], dtype: 'int32' },
    { shape: [4, 9], begin: [1, 2], size: [2, 5], dtype: 'bool' },
  ];
  for (const c of cases) {
    it(`[${c.shape}] from [${c.begin}] size [${c.size}] (${c.dtype ?? 'float32'}) matches the indices and the cpu backend`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const values = kernelTestValues(n, c.dtype);
      const run = () =>
        tf.tidy(() => {
          const out = tf.slice(tf.tensor(values, c.shape, c.dtype ?? 'float32'), c.begin, c.size);
          return { shape: out.shape, dtype: out.dtype, values: Array.from(out.dataSync()) };
        });
      const onWasm = run();
      const size = c.size.map((d, i) => (d === -1 ? c.shape[i] - c.begin[i] : d));
      assert.deepStrictEqual(onWasm.shape, size);
      assert.deepStrictEqual(onWasm.values, reference(values, c.shape, c.begin, size));
      await tf.setBackend('cpu');
      const onCpu = run();
      await tf.setBackend('wasm');
      assert.deepStrictEqual(onWasm, onCpu);
    });
  }

  it('its gradient (a pad) still flows: d/dx of the sum of a crop is 1 inside, 0 outside', () => {
    const g = tf.tidy(() =>
      Array.from(
        tf
          .grad((x: tf.Tensor) => tf.slice(x, [1, 1], [2, 3]).sum())(tf.zeros([4, 5]))
          .dataSync(),
      ),
    );
    assert.deepStrictEqual(g, [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('leaves no intermediate tensors behind', () => {
    const x = tf.ones([4, 6, 6, 2]);
    const before = tf.memory();
    tf.slice(x, [0, 1, 1, 0], [4, 4, 4, 2]).dispose();
    assert.strictEqual(tf.memory().numTensors, before.numTensors);
    assert.strictEqual(tf.memory().numBytes, before.numBytes);
    x.dispose();
  });
});
