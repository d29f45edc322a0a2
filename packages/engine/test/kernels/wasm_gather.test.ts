/** The wasm GatherV2 replacement against indices worked out here, and against the cpu backend. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { kernelTestValues, onEngineWasm } from '../helpers';

/**
 * tf.gather the slow obvious way, from its definition: for batch dims B, outer dims O,
 * the gathered axis and inner dims I, out[b, o, j, i] = x[b, o, indices[b, j], i].
 */
function reference(
  values: number[],
  shape: number[],
  indices: number[],
  indicesShape: number[],
  axis: number,
  batchDims: number,
) {
  const prod = (a: number[]) => a.reduce((p, d) => p * d, 1);
  const batch = prod(shape.slice(0, batchDims));
  const outer = prod(shape.slice(batchDims, axis));
  const dim = shape[axis];
  const inner = prod(shape.slice(axis + 1));
  const perBatch = indices.length / batch;
  const out: number[] = [];
  for (let b = 0; b < batch; b++)
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < perBatch; j++)
        for (let i = 0; i < inner; i++)
          out.push(values[((b * outer + o) * dim + indices[b * perBatch + j]) * inner + i]);
  return { shape: [...shape.slice(0, axis), ...indicesShape.slice(batchDims), ...shape.slice(axis + 1)], values: out };
}

describe('wasm GatherV2', () => {
  onEngineWasm();

  const cases: {
    shape: number[];
    indices: number[];
    indicesShape?: number[];
    axis?: number;
    batchDims?: number;
    dtype?: 'float32' | 'int32' | 'bool';
  }[] = [
    { shape: [50, 28, 28, 1], indices: [3, 41, 0, 49, 3, 17] }, // a mini-batch of images, long runs, a repeat
    { shape: [6, 5], indices: [4, 0, 2], axis: 1 }, // columns: runs of one number
    { shape: [4, 6, 3], indices: [5, 1], axis: 1 }, // a middle axis
    { shape: [3, 4, 5], indices: [1, 3, 0, 2, 2, 0], indicesShape: [3, 2], axis: 1, batchDims: 1 }, // per-batch indices
    { shape: [4, 3], indices: [2, 0, 1, 1, 0, 3], indicesShape: [2, 3] }, // 2-D indices
    { shape: [4, 3], indices: [], indicesShape: [0] }, // nothing gathered
    { shape: [0, 3], indices: [], indicesShape: [0] }, // from nothing
    { shape: [5, 7], indices: [4, 1], dtype: 'int32' },
    { shape: [5, 7], indices: [0, 3], axis: 0, dtype: 'bool' },
  ];
  for (const c of cases) {
    const axis = c.axis ?? 0;
    const batchDims = c.batchDims ?? 0;
    const indicesShape = c.indicesShape ?? [c.indices.length];
    it(`[${c.shape}] at [${c.indices}] along axis ${axis}${batchDims ? `, batchDims ${batchDims}` : ''} (${c.dtype ?? 'float32'}) matches the definition and the cpu backend`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const values = kernelTestValues(n, c.dtype);
      const run = () =>
        tf.tidy(() => {
          const out = tf.gather(
            tf.tensor(values, c.shape, c.dtype ?? 'float32'),
            tf.tensor(c.indices, indicesShape, 'int32'),
            axis,
            batchDims,
          );
          return { shape: out.shape, dtype: out.dtype, values: Array.from(out.dataSync()) };
        });
      const onWasm = run();
      const expected = reference(values, c.shape, c.indices, indicesShape, axis, batchDims);
      assert.deepStrictEqual(onWasm.shape, expected.shape);
      assert.deepStrictEqual(onWasm.values, expected.values);
      await tf.setBackend('cpu');
      const onCpu = run();
      await tf.setBackend('wasm');
      assert.deepStrictEqual(onWasm, onCpu);
    });
  }

  it('an index outside the axis is an error that names it, and leaves no tensor behind', () => {
    const x = tf.ones([4, 3]);
    const before = tf.memory().numTensors;
    for (const bad of [4, -1]) {
      assert.throws(
        () => tf.tidy(() => tf.gather(x, tf.tensor1d([0, bad], 'int32'))),
        new RegExp(`index value ${bad} is not in \\[0, 3\\]`),
      );
    }
    assert.strictEqual(tf.memory().numTensors, before);
    x.dispose();
  });
});
