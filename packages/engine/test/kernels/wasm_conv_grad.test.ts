/**
 * The wasm convolution kernels genlab registers (Conv2DBackpropFilter, and
 * Conv2DBackpropInput as a forward conv) against the cpu backend (an independent
 * implementation), and against finite differences on a tiny case.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { maxAbsDiff, onWasmKernelsOnly, relError } from '../helpers';

type Explicit = [[number, number], [number, number], [number, number], [number, number]];
type Case = {
  name: string;
  x: number[];
  w: number[];
  stride: number | [number, number];
  pad: 'same' | 'valid' | Explicit;
  transposeToo?: boolean;
};

// Strides 1 (one conv over the spread-out gradient), 2 and 3 (the sub-pixel path,
// whose phases split unevenly when the kernel is not a multiple of the stride), and
// unequal strides (the spread-out path again).
const CASES: Case[] = [];
for (const stride of [1, 2, 3, [2, 1]] as (number | [number, number])[]) {
  for (const pad of ['same', 'valid'] as const) {
    const s = Array.isArray(stride) ? stride.join('×') : stride;
    CASES.push({
      name: `3x3, 9x9x3 → 4 channels, batch 2, stride ${s}, ${pad}`,
      x: [2, 9, 9, 3],
      w: [3, 3, 3, 4],
      stride,
      pad,
      transposeToo: true,
    });
    CASES.push({
      name: `4x4, 10x10x2 → 5 channels, batch 3, stride ${s}, ${pad}`,
      x: [3, 10, 10, 2],
      w: [4, 4, 2, 5],
      stride,
      pad,
      transposeToo: true,
    });
    CASES.push({
      name: `5x3 kernel, 7x12 input, batch 1, stride ${s}, ${pad}`,
      x: [1, 7, 12, 1],
      w: [5, 3, 1, 3],
      stride,
      pad,
      transposeToo: true,
    });
  }
}
// Explicit, asymmetric padding (conv2d only: its input gradient sees the pads).
CASES.push({
  name: '4x4, 11x9x2 → 3 channels, stride 2, pads (2, 1) × (0, 3)',
  x: [2, 11, 9, 2],
  w: [4, 4, 2, 3],
  stride: 2,
  pad: [
    [0, 0],
    [2, 1],
    [0, 3],
    [0, 0],
  ],
});
CASES.push({
  name: '7x7 → 4 channels, stride 3, pads (3, 0) × (3, 3)',
  x: [2, 13, 13, 1],
  w: [7, 7, 1, 4],
  stride: 3,
  pad: [
    [0, 0],
    [3, 0],
    [3, 3],
    [0, 0],
  ],
});

/**
 * The value of the convolution and the gradients of sum(conv(x, w) ⊙ r) with respect to
 * w and x, for a fixed random r (so every output element matters differently).
 */
function convValueAndGradients(
  kind: 'conv2d' | 'conv2dTranspose',
  c: Case,
  xs: Float32Array,
  ws: Float32Array,
  seed: number,
) {
  const conv = (x: tf.Tensor, w: tf.Tensor): tf.Tensor4D => {
    if (kind === 'conv2d') return tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad);
    // conv2dTranspose maps x's channels (w[3]) to w[2] channels.
    const [n, h, wd] = c.x;
    const [sH, sW] = Array.isArray(c.stride) ? c.stride : [c.stride, c.stride];
    const outH = c.pad === 'same' ? h * sH : (h - 1) * sH + c.w[0];
    const outW = c.pad === 'same' ? wd * sW : (wd - 1) * sW + c.w[1];
    return tf.conv2dTranspose(
      x as tf.Tensor4D,
      w as tf.Tensor4D,
      [n, outH, outW, c.w[2]],
      c.stride,
      c.pad as 'same' | 'valid',
    );
  };
  const x = tf.tensor(xs, c.x);
  const w = tf.tensor(ws, c.w);
  const value = conv(x, w);
  const r = tf.randomNormal(value.shape, 0, 1, 'float32', seed);
  const [dx, dw] = tf.grads((xv: tf.Tensor, wv: tf.Tensor) => conv(xv, wv).mul(r).sum() as tf.Scalar)([x, w]);
  const out = { value: value.dataSync(), dw: dw.dataSync(), dx: dx.dataSync() };
  tf.dispose([x, w, value, r, dx, dw]);
  return out;
}

