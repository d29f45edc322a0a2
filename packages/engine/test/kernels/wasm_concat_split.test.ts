/** The wasm Concat and SplitV replacements against indices worked out here, and against the cpu backend. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { kernelTestValues, KERNEL_PATHS, nativeCallsIn, wasmKernelCalls } from '../helpers';

/** Element (row-major `index`) of a tensor of `shape` with `values`. */
const at = (values: number[], shape: number[], index: number[]) =>
  values[index.reduce((flat, i, a) => flat * shape[a] + i, 0)];

/** Every index of `shape`, row-major. */
function indices(shape: number[]): number[][] {
  const all: number[][] = [];
  const total = shape.reduce((p, d) => p * d, 1);
  const index = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < total; n++) {
    all.push([...index]);
    for (let a = shape.length - 1; a >= 0 && ++index[a] === shape[a]; a--) index[a] = 0;
  }
  return all;
}

/** The concat the slow obvious way: each output index finds its input by where it falls along the axis. */
function concatReference(parts: { values: number[]; shape: number[] }[], axis: number): number[] {
  const outShape = parts[0].shape.map((d, a) => (a === axis ? parts.reduce((s, p) => s + p.shape[axis], 0) : d));
  return indices(outShape).map((index) => {
    let k = index[axis];
    for (const p of parts) {
      if (k < p.shape[axis])
        return at(
          p.values,
          p.shape,
          index.map((i, a) => (a === axis ? k : i)),
        );
      k -= p.shape[axis];
    }
    throw new Error('past the end');
  });
}

