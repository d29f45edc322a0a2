/**
 * The engine's AvgPoolGrad and ResizeNearestNeighborGrad (tiling windows; in JavaScript, and natively where built, with
 * the native AvgPool and ResizeNearestNeighbor) against gradients worked out here block by block, the stock wasm
 * kernels and the cpu backend; for the windows they leave to the stock kernels, that those still run. (Not against
 * the cpu backend's resize gradient for more than one image: tfjs 4.22's reads dy at the images' batch stride, so
 * every image after the first gets another image's gradient.)
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { withStockWasmKernel } from '../../src/kernels/wasm_compose';
import { kernelTestValues, KERNEL_PATHS, nativeCallsIn, maxAbsDiff, wasmKernelCalls } from '../helpers';

/** d/dx of Σ w ⊙ f(x) at x, on the active backend: the kernel's gradient for dy = w. */
function gradient(f: (x: tf.Tensor4D) => tf.Tensor4D, xShape: number[], w: number[]): number[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(kernelTestValues(xShape.reduce((a, b) => a * b, 1)), xShape as never);
    const dy = (y: tf.Tensor4D) => tf.tensor4d(w, y.shape);
    return Array.from(
      tf
        .grad((x: tf.Tensor) =>
          f(x as tf.Tensor4D)
            .mul(dy(f(x as tf.Tensor4D)))
            .sum(),
        )(x)
        .dataSync(),
    );
  });
}

/**
 * Equal to float rounding: the largest difference below 1e-6 of the largest entry (sums may add in another order, and
 * where a sum cancels, an elementwise relative error means nothing).
 */
function assertClose(actual: number[], expected: number[], what: string): void {
  assert.strictEqual(actual.length, expected.length, 'lengths');
  const worst = maxAbsDiff(actual, expected) / Math.max(1e-30, ...expected.map(Math.abs));
  assert.ok(worst < 1e-6, `differs from ${what} by ${worst} of the largest entry`);
}

async function onCpu<T>(f: () => T): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return f();
  } finally {
    await tf.setBackend('wasm');
  }
}