describe('wasm convolution kernels (Conv2DBackpropFilter, Conv2DBackpropInput)', () => {
  onWasmKernelsOnly();

  for (const kind of ['conv2d', 'conv2dTranspose'] as const) {
    for (const c of CASES.filter((cc) => kind === 'conv2d' || cc.transposeToo)) {
      it(`${kind}: ${c.name}: value, filter and input gradients match the cpu backend`, async () => {
        const transposed = kind === 'conv2dTranspose';
        // For conv2dTranspose the filter is [kh, kw, outC, inC] with inC = x's channels.
        const wShape = transposed ? [c.w[0], c.w[1], c.w[3], c.x[3]] : c.w;
        const cc = { ...c, w: wShape };
        const xs = tf.tidy(() => tf.randomNormal(c.x, 0, 1, 'float32', 11).dataSync() as Float32Array);
        const ws = tf.tidy(() => tf.randomNormal(wShape, 0, 1, 'float32', 12).dataSync() as Float32Array);
        await tf.setBackend('wasm');
        const onWasm = convValueAndGradients(kind, cc, xs, ws, 13);
        await tf.setBackend('cpu');
        const onCpu = convValueAndGradients(kind, cc, xs, ws, 13);
        await tf.setBackend('wasm');
        for (const part of ['value', 'dw', 'dx'] as const) {
          assert.strictEqual(onWasm[part].length, onCpu[part].length, part);
          // float32 sums of up to a few hundred terms in different orders: compare the
          // largest difference with the tensor's scale (elementwise relative error is
          // meaningless for entries that cancel to near zero).
          const err = maxAbsDiff(onWasm[part], onCpu[part]) / Math.max(...Array.from(onCpu[part], Math.abs));
          assert.ok(err < 1e-5, `${part}: max difference ${err} of the largest entry`);
        }
      });
    }
  }

  it('agrees with a finite-difference gradient on a tiny case (stride 2, same)', () => {
    const x = tf.tensor4d([1, -2, 0.5, 3, 1.5, -1, 2, 0, -0.5, 1, 2.5, -3, 0.25, 1, -1, 2], [1, 4, 4, 1]);
    const w0 = [0.3, -0.2, 0.1, 0.4];
    const loss = (w: tf.Tensor) =>
      tf
        .conv2d(x, w.reshape([2, 2, 1, 1]) as tf.Tensor4D, 2, 'same')
        .square()
        .sum() as tf.Scalar;
    const analytic = tf.grad(loss)(tf.tensor1d(w0)).dataSync();
    const h = 1e-2;
    const numeric = w0.map((_, i) => {
      const plus = w0.slice();
      const minus = w0.slice();
      plus[i] += h;
      minus[i] -= h;
      return (loss(tf.tensor1d(plus)).dataSync()[0] - loss(tf.tensor1d(minus)).dataSync()[0]) / (2 * h);
    });
    // The loss is quadratic in w, so the central difference is exact up to float32 rounding.
    assert.ok(relError(analytic, numeric) < 1e-3, `analytic ${Array.from(analytic)} vs numeric ${numeric}`);
  });

  it('trains a conv layer on wasm without leaking tensors', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, strides: 2, padding: 'same' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1 }),
      ],
    });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const xs = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 1);
    const ys = tf.randomNormal([4, 1], 0, 1, 'float32', 2);
    await model.fit(xs, ys, { epochs: 1, verbose: 0 });
    const before = tf.memory().numTensors;
    await model.fit(xs, ys, { epochs: 3, verbose: 0 });
    assert.strictEqual(tf.memory().numTensors, before);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