for (const kernels of KERNEL_PATHS)
  describe(`Concat and SplitV on ${kernels.name}`, () => {
    kernels.setup();

    const concatCases: { shapes: number[][]; axis: number; dtype?: 'float32' | 'int32' | 'bool' }[] = [
      {
        shapes: [
          [4, 5, 5, 8],
          [4, 5, 5, 3],
        ],
        axis: 3,
      }, // a U-Net join: short rows, copied number by number
      {
        shapes: [
          [2, 3, 3, 70],
          [2, 3, 3, 80],
        ],
        axis: -1,
      }, // long rows, copied by view
      {
        shapes: [
          [3, 2, 4],
          [3, 1, 4],
          [3, 5, 4],
        ],
        axis: 1,
      }, // three inputs along a middle axis
      {
        shapes: [
          [2, 3],
          [4, 3],
        ],
        axis: 0,
      }, // the first axis: one row each
      {
        shapes: [
          [2, 3],
          [2, 0],
          [2, 2],
        ],
        axis: 1,
      }, // an empty input is skipped
      {
        shapes: [
          [2, 3],
          [2, 4],
        ],
        axis: 1,
        dtype: 'int32',
      },
      {
        shapes: [
          [2, 3],
          [2, 4],
        ],
        axis: 1,
        dtype: 'bool',
      },
    ];
    for (const c of concatCases) {
      it(`concat of ${c.shapes.map((s) => `[${s}]`).join(', ')} on axis ${c.axis} (${c.dtype ?? 'float32'}) matches the indices and cpu`, async () => {
        const parts = c.shapes.map((shape, k) => {
          const n = shape.reduce((a, b) => a * b, 1);
          return { shape, values: kernelTestValues(n + 13 * k, c.dtype).slice(13 * k) };
        });
        const run = () =>
          tf.tidy(() => {
            const out = tf.concat(
              parts.map((p) => tf.tensor(p.values, p.shape, c.dtype ?? 'float32')),
              c.axis,
            );
            return { shape: out.shape, dtype: out.dtype, values: Array.from(out.dataSync()) };
          });
        const onWasm = run();
        const axis = c.axis < 0 ? c.shapes[0].length + c.axis : c.axis;
        assert.deepStrictEqual(onWasm.values, concatReference(parts, axis));
        await tf.setBackend('cpu');
        const onCpu = run();
        await tf.setBackend('wasm');
        assert.deepStrictEqual(onWasm, onCpu);
      });
    }

    const splitCases: { shape: number[]; sizes: number[] | number; axis: number; dtype?: 'float32' | 'int32' }[] = [
      { shape: [4, 5, 5, 11], sizes: [8, 3], axis: 3 }, // a U-Net join's gradient
      { shape: [2, 3, 3, 150], sizes: [70, 80], axis: -1 }, // long rows
      { shape: [3, 8, 4], sizes: [2, -1, 1], axis: 1 }, // -1: what is left
      { shape: [3, 8, 4], sizes: 4, axis: 1 }, // four equal parts
      { shape: [6, 3], sizes: [0, 6], axis: 0 }, // an empty part
      { shape: [2, 7], sizes: [3, 4], axis: 1, dtype: 'int32' },
    ];
    for (const c of splitCases) {
      it(`split of [${c.shape}] into ${JSON.stringify(c.sizes)} on axis ${c.axis} (${c.dtype ?? 'float32'}) matches slices and cpu`, async () => {
        const n = c.shape.reduce((a, b) => a * b, 1);
        const values = kernelTestValues(n, c.dtype);
        const run = () =>
          tf.tidy(() =>
            tf
              .split(tf.tensor(values, c.shape, c.dtype ?? 'float32'), c.sizes, c.axis)
              .map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) })),
          );
        const onWasm = run();
        // Each part is the slice of x from where the last one ended: worked out index by index.
        const axis = c.axis < 0 ? c.shape.length + c.axis : c.axis;
        let begin = 0;
        for (const part of onWasm) {
          const expected = indices(part.shape).map((index) =>
            at(
              values,
              c.shape,
              index.map((i, a) => (a === axis ? i + begin : i)),
            ),
          );
          assert.deepStrictEqual(part.values, expected);
          begin += part.shape[axis];
        }
        assert.strictEqual(begin, c.shape[axis]);
        await tf.setBackend('cpu');
        const onCpu = run();
        await tf.setBackend('wasm');
        assert.deepStrictEqual(onWasm, onCpu);
      });
    }

    it(`the replacements are the kernels that ran (${kernels.native ? 'natively' : 'in JavaScript'}), and they leave no tensors behind`, () => {
      const a = tf.ones([2, 3, 3, 4]);
      const b = tf.zeros([2, 3, 3, 2]);
      const before = tf.memory();
      const join = () => tf.concat([a, b], -1).dispose();
      const split = () => tf.dispose(tf.split(a, [1, 3], -1));
      assert.strictEqual(wasmKernelCalls('Concat', join), 1);
      assert.strictEqual(wasmKernelCalls('SplitV', split), 1);
      assert.strictEqual(nativeCallsIn('Concat', join), kernels.native ? 1 : 0);
      assert.strictEqual(nativeCallsIn('SplitV', split), kernels.native ? 1 : 0);
      assert.strictEqual(tf.memory().numTensors, before.numTensors);
      assert.strictEqual(tf.memory().numBytes, before.numBytes);
      tf.dispose([a, b]);
    });

    it("a concat's gradient (a split) gives each input its own part of dy", () => {
      const [ga, gb] = tf.tidy(() => {
        const w = tf.tensor4d(kernelTestValues(2 * 3 * 3 * 6), [2, 3, 3, 6]);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.concat([a, b], -1).mul(w).sum())([
          tf.zeros([2, 3, 3, 4]),
          tf.zeros([2, 3, 3, 2]),
        ]);
      });
      const w = kernelTestValues(2 * 3 * 3 * 6);
      assert.deepStrictEqual(
        Array.from(ga.dataSync()),
        w.filter((_, i) => i % 6 < 4),
      );
      assert.deepStrictEqual(
        Array.from(gb.dataSync()),
        w.filter((_, i) => i % 6 >= 4),
      );
      tf.dispose([ga, gb]);
    });
  });