for (const kernels of KERNEL_PATHS)
  describe(`tiling average pools and nearest-neighbour upsamplings, and their gradients, on ${kernels.name}`, () => {
    kernels.setup();

    const poolCases: {
      x: number[];
      size: [number, number];
      stride: [number, number];
      pad: 'valid' | 'same';
      tiles: boolean;
    }[] = [
      { x: [2, 6, 6, 3], size: [2, 2], stride: [2, 2], pad: 'valid', tiles: true }, // a U-Net's pool down
      { x: [2, 7, 5, 2], size: [2, 2], stride: [2, 2], pad: 'valid', tiles: true }, // an odd edge the pool leaves out: 0
      { x: [1, 6, 9, 2], size: [2, 3], stride: [2, 3], pad: 'same', tiles: true }, // 'same' that needs no padding
      { x: [1, 6, 6, 2], size: [3, 3], stride: [2, 2], pad: 'valid', tiles: false }, // overlapping: the stock kernel
      { x: [1, 5, 5, 2], size: [2, 2], stride: [2, 2], pad: 'same', tiles: false }, // padded: the stock kernel
    ];
    for (const c of poolCases) {
      it(`avgPool ${c.size} stride ${c.stride} ${c.pad} on [${c.x}]: the value, as the cpu backend's`, async () => {
        const x = kernelTestValues(c.x.reduce((a, b) => a * b, 1));
        const pool = () =>
          Array.from(tf.tidy(() => tf.avgPool(tf.tensor4d(x, c.x as never), c.size, c.stride, c.pad).dataSync()));
        assertClose(pool(), await onCpu(pool), 'the cpu backend');
      });
      it(`avgPool ${c.size} stride ${c.stride} ${c.pad} on [${c.x}]: ${c.tiles ? 'the gradient spreads dy / window, as worked out here' : "left to the stock kernel, as the cpu backend's"}`, async () => {
        const pool = (x: tf.Tensor4D) => tf.avgPool(x, c.size, c.stride, c.pad);
        const [n, h, w, ch] = c.x;
        const [oh, ow] = tf.tidy(() => pool(tf.zeros(c.x as never)).shape.slice(1, 3));
        const dy = kernelTestValues(n * oh * ow * ch);
        const onWasm = gradient(pool, c.x, dy);
        assertClose(
          onWasm,
          withStockWasmKernel('AvgPoolGrad', () => gradient(pool, c.x, dy)),
          'the stock kernel',
        );
        if (c.tiles) {
          // Worked out: pixel (i, j) lies in window (⌊i / k⌋, ⌊j / l⌋), or in none.
          const [k, l] = c.size;
          const expected: number[] = [];
          for (let b = 0; b < n; b++)
            for (let i = 0; i < h; i++)
              for (let j = 0; j < w; j++)
                for (let q = 0; q < ch; q++) {
                  const [oi, oj] = [Math.floor(i / k), Math.floor(j / l)];
                  expected.push(oi < oh && oj < ow ? dy[((b * oh + oi) * ow + oj) * ch + q] * (1 / (k * l)) : 0);
                }
          assertClose(onWasm, expected, 'dy / window');
        } else {
          assertClose(onWasm, await onCpu(() => gradient(pool, c.x, dy)), 'the cpu backend');
        }
      });
    }

    const resizeCases: { x: number[]; size: [number, number]; alignCorners: boolean; halfPixelCenters: boolean }[] = [
      { x: [2, 4, 4, 3], size: [8, 8], alignCorners: false, halfPixelCenters: false }, // a U-Net's upsampling
      { x: [1, 3, 2, 2], size: [9, 4], alignCorners: false, halfPixelCenters: false }, // 3 × 2 blocks
      { x: [1, 3, 3, 2], size: [6, 6], alignCorners: false, halfPixelCenters: true },
      { x: [1, 3, 3, 2], size: [7, 5], alignCorners: false, halfPixelCenters: false }, // by a fraction: stock
      { x: [1, 3, 3, 2], size: [6, 6], alignCorners: true, halfPixelCenters: false }, // align corners: stock
    ];
    for (const c of resizeCases) {
      const whole = !c.alignCorners && c.size[0] % c.x[1] === 0 && c.size[1] % c.x[2] === 0;
      it(`nearest-neighbour resize of [${c.x}] to ${c.size}${c.alignCorners ? ', align corners' : ''}${c.halfPixelCenters ? ', half-pixel centres' : ''}: the value, as the cpu backend's`, async () => {
        const x = kernelTestValues(c.x.reduce((a, b) => a * b, 1));
        const resize = () =>
          Array.from(
            tf.tidy(() =>
              tf.image
                .resizeNearestNeighbor(tf.tensor4d(x, c.x as never), c.size, c.alignCorners, c.halfPixelCenters)
                .dataSync(),
            ),
          );
        assert.deepStrictEqual(resize(), await onCpu(resize)); // a copy: exact
      });
      it(`nearest-neighbour resize of [${c.x}] to ${c.size}${c.alignCorners ? ', align corners' : ''}${c.halfPixelCenters ? ', half-pixel centres' : ''}: ${whole ? 'the gradient sums each block, as worked out here' : "left to the stock kernel, as the cpu backend's (one image)"}`, async () => {
        const resize = (x: tf.Tensor4D) =>
          tf.image.resizeNearestNeighbor(x, c.size, c.alignCorners, c.halfPixelCenters);
        const [n, h, w, ch] = c.x;
        const [oh, ow] = c.size;
        const dy = kernelTestValues(n * oh * ow * ch);
        const onWasm = gradient(resize, c.x, dy);
        assertClose(
          onWasm,
          withStockWasmKernel('ResizeNearestNeighborGrad', () => gradient(resize, c.x, dy)),
          'the stock kernel',
        );
        if (whole) {
          // Worked out: output (y, x) copies input (⌊y · h / oh⌋, ⌊x · w / ow⌋); each input sums what it was copied to.
          const expected = new Array<number>(n * h * w * ch).fill(0);
          for (let b = 0; b < n; b++)
            for (let y = 0; y < oh; y++)
              for (let x = 0; x < ow; x++)
                for (let q = 0; q < ch; q++) {
                  const [i, j] = [Math.floor((y * h) / oh), Math.floor((x * w) / ow)];
                  expected[((b * h + i) * w + j) * ch + q] += dy[((b * oh + y) * ow + x) * ch + q];
                }
          assertClose(onWasm, expected, 'the block sums');
        } else {
          assert.strictEqual(n, 1, "the cpu backend's resize gradient is right for one image only");
          assertClose(onWasm, await onCpu(() => gradient(resize, c.x, dy)), 'the cpu backend');
        }
      });
    }

    it(`the replacements are the kernels that ran (${kernels.native ? 'natively' : 'in JavaScript'}), and they leave no tensors behind`, () => {
      const x = tf.ones([2, 4, 4, 3]) as tf.Tensor4D;
      const before = tf.memory();
      const poolGrad = () =>
        tf
          .grad((x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid').sum())(x)
          .dispose();
      const resizeGrad = () =>
        tf
          .grad((x: tf.Tensor) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [8, 8]).sum())(x)
          .dispose();
      assert.strictEqual(wasmKernelCalls('AvgPoolGrad', poolGrad), 1);
      assert.strictEqual(wasmKernelCalls('ResizeNearestNeighborGrad', resizeGrad), 1);
      assert.strictEqual(nativeCallsIn('AvgPoolGrad', poolGrad), kernels.native ? 1 : 0);
      assert.strictEqual(nativeCallsIn('AvgPool', poolGrad), kernels.native ? 1 : 0);
      assert.strictEqual(nativeCallsIn('ResizeNearestNeighbor', resizeGrad), kernels.native ? 1 : 0);
      assert.strictEqual(nativeCallsIn('ResizeNearestNeighborGrad', resizeGrad), kernels.native ? 1 : 0);
      assert.strictEqual(tf.memory().numTensors, before.numTensors);
      assert.strictEqual(tf.memory().numBytes, before.numBytes);
      x.dispose();
    });
  });
