/**
 * The wasm Sum and Mean replacements (an average pool over a block of leading or
 * middle axes) against sums computed here in float64, and the routing: which cases
 * pool and which go to the stock kernels.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { onWasmKernelsOnly, wasmKernelCalls } from '../helpers';
import { poolBlock } from '../../src/kernels/wasm_reduce';

/** Reduces `values` (row-major, `shape`) over `axes` in float64, the slow obvious way. */
function reference(values: number[], shape: number[], axes: number[], mean: boolean): number[] {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outSize = kept.reduce((p, i) => p * shape[i], 1);
  const sums = new Array<number>(outSize).fill(0);
  const index = new Array<number>(shape.length).fill(0);
  for (const v of values) {
    const out = kept.reduce((o, i) => o * shape[i] + index[i], 0);
    sums[out] += v;
    for (let a = shape.length - 1; a >= 0 && ++index[a] === shape[a]; a--) index[a] = 0;
  }
  const count = axes.reduce((p, a) => p * shape[a], 1);
  return mean ? sums.map((s) => s / count) : sums;
}

describe('wasm Sum and Mean', () => {
  onWasmKernelsOnly();

  it('poolBlock finds [outer, reduced, inner] and leaves the rest to the stock kernels', () => {
    assert.deepStrictEqual(poolBlock([64, 28, 28, 64], [0, 1, 2]), { outer: 1, reduced: 50176, inner: 64 });
    assert.deepStrictEqual(poolBlock([4, 5, 6, 3], [1, 2]), { outer: 4, reduced: 30, inner: 3 });
    assert.deepStrictEqual(poolBlock([5, 1, 4, 3], [0, 2]), { outer: 1, reduced: 20, inner: 3 }); // a length-1 axis between
    assert.strictEqual(poolBlock([4, 3, 5], [0, 2]), undefined); // two blocks
    assert.strictEqual(poolBlock([4, 5], [1]), undefined); // innermost: stock reduces it without a transpose
    assert.strictEqual(poolBlock([1, 5], [0]), undefined); // only length-1 axes reduced
    assert.strictEqual(poolBlock([0, 5], [0]), undefined); // empty
    assert.strictEqual(poolBlock([0, 4, 5], [1]), undefined); // empty outside the block
  });

  const cases: { shape: number[]; axis: number | number[]; keepDims?: boolean; pools: boolean }[] = [
    { shape: [8, 6, 6, 16], axis: [0, 1, 2], pools: true }, // a bias gradient
    { shape: [8, 6, 6, 16], axis: [2, 0, 1], keepDims: true, pools: true }, // batch-norm moments, axes unordered
    { shape: [4, 5, 6, 3], axis: [1, 2], pools: true }, // a middle block
    { shape: [37, 5], axis: 0, pools: true },
    { shape: [37, 5], axis: -2, keepDims: true, pools: true },
    { shape: [5, 1, 4, 3], axis: [0, 2], pools: true },
    { shape: [4, 3, 5], axis: [0, 2], pools: false },
    { shape: [4, 5], axis: 1, pools: false },
    { shape: [3, 4, 5], axis: [0, 1, 2], pools: false },
  ];
  for (const c of cases) {
    for (const op of ['sum', 'mean'] as const) {
      it(`${op} of [${c.shape}] over ${JSON.stringify(c.axis)}${c.keepDims ? ' (keepDims)' : ''} ${c.pools ? 'pools' : 'goes to the stock kernel'} and matches a float64 ${op}`, () => {
        const n = c.shape.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + 0.3) * 10);
        let result: tf.Tensor | undefined;
        const calls = wasmKernelCalls('AvgPool', () => {
          result = tf.tidy(() => tf[op](tf.tensor(values, c.shape), c.axis, c.keepDims));
        });
        assert.strictEqual(calls, c.pools ? 1 : 0);
        const axes = tf.util.parseAxisParam(c.axis, c.shape);
        const expectedShape = c.keepDims
          ? c.shape.map((d, i) => (axes.includes(i) ? 1 : d))
          : c.shape.filter((_, i) => !axes.includes(i));
        assert.deepStrictEqual(result!.shape, expectedShape);
        const expected = reference(values, c.shape, axes, op === 'mean');
        const got = Array.from(result!.dataSync());
        const scale = Math.max(...expected.map(Math.abs));
        got.forEach((g, i) =>
          assert.ok(Math.abs(g - expected[i]) <= 1e-5 * scale, `entry ${i}: ${g} vs ${expected[i]}`),
        );
        result!.dispose();
      });
    }
  }

  it('int32 sums go to the stock kernel and stay exact', () => {
    let out: number[] = [];
    const calls = wasmKernelCalls('AvgPool', () => {
      out = tf.tidy(() =>
        Array.from(
          tf
            .sum(
              tf.tensor2d(
                [
                  [1, 2],
                  [30, 40],
                  [500, 600],
                ],
                [3, 2],
                'int32',
              ),
              0,
            )
            .dataSync(),
        ),
      );
    });
    assert.strictEqual(calls, 0);
    assert.deepStrictEqual(out, [531, 642]);
  });

  it('the bias gradient of a conv layer is the pooled sum', () => {
    const dy = tf.randomNormal([4, 5, 5, 3], 0, 1, 'float32', 3);
    const grad = tf.grad((b: tf.Tensor) =>
      tf
        .add(tf.zeros([4, 5, 5, 3]), b)
        .mul(dy)
        .sum(),
    );
    let g: number[] = [];
    const calls = wasmKernelCalls('AvgPool', () => {
      g = tf.tidy(() => Array.from(grad(tf.zeros([3])).dataSync()));
    });
    assert.ok(calls >= 1);
    const expected = reference(Array.from(dy.dataSync()), [4, 5, 5, 3], [0, 1, 2], false);
    g.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-4, `channel ${i}: ${v} vs ${expected[i]}`));
    dy.dispose();
  });

  it('leaves no intermediate tensors behind', () => {
    const x = tf.ones([4, 6, 6, 8]);
    const before = tf.memory();
    tf.sum(x, [0, 1, 2]).dispose();
    tf.mean(x, [0, 1, 2], true).dispose();
    assert.strictEqual(tf.memory().numTensors, before.numTensors);
    assert.strictEqual(tf.memory().numBytes, before.numBytes);
    x.dispose();
  });
});
