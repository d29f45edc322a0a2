/**
 * The engine's native kernels (oneDNN on the wasm heap, src/native/) against the cpu backend, an independent
 * implementation: the values and both gradients of convolutions over strides, paddings, dilations, kernel shapes
 * and batch sizes, transposed convolutions, fused bias and activations, and matrix products with transposes and
 * broadcast batches; then the fallbacks. (genlab's test/lib/native_lab_models.test.ts trains its lab models with and
 * without them.)
 *
 * Where the addon is not built the tests are skipped, except in CI, where `genlab-engine-build` (genlab's
 * `npm run setup`) must have built it.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  explainNativeConv,
  nativeAddonPath,
  nativeCalls,
  nativeStatus,
  setNativeKernelsEnabled,
  setNativeWinograd,
} from '../src/native';
import type { ConvAttrs } from '../src/native/kernels';
import { maxAbsDiff, onEngineWasm } from './helpers';

/** The engine as a program loads it (dist/src/index from dist/test/). */
const ENGINE = path.join(__dirname, '..', 'src', 'index');

function requireAddon(context: Mocha.Context): void {
  if (fs.existsSync(nativeAddonPath())) return;
  if (process.env.CI)
    assert.fail(`the native kernels are not built (${nativeAddonPath()}): \`npx genlab-engine-build\` builds them`);
  context.skip();
}

/** Largest difference relative to the largest entry (elementwise relative error means nothing where sums cancel). */
function scaledError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length, 'lengths');
  let scale = 1e-30;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return maxAbsDiff(a, b) / scale;
}

/** Runs `f` on wasm with the native kernels, then on the cpu backend, and returns both (as plain arrays). */
async function nativeAndCpu(
  f: () => Record<string, tf.Tensor>,
): Promise<{ native: Record<string, Float32Array>; cpu: Record<string, Float32Array> }> {
  const read = () => {
    const out = tf.tidy(f);
    const values = Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.dataSync() as Float32Array]));
    tf.dispose(Object.values(out));
    return values;
  };
  await tf.setBackend('wasm');
  const native = read();
  await tf.setBackend('cpu');
  const cpu = read();
  await tf.setBackend('wasm');
  return { native, cpu };
}

function assertClose(
  got: { native: Record<string, Float32Array>; cpu: Record<string, Float32Array> },
  tolerance = 2e-5,
): void {
  for (const part of Object.keys(got.cpu)) {
    const err = scaledError(got.native[part], got.cpu[part]);
    assert.ok(err < tolerance, `${part}: max difference ${err.toExponential(2)} of the largest entry`);
  }
}

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: number | [number, number];
  pad: Pad;
  dilation?: number | [number, number];
}

const CONV_CASES: ConvCase[] = [];
for (const stride of [1, 2, 3, [2, 1]] as (number | [number, number])[])
  for (const pad of ['same', 'valid'] as const) {
    CONV_CASES.push({ x: [2, 9, 9, 3], w: [3, 3, 3, 4], stride, pad });
    CONV_CASES.push({ x: [3, 10, 10, 2], w: [4, 4, 2, 5], stride, pad });
    CONV_CASES.push({ x: [1, 7, 12, 1], w: [5, 3, 1, 3], stride, pad });
  }
CONV_CASES.push({ x: [4, 6, 6, 16], w: [1, 1, 16, 32], stride: 1, pad: 'valid' });
// Thin convolutions (the engine's own loops, not oneDNN): to 1 or 2 channels from more than 16 (a flow's heads, a
// U-Net's output; whole vectors of 16 and a rest), and from 1 or 2 (the gradient with respect to the input).
CONV_CASES.push({ x: [3, 9, 9, 20], w: [3, 3, 20, 1], stride: 1, pad: 'same' });
CONV_CASES.push({ x: [2, 8, 10, 33], w: [3, 3, 33, 2], stride: 1, pad: 'same' });
CONV_CASES.push({ x: [2, 9, 9, 35], w: [3, 2, 35, 2], stride: 2, pad: 'valid' });
CONV_CASES.push({ x: [2, 10, 10, 2], w: [3, 3, 2, 40], stride: 1, pad: 'same' });
CONV_CASES.push({ x: [2, 28, 28, 1], w: [7, 7, 1, 8], stride: 1, pad: 'same' });
// The thin loops' fast path (stride 1, undilated, the wide side in 16s up to 64): a flow's heads and first layers, a
// U-Net's output; 16, 32, 48 and 64 wide; 1 to 4 thin; other kernel sizes and explicit pads.
CONV_CASES.push({ x: [3, 9, 9, 48], w: [3, 3, 48, 1], stride: 1, pad: 'same' });
CONV_CASES.push({ x: [2, 8, 10, 32], w: [3, 3, 32, 2], stride: 1, pad: 'same' });
CONV_CASES.push({ x: [2, 7, 7, 64], w: [3, 3, 64, 4], stride: 1, pad: 'same' });
CONV_CASES.push({ x: [2, 9, 11, 16], w: [5, 3, 16, 3], stride: 1, pad: 'valid' });
CONV_CASES.push({ x: [2, 10, 10, 2], w: [3, 3, 2, 48], stride: 1, pad: 'same' });
CONV_CASES.push({ x: [3, 9, 9, 1], w: [3, 3, 1, 64], stride: 1, pad: 'same' });
CONV_CASES.push({ x: [2, 9, 9, 4], w: [3, 3, 4, 32], stride: 1, pad: 'same' });
CONV_CASES.push({
  x: [2, 9, 8, 32],
  w: [4, 2, 32, 1],
  stride: 1,
  pad: [
    [0, 0],
    [3, 0],
    [0, 1],
    [0, 0],
  ],
});
CONV_CASES.push({
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
CONV_CASES.push({
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
// 3 × 3 convolutions of training size with channels in 16s: Winograd's algorithm (at least 2,048 output positions).
CONV_CASES.push({ x: [3, 28, 28, 16], w: [3, 3, 16, 32], stride: 1, pad: 'same' });
CONV_CASES.push({ x: [16, 14, 14, 32], w: [3, 3, 32, 16], stride: 1, pad: 'valid' });
// Dilated convolutions (tfjs has no gradients for them, so only the value).
const DILATED: ConvCase[] = [
  { x: [2, 12, 12, 3], w: [3, 3, 3, 4], stride: 1, pad: 'same', dilation: 2 },
  { x: [2, 12, 12, 18], w: [3, 3, 18, 1], stride: 1, pad: 'same', dilation: 2 },
  { x: [1, 15, 11, 2], w: [3, 2, 2, 3], stride: 1, pad: 'valid', dilation: [3, 2] },
];

const caseName = (c: ConvCase) =>
  `${c.w[0]}×${c.w[1]} on ${c.x.join('×')} → ${c.w[3]} channels, stride ${c.stride}, ${Array.isArray(c.pad) ? 'explicit pads' : c.pad}${c.dilation ? `, dilation ${c.dilation}` : ''}`;

describe('native kernels (oneDNN on the wasm heap) against the cpu backend', function () {
  this.timeout(120000);
  before(function () {
    requireAddon(this);
  });
  const wasm = onEngineWasm();
  before(() => {
    assert.ok(nativeStatus().active, `native kernels not active: ${nativeStatus().reason}`);
    setNativeKernelsEnabled(true);
  });

  it("startWasm reports them, with oneDNN's version and threads", () => {
    const native = wasm.started().native;
    assert.strictEqual(native.active, true);
    assert.match(native.libraries!, /^oneDNN \d+\.\d+\.\d+$/);
    assert.ok(native.threads! >= 1, `threads: ${native.threads}`);
  });

  for (const c of CONV_CASES) {
    it(`conv2d ${caseName(c)}: value, input and filter gradients`, async () => {
      const before = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].map(nativeCalls);
      const got = await nativeAndCpu(() => {
        const x = tf.randomNormal(c.x, 0, 1, 'float32', 11);
        const w = tf.randomNormal(c.w, 0, 1, 'float32', 12);
        const conv = (xv: tf.Tensor, wv: tf.Tensor) => tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, c.stride, c.pad);
        const value = conv(x, w);
        const r = tf.randomNormal(value.shape, 0, 1, 'float32', 13);
        const [dx, dw] = tf.grads((xv: tf.Tensor, wv: tf.Tensor) => conv(xv, wv).mul(r).sum() as tf.Scalar)([x, w]);
        return { value, dx, dw };
      });
      assertClose(got);
      const after = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].map(nativeCalls);
      assert.ok(
        after.every((n, i) => n > before[i]),
        `each kernel ran natively: ${after.map((n, i) => n - before[i])}`,
      );
    });
  }

  it("the labs' convolutions run oneDNN's optimised kernels, none its reference ones", () => {
    const labShapes: [string, number[], number[], ConvAttrs][] = [
      ['DCGAN D 4×4/2', [64, 28, 28, 1], [4, 4, 1, 64], { strides: 2, pad: 'same' }],
      ['DCGAN D 4×4/2, 64 → 128', [64, 14, 14, 64], [4, 4, 64, 128], { strides: 2, pad: 'same' }],
      [
        'PixelCNN mask A 7×7 (4 visible rows)',
        [64, 28, 28, 1],
        [4, 7, 1, 64],
        {
          strides: 1,
          pad: [
            [0, 0],
            [3, 0],
            [3, 3],
            [0, 0],
          ],
        },
      ],
      [
        'PixelCNN mask B 3×3 (2 rows)',
        [64, 28, 28, 64],
        [2, 3, 64, 64],
        {
          strides: 1,
          pad: [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 0],
          ],
        },
      ],
      ['conv VAE 3×3/2', [64, 28, 28, 1], [3, 3, 1, 32], { strides: 2, pad: 'same' }],
      ['flow: a head, 48 → 1', [64, 28, 28, 48], [3, 3, 48, 1], { strides: 1, pad: 'same' }],
      ['flow: a head, 48 → 2', [64, 14, 14, 48], [3, 3, 48, 2], { strides: 1, pad: 'same' }],
      ['flow: a head, 48 → 4', [64, 7, 7, 48], [3, 3, 48, 4], { strides: 1, pad: 'same' }],
      ['flow: a network in, 1 → 48', [64, 28, 28, 1], [3, 3, 1, 48], { strides: 1, pad: 'same' }],
      ['U-Net out, 32 → 1', [64, 28, 28, 32], [3, 3, 32, 1], { strides: 1, pad: 'same' }],
      ['flow: a network, 48 → 48', [64, 28, 28, 48], [3, 3, 48, 48], { strides: 1, pad: 'same' }],
      ['flow: a network, 48 → 48 at 7 × 7', [64, 7, 7, 48], [3, 3, 48, 48], { strides: 1, pad: 'same' }],
      ['U-Net 32 → 32', [64, 28, 28, 32], [3, 3, 32, 32], { strides: 1, pad: 'same' }],
      ['U-Net 96 → 32 (after a skip)', [64, 28, 28, 96], [3, 3, 96, 32], { strides: 1, pad: 'same' }],
      ['U-Net 64 → 64 at 7 × 7', [64, 7, 7, 64], [3, 3, 64, 64], { strides: 1, pad: 'same' }],
    ];
    for (const [name, x, w, attrs] of labShapes)
      for (const kind of ['forward', 'backprop-input', 'backprop-filter'] as const) {
        const impl = explainNativeConv(kind, x, w, attrs);
        assert.ok(!/ref|rejected|not/.test(impl), `${name}, ${kind}: ${impl}`);
        // oneDNN computes 16 output channels at a time: a thin side runs the engine's own loops instead, up to 4
        // channels where their fast path applies (stride 1, the wide side in 16s up to 64).
        const fast = (wide: number) => attrs.strides === 1 && wide % 16 === 0 && wide <= 64;
        const thin = {
          forward: w[3] <= (fast(w[2]) ? 4 : 2),
          'backprop-input': w[2] <= (fast(w[3]) ? 4 : 2),
          'backprop-filter': w[3] <= 4,
        }[kind];
        assert.strictEqual(impl === 'genlab thin convolution', thin, `${name}, ${kind}: ${impl}`);
        // A 3 × 3 convolution, stride 1, with channels in 16s, of a training batch: Winograd's algorithm (the value
        // and the input gradient; the filter gradient stays direct).
        const winograd =
          kind !== 'backprop-filter' &&
          w[0] === 3 &&
          w[1] === 3 &&
          attrs.strides === 1 &&
          w[2] % 16 === 0 &&
          w[3] % 16 === 0;
        assert.strictEqual(/wino/.test(impl), winograd, `${name}, ${kind}: ${impl}`);
      }
  });

  it("Winograd's algorithm takes the 3 × 3 convolutions (value and input gradient) of at least 2,048 positions with channels in 16s, and can be turned off", async () => {
    const same = { strides: 1, pad: 'same' } as const;
    // The filter gradient always runs the direct kernels (with Winograd's reorders it gains nothing).
    const kinds = ['forward', 'backprop-input', 'backprop-filter'] as const;
    const runs = (x: number[], w: number[], attrs: ConvAttrs = same) =>
      kinds.map((kind) => /wino/.test(explainNativeConv(kind, x, w, attrs)));
    assert.deepStrictEqual(runs([2, 32, 32, 16], [3, 3, 16, 16]), [true, true, false], '2,048 positions');
    assert.deepStrictEqual(runs([2, 28, 28, 16], [3, 3, 16, 16]), [false, false, false], '1,568 positions');
    assert.deepStrictEqual(runs([8, 28, 28, 24], [3, 3, 24, 32]), [false, false, false], '24 input channels');
    assert.deepStrictEqual(runs([8, 28, 28, 32], [5, 5, 32, 32]), [false, false, false], '5 × 5');
    assert.deepStrictEqual(runs([8, 28, 28, 32], [3, 3, 32, 32], { strides: 2, pad: 'same' }), [false, false, false]);
    // Off, the same calls run the direct kernels, and both agree with the cpu backend (and so with each other).
    const c: ConvCase = { x: [3, 28, 28, 32], w: [3, 3, 32, 16], stride: 1, pad: 'same' };
    const gradients = () => {
      const x = tf.randomNormal(c.x, 0, 1, 'float32', 41);
      const w = tf.randomNormal(c.w, 0, 1, 'float32', 42);
      const conv = (xv: tf.Tensor, wv: tf.Tensor) => tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, 1, 'same');
      const value = conv(x, w);
      const r = tf.randomNormal(value.shape, 0, 1, 'float32', 43);
      const [dx, dw] = tf.grads((xv: tf.Tensor, wv: tf.Tensor) => conv(xv, wv).mul(r).sum() as tf.Scalar)([x, w]);
      return { value, dx, dw };
    };
    assert.deepStrictEqual(runs(c.x, c.w), [true, true, false]);
    const winograd = await nativeAndCpu(gradients);
    assertClose(winograd);
    assert.strictEqual(setNativeWinograd(false), true);
    try {
      assert.deepStrictEqual(runs(c.x, c.w), [false, false, false]);
      assert.strictEqual(nativeStatus().winograd, false);
      const direct = await nativeAndCpu(gradients);
      assertClose(direct);
      // The direct kernels round closer to the cpu backend's sums than Winograd does, and both are close; the filter
      // gradient was direct both times.
      for (const part of ['value', 'dx'])
        assert.ok(
          scaledError(direct.native[part], direct.cpu[part]) < scaledError(winograd.native[part], winograd.cpu[part]),
          part,
        );
      assert.deepStrictEqual(direct.native.dw, winograd.native.dw);
    } finally {
      setNativeWinograd(true);
    }
    assert.strictEqual(nativeStatus().winograd, true);
  });

  for (const c of DILATED) {
    it(`conv2d ${caseName(c)}: value`, async () => {
      const before = nativeCalls('Conv2D');
      assertClose(
        await nativeAndCpu(() => ({
          value: tf.conv2d(
            tf.randomNormal(c.x, 0, 1, 'float32', 21) as tf.Tensor4D,
            tf.randomNormal(c.w, 0, 1, 'float32', 22) as tf.Tensor4D,
            c.stride,
            c.pad as 'same',
            'NHWC',
            c.dilation,
          ),
        })),
      );
      assert.strictEqual(nativeCalls('Conv2D') - before, 1);
    });
  }

  for (const [stride, pad, k] of [
    [2, 'same', 4],
    [2, 'valid', 3],
    [1, 'same', 3],
    [3, 'same', 5],
  ] as const) {
    it(`conv2dTranspose ${k}×${k}, stride ${stride}, ${pad} (a DCGAN generator's layer): value and both gradients`, async () => {
      const [n, h, w, cin, cout] = [3, 7, 7, 6, 4];
      const outH = pad === 'same' ? h * stride : (h - 1) * stride + k;
      const got = await nativeAndCpu(() => {
        const x = tf.randomNormal([n, h, w, cin], 0, 1, 'float32', 31);
        const f = tf.randomNormal([k, k, cout, cin], 0, 1, 'float32', 32);
        const up = (xv: tf.Tensor, fv: tf.Tensor) =>
          tf.conv2dTranspose(xv as tf.Tensor4D, fv as tf.Tensor4D, [n, outH, outH, cout], stride, pad);
        const value = up(x, f);
        const r = tf.randomNormal(value.shape, 0, 1, 'float32', 33);
        const [dx, df] = tf.grads((xv: tf.Tensor, fv: tf.Tensor) => up(xv, fv).mul(r).sum() as tf.Scalar)([x, f]);
        return { value, dx, df };
      });
      assertClose(got);
    });
  }

  for (const activation of ['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid'] as const)
    for (const [cin, cout, size, stride] of [
      [3, 5, 8, 2],
      [24, 2, 8, 2], // thin: the engine's loops, which fuse the bias and activation themselves
      [16, 32, 32, 1], // Winograd's algorithm, with oneDNN's fused bias and activation
    ]) {
      const native = !['elu', 'sigmoid'].includes(activation);
      it(`fused conv2d ${cin} → ${cout} channels on ${size} × ${size}, stride ${stride}, with a bias and ${activation}${native ? '' : " (tfjs's kernel: oneDNN's is approximate)"}`, async () => {
        const before = nativeCalls('FusedConv2D');
        assertClose(
          await nativeAndCpu(() => ({
            value: tf.fused.conv2d({
              x: tf.randomNormal([2, size, size, cin], 0, 2, 'float32', 41) as tf.Tensor4D,
              filter: tf.randomNormal([3, 3, cin, cout], 0, 1, 'float32', 42) as tf.Tensor4D,
              bias: tf.randomNormal([cout], 0, 1, 'float32', 43),
              strides: stride,
              pad: 'same',
              activation,
              leakyreluAlpha: 0.1,
            }),
          })),
        );
        assert.strictEqual(nativeCalls('FusedConv2D') - before, native ? 1 : 0);
      });
    }

  // tfjs's own BatchMatMul gradient does not sum over broadcast batches (on every backend), so those are
  // checked by value. The two large ones take oneDNN's sgemm path.
  const MATMULS: { a: number[]; b: number[]; ta: boolean; tb: boolean; grads: boolean }[] = [
    { a: [64, 784], b: [784, 512], ta: false, tb: false, grads: true },
    { a: [784, 64], b: [784, 512], ta: true, tb: false, grads: true },
    { a: [64, 512], b: [784, 512], ta: false, tb: true, grads: true },
    { a: [33, 17], b: [5, 33], ta: true, tb: true, grads: true },
    { a: [4, 7, 9], b: [4, 9, 3], ta: false, tb: false, grads: true },
    { a: [2, 3, 5, 4], b: [2, 3, 4, 6], ta: false, tb: false, grads: true },
    { a: [1, 7, 9], b: [6, 9, 3], ta: false, tb: false, grads: false },
    { a: [6, 9, 7], b: [9, 3], ta: true, tb: false, grads: false },
    { a: [512, 600], b: [600, 256], ta: false, tb: false, grads: false },
    { a: [600, 512], b: [256, 600], ta: true, tb: true, grads: false },
  ];
  for (const m of MATMULS) {
    const name = `${m.a.join('×')}${m.ta ? 'ᵀ' : ''} · ${m.b.join('×')}${m.tb ? 'ᵀ' : ''}`;
    it(`matMul ${name}: value${m.grads ? ' and both gradients' : ''}`, async () => {
      const before = nativeCalls('BatchMatMul');
      const got = await nativeAndCpu(() => {
        const a = tf.randomNormal(m.a, 0, 1, 'float32', 51);
        const b = tf.randomNormal(m.b, 0, 1, 'float32', 52);
        const value = tf.matMul(a, b, m.ta, m.tb);
        if (!m.grads) return { value } as Record<string, tf.Tensor>;
        const r = tf.randomNormal(value.shape, 0, 1, 'float32', 53);
        const [da, db] = tf.grads(
          (av: tf.Tensor, bv: tf.Tensor) => tf.matMul(av, bv, m.ta, m.tb).mul(r).sum() as tf.Scalar,
        )([a, b]);
        return { value, da, db };
      });
      assertClose(got);
      assert.ok(nativeCalls('BatchMatMul') - before >= 1, 'the product ran natively');
    });
  }

  for (const activation of ['linear', 'relu', 'leakyrelu', 'sigmoid', 'elu', 'relu6'] as const) {
    const native = !['elu', 'sigmoid'].includes(activation);
    it(`fused matMul (a dense layer) with a bias and ${activation}${native ? '' : " (tfjs's kernel)"}`, async () => {
      const before = nativeCalls('_FusedMatMul');
      assertClose(
        await nativeAndCpu(() => ({
          value: tf.fused.matMul({
            a: tf.randomNormal([16, 40], 0, 1, 'float32', 61),
            b: tf.randomNormal([40, 24], 0, 1, 'float32', 62),
            bias: tf.randomNormal([24], 0, 1, 'float32', 63),
            activation,
            leakyreluAlpha: 0.01,
          }),
        })),
      );
      assert.strictEqual(nativeCalls('_FusedMatMul') - before, native ? 1 : 0);
    });
  }

  it('calls it cannot take (batches that broadcast both ways, a prelu activation) run the wasm kernel and agree', async () => {
    const before = nativeCalls('BatchMatMul');
    assertClose(
      await nativeAndCpu(() => ({
        value: tf.matMul(
          tf.randomNormal([2, 3, 5, 4], 0, 1, 'float32', 1),
          tf.randomNormal([3, 4, 6], 0, 1, 'float32', 2),
        ),
      })),
    );
    assert.strictEqual(nativeCalls('BatchMatMul'), before, 'a [2, 3] · [3] batch broadcast is not native');
    const fusedBefore = nativeCalls('_FusedMatMul');
    assertClose(
      await nativeAndCpu(() => ({
        value: tf.fused.matMul({
          a: tf.randomNormal([3, 4], 0, 1, 'float32', 1),
          b: tf.randomNormal([4, 2], 0, 1, 'float32', 2),
          activation: 'prelu',
          preluActivationWeights: tf.scalar(0.3),
        }),
      })),
    );
    assert.strictEqual(nativeCalls('_FusedMatMul'), fusedBefore, 'prelu is not native');
  });

  // Elementwise ops: every broadcast pattern a training step makes (same shape, a number, a bias row, a per-row
  // value, a middle axis), and the operands swapped for the ops where order does not matter.
  const BROADCASTS: [number[], number[]][] = [
    [
      [64, 784],
      [64, 784],
    ],
    [[64, 784], []],
    [[64, 512], [512]],
    [
      [64, 784],
      [64, 1],
    ],
    [
      [8, 7, 7, 16],
      [1, 1, 1, 16],
    ],
    [
      [4, 5, 6, 3],
      [4, 1, 6, 1],
    ],
    [
      [1, 16],
      [8, 16],
    ],
  ];
  for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const) {
    it(`${op} over every broadcast pattern`, async () => {
      for (const [sa, sb] of BROADCASTS) {
        const got = await nativeAndCpu(() => {
          const a = tf.randomNormal(sa, 0, 1, 'float32', 71);
          // Divisors kept away from 0; a few equal values for maximum and minimum.
          const b =
            op === 'div'
              ? tf.randomUniform(sb, 0.5, 2, 'float32', 72)
              : tf.randomNormal(sb, 0, 1, 'float32', 72).round();
          return { value: tf[op](a, b) };
        });
        assertClose(got, 1e-6);
      }
    });
  }

  it('binary ops keep NaN as tfjs does, and run natively', async () => {
    const before = nativeCalls('Maximum');
    const got = await nativeAndCpu(() => ({
      max: tf.maximum(tf.tensor1d([NaN, 1, 2, NaN]), tf.tensor1d([0, NaN, 3, NaN])),
      min: tf.minimum(tf.tensor1d([NaN, 1, 2, NaN]), tf.tensor1d([0, NaN, 3, NaN])),
    }));
    assert.deepStrictEqual(Array.from(got.native.max), Array.from(got.cpu.max));
    assert.deepStrictEqual(Array.from(got.native.min), Array.from(got.cpu.min));
    assert.ok(nativeCalls('Maximum') > before);
  });

  it("ReLU's gradient runs in one native pass, tfjs's numbers bit for bit (NaN, ±0, ±∞), and so does its own gradient", async () => {
    // x and dy at the edges: dy · step(x) keeps NaN from either, −0 from a negative dy where x ≤ 0, NaN from ∞ · 0.
    const xs = [-2, -0, 0, 3, NaN, 1, -1, 2, 5, -7];
    const dys = [1.5, -2, -3, 4, 5, NaN, -Infinity, Infinity, -0, 2];
    const v = [0.5, 1, -1, 2, 3, -2, 1, 1, 4, -3];
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor1d(xs);
        const dy = tf.tensor1d(dys);
        const first = tf.grad((a: tf.Tensor) => tf.relu(a).mul(dy).sum())(x);
        // The gradient of Σ v · (∂/∂x Σ w · relu(x)) with respect to w: v · step(x).
        const second = tf.grad((w: tf.Tensor) =>
          tf
            .grad((a: tf.Tensor) => tf.relu(a).mul(w).sum())(x)
            .mul(v)
            .sum(),
        )(dy);
        return [Array.from(first.dataSync()), Array.from(second.dataSync())];
      });
    const before = nativeCalls('GenlabReluGrad');
    const native = run();
    assert.ok(nativeCalls('GenlabReluGrad') - before >= 2, 'the fused gradient ran natively');
    setNativeKernelsEnabled(false);
    const wasmOnly = run();
    setNativeKernelsEnabled(true);
    assert.deepStrictEqual(native, wasmOnly); // Object.is per element: NaN equals NaN, −0 differs from 0
    assert.ok(Object.is(native[0][1], -0) && Number.isNaN(native[0][4]) && Number.isNaN(native[0][6]), `${native[0]}`);
  });

  // The native unary ops are the exactly rounded ones, so they agree with the cpu backend bit for bit (leaky ReLU to
  // one rounding: the cpu backend multiplies by α as a double, the wasm kernels by α as a float); the approximate
  // ones (oneDNN's exp, log, tanh, logistic, softplus) must stay on tfjs's kernels.
  const UNARY: [string, string, (x: tf.Tensor) => tf.Tensor, number, number][] = [
    ['Relu', 'relu', tf.relu, -5, 5],
    ['LeakyRelu', 'leakyRelu', (x) => tf.leakyRelu(x, 0.1), -5, 5],
    ['Relu6', 'relu6', tf.relu6, -3, 9],
    ['Sqrt', 'sqrt', tf.sqrt, 0, 100],
    ['Square', 'square', tf.square, -10, 10],
    ['Abs', 'abs', tf.abs, -10, 10],
    ['Neg', 'neg', tf.neg, -10, 10],
    ['Step', 'step', (x) => tf.step(x, 0.25), -1, 1],
  ];
  for (const [kernel, name, f, lo, hi] of UNARY) {
    it(`${name} on [${lo}, ${hi}]: the cpu backend's values, bit for bit`, async () => {
      const before = nativeCalls(kernel);
      const got = await nativeAndCpu(() => ({ value: f(tf.randomUniform([64, 300], lo, hi, 'float32', 81)) }));
      if (kernel === 'LeakyRelu') {
        const [a, b] = [got.native.value, got.cpu.value];
        for (let i = 0; i < a.length; i++)
          assert.ok(Math.abs(a[i] - b[i]) <= 2 ** -23 * Math.abs(b[i]), `element ${i}`);
      } else {
        assert.deepStrictEqual(Array.from(got.native.value), Array.from(got.cpu.value));
      }
      assert.strictEqual(nativeCalls(kernel) - before, 1);
    });
  }

  it('exp, log, tanh, sigmoid, softplus and elu are not native (oneDNN approximates them)', async () => {
    const kernels = ['Exp', 'Log', 'Tanh', 'Sigmoid', 'Softplus', 'Elu', 'Rsqrt', 'Reciprocal'];
    const before = kernels.map(nativeCalls);
    const x = () => tf.randomUniform([64, 300], 0.01, 5, 'float32', 82);
    await nativeAndCpu(() => ({
      exp: tf.exp(x()),
      log: tf.log(x()),
      tanh: tf.tanh(x()),
      sigmoid: tf.sigmoid(x()),
      softplus: tf.softplus(x()),
      elu: tf.elu(x()),
      rsqrt: tf.rsqrt(x()),
      reciprocal: tf.reciprocal(x()),
    }));
    assert.deepStrictEqual(kernels.map(nativeCalls), before);
  });

  it('unary ops at the edges: sqrt of a negative and 0, NaN through relu and step, −0', async () => {
    const x = [-1000, -1, -0, 0, 4, 1000, NaN];
    const got = await nativeAndCpu(() => ({
      sqrt: tf.sqrt(tf.tensor1d(x)),
      relu: tf.relu(tf.tensor1d(x)),
      step: tf.step(tf.tensor1d(x), 0.5),
      abs: tf.abs(tf.tensor1d(x)),
    }));
    for (const part of Object.keys(got.cpu))
      assert.deepStrictEqual(Array.from(got.native[part]), Array.from(got.cpu[part]), part);
  });

  const REDUCTIONS: [string, number[], number | number[], boolean][] = [
    ['sum', [64, 784], 1, false],
    ['sum', [64, 14, 14, 64], [0, 1, 2], false],
    ['mean', [64, 14, 14, 64], [0, 1, 2], true],
    ['sum', [5, 6, 7], [1], false],
    ['mean', [64, 784], [0, 1], false],
    ['max', [16, 9, 32], 2, true],
    ['min', [16, 9, 32], [0, 1], false],
    ['prod', [6, 8], 1, false],
  ];
  for (const [op, shape, axis, keepDims] of REDUCTIONS) {
    it(`${op} of ${shape.join('×')} over axis ${axis}${keepDims ? ', keeping dims' : ''}`, async () => {
      const name = { sum: 'Sum', mean: 'Mean', max: 'Max', min: 'Min', prod: 'Prod' }[op]!;
      const before = nativeCalls(name);
      const got = await nativeAndCpu(() => {
        const x =
          op === 'prod'
            ? tf.randomUniform(shape, 0.5, 1.5, 'float32', 91)
            : tf.randomNormal(shape, 0, 1, 'float32', 91);
        const f = tf[op as 'sum'] as (x: tf.Tensor, axis: number | number[], keepDims: boolean) => tf.Tensor;
        return { value: f(x, axis, keepDims) };
      });
      assertClose(got, 1e-6);
      assert.strictEqual(nativeCalls(name) - before, 1);
    });
  }

  it('a reduction over axes that are not next to each other runs the wasm kernel', async () => {
    const before = nativeCalls('Sum');
    assertClose(await nativeAndCpu(() => ({ value: tf.sum(tf.randomNormal([4, 5, 6], 0, 1, 'float32', 1), [0, 2]) })));
    assert.strictEqual(nativeCalls('Sum'), before);
  });

  for (const [shape, withOffset, withScale] of [
    [[16, 7, 7, 128], true, true],
    [[16, 7, 7, 128], false, true],
    [[16, 7, 7, 128], true, false],
    [[32, 10], true, true],
  ] as [number[], boolean, boolean][]) {
    // tfjs cannot differentiate a batch norm without its offset or scale (its tape meets the missing input), on any
    // backend: those are checked by value.
    const withGrads = withOffset && withScale;
    const what = `${withOffset ? '' : ', no offset'}${withScale ? '' : ', no scale'}`;
    it(`batch normalization of ${shape.join('×')}${what}: value${withGrads ? ', and the gradient of every input' : ''}`, async () => {
      const before = [nativeCalls('FusedBatchNorm'), nativeCalls('GenlabBatchNormGrad')];
      const c = shape[shape.length - 1];
      const got = await nativeAndCpu(() => {
        const x = tf.randomNormal(shape, 0, 1, 'float32', 101);
        const mean = tf.randomNormal([c], 0, 0.1, 'float32', 102);
        const variance = tf.randomUniform([c], 0.5, 2, 'float32', 103);
        const offset = tf.randomNormal([c], 0, 1, 'float32', 104);
        const scale = tf.randomNormal([c], 1, 0.2, 'float32', 105);
        const bn = (xv: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
          tf.batchNorm(xv, m, v, withOffset ? o : undefined, withScale ? s : undefined, 0.001);
        const value = bn(x, mean, variance, offset, scale);
        if (!withGrads) return { value } as Record<string, tf.Tensor>;
        const r = tf.randomNormal(shape, 0, 1, 'float32', 106);
        const [dx, dmean, dvariance, doffset, dscale] = tf.grads(
          (xv: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
            bn(xv, m, v, o, s).mul(r).sum() as tf.Scalar,
        )([x, mean, variance, offset, scale]);
        return { value, dx, dmean, dvariance, doffset, dscale };
      });
      assertClose(got, 1e-5);
      assert.ok(nativeCalls('FusedBatchNorm') > before[0], 'the value ran natively');
      if (withGrads) assert.ok(nativeCalls('GenlabBatchNormGrad') > before[1], 'the gradient ran natively');
    });
  }

  it("moments over every axis but the last (batch statistics): values and gradient; other axes are tfjs's", async () => {
    const before = nativeCalls('GenlabMoments');
    const got = await nativeAndCpu(() => {
      const x = tf.randomNormal([16, 7, 7, 32], 0.5, 2, 'float32', 111);
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const kept = tf.moments(x, [0, 1, 2], true);
      const r1 = tf.randomNormal([32], 0, 1, 'float32', 112);
      const r2 = tf.randomNormal([32], 0, 1, 'float32', 113);
      const dx = tf.grad((xv: tf.Tensor) => {
        const m = tf.moments(xv, [0, 1, 2]);
        return m.mean.mul(r1).add(m.variance.mul(r2)).sum() as tf.Scalar;
      })(x);
      const other = tf.moments(x, [1, 2]);
      return {
        mean,
        variance,
        keptMean: kept.mean,
        keptVariance: kept.variance,
        dx,
        otherMean: other.mean,
        otherVariance: other.variance,
      };
    });
    assertClose(got, 1e-5);
    assert.deepStrictEqual(got.native.keptMean.length, 32);
    assert.strictEqual(nativeCalls('GenlabMoments') - before, 3, 'three of the four calls are batch statistics');
  });

  it("Adam: the same weights and moments as tfjs's own, bit for bit, and the same saved state", async () => {
    // The same gradients for both (a product's gradient itself differs in its last bits between oneDNN and wasm).
    const grads = (step: number) => ({
      w: tf.randomNormal([300, 200], 0, 1, 'float32', 130 + step),
      b: tf.randomNormal([200], 0, 1, 'float32', 140 + step),
    });
    const run = async (native: boolean) => {
      setNativeKernelsEnabled(native);
      const w = tf.variable(tf.randomNormal([300, 200], 0, 1, 'float32', 121), true, `adam-w-${native}`);
      const b = tf.variable(tf.randomNormal([200], 0, 1, 'float32', 122), true, `adam-b-${native}`);
      const optimizer = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
      for (let i = 0; i < 4; i++) {
        const g = grads(i);
        optimizer.applyGradients([
          { name: w.name, tensor: g.w },
          { name: b.name, tensor: g.b },
        ]);
        tf.dispose([g.w, g.b]);
      }
      const state = await optimizer.getWeights();
      const out = {
        w: Array.from(w.dataSync()),
        b: Array.from(b.dataSync()),
        state: state.map((s) => Array.from(s.tensor.dataSync())),
      };
      setNativeKernelsEnabled(true);
      tf.dispose([w, b]);
      optimizer.dispose();
      return out;
    };
    const before = nativeCalls('GenlabAdamUpdate');
    const fused = await run(true);
    assert.strictEqual(nativeCalls('GenlabAdamUpdate') - before, 8, 'two variables, four steps');
    const reference = await run(false);
    assert.deepStrictEqual(fused.w, reference.w);
    assert.deepStrictEqual(fused.b, reference.b);
    assert.deepStrictEqual(fused.state, reference.state, 'iterations and both moments of each variable');
  });

  it('leaks no tensors over training steps, and the heap can grow under it', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [16, 16, 1],
          filters: 8,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4 }),
      ],
    });
    model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    const xs = tf.randomNormal([8, 16, 16, 1], 0, 1, 'float32', 1);
    const ys = tf.randomNormal([8, 4], 0, 1, 'float32', 2);
    await model.fit(xs, ys, { epochs: 1, verbose: 0 });
    const live = tf.memory().numTensors;
    // A large allocation grows the wasm memory (a new buffer): the next native call must use the new one.
    const big = tf.zeros([64 * 1024 * 1024]);
    await model.fit(xs, ys, { epochs: 3, verbose: 0 });
    big.dispose();
    assert.strictEqual(tf.memory().numTensors, live);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});

describe('without the native kernels', function () {
  this.timeout(120000);
  /** A fresh Node that starts the wasm backend with `env` and reports what init saw. */
  const probe = (env: Record<string, string>) =>
    spawnSync(
      process.execPath,
      [
        '-e',
        `const e = require(${JSON.stringify(ENGINE)});
         const tf = require(require.resolve('@tensorflow/tfjs', { paths: [${JSON.stringify(__dirname)}] }));
         e.startWasm().then((info) => {
           const t = tf.conv2d(tf.ones([1, 5, 5, 2]), tf.ones([3, 3, 2, 1]), 1, 'same').dataSync();
           console.log(JSON.stringify({ native: info.native, centre: t[12] }));
         }, (err) => { console.log(JSON.stringify({ error: err.message })); });`,
      ],
      { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60000 },
    );
  const report = (env: Record<string, string>) => {
    const r = probe(env);
    assert.strictEqual(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      native?: { active: boolean; reason?: string; off?: boolean; winograd?: boolean };
      centre?: number;
      error?: string;
    };
  };

  it('GENLAB_NATIVE=0 runs the wasm kernels, and says they are off', () => {
    const r = report({ GENLAB_NATIVE: '0' });
    assert.deepStrictEqual(r.native, { active: false, off: true });
    assert.strictEqual(r.centre, 18, 'a 3×3×2 box of ones sums 18');
  });

  it('a missing addon falls back to the wasm kernels and says how to build it; GENLAB_NATIVE=1 makes it an error', () => {
    const missing = { GENLAB_NATIVE_ADDON: '/nonexistent/genlab_native.node' };
    const r = report(missing);
    assert.strictEqual(r.native!.active, false);
    assert.match(
      r.native!.reason!,
      /the native kernels are not built .*: `npx genlab-engine-build` \(genlab's `npm run setup`\) builds them where g\+\+ and oneDNN \(Debian: libdnnl-dev\) are installed/,
    );
    assert.strictEqual(r.centre, 18);
    const required = report({ ...missing, GENLAB_NATIVE: '1' });
    assert.match(required.error!, /^GENLAB_NATIVE=1, but the native kernels are not built/);
  });

  it('an addon that fails to load falls back with a sentence', () => {
    const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'genlab-native-'));
    const broken = path.join(dir, 'genlab_native.node');
    fs.writeFileSync(broken, 'not a shared library');
    const r = report({ GENLAB_NATIVE_ADDON: broken });
    assert.match(
      r.native!.reason!,
      /^the native kernels failed to load \(.*\): rebuild them with `npx genlab-engine-build --force`$/,
    );
    assert.strictEqual(r.centre, 18);
  });

  it('GENLAB_WINOGRAD=0 keeps every convolution on the direct kernels, and must be 0 or 1', function () {
    requireAddon(this);
    assert.strictEqual(report({}).native!.winograd, true);
    const off = report({ GENLAB_WINOGRAD: '0' });
    assert.strictEqual(off.native!.active, true);
    assert.strictEqual(off.native!.winograd, false);
    assert.strictEqual(off.centre, 18);
    assert.match(
      report({ GENLAB_WINOGRAD: 'off' }).error!,
      /^GENLAB_WINOGRAD is 'off': use 0 \(every convolution on the direct kernels\), 1, or leave it unset/,
    );
  });

  it('an addon built from older sources (lacking a function this code calls) falls back with a sentence', () => {
    const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'genlab-native-'));
    const old = path.join(dir, 'genlab_native.js');
    const stub = '() => { throw new Error("not called"); }';
    fs.writeFileSync(
      old,
      `module.exports = { run: ${stub}, explain: ${stub}, setThreads: ${stub}, versions: ${stub} };`,
    );
    const r = report({ GENLAB_NATIVE_ADDON: old });
    assert.strictEqual(r.native!.active, false);
    assert.match(
      r.native!.reason!,
      /^the native kernels were built from older sources \(they lack setWinograd\): rebuild them with `npx genlab-engine-build --force`$/,
    );
    assert.strictEqual(r.centre, 18);
  });

  it('GENLAB_NATIVE must be 0 or 1', () => {
    assert.match(
      report({ GENLAB_NATIVE: 'yes' }).error!,
      /^GENLAB_NATIVE is 'yes': use 0 \(the wasm kernels only\), 1/,
    );
  });

  it('on the single-threaded wasm build (a plain, not shared, heap) they agree with the cpu backend', function () {
    requireAddon(this);
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `const e = require(${JSON.stringify(ENGINE)});
         const tf = require(require.resolve('@tensorflow/tfjs', { paths: [${JSON.stringify(__dirname)}] }));
         (async () => {
           const info = await e.startWasm();
           const run = () => tf.tidy(() => Array.from(tf.conv2d(tf.randomNormal([2, 9, 9, 3], 0, 1, 'float32', 1), tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2), 2, 'same').dataSync()));
           const native = run();
           await tf.setBackend('cpu');
           const cpu = run();
           const scale = Math.max(...cpu.map(Math.abs));
           console.log(JSON.stringify({ threads: info.threads, shared: tf.engine().registry.wasm.wasm.HEAPU8.buffer instanceof SharedArrayBuffer, calls: e.nativeCalls('Conv2D'), err: Math.max(...native.map((v, i) => Math.abs(v - cpu[i]))) / scale }));
         })();`,
      ],
      { encoding: 'utf8', env: { ...process.env, GENLAB_WASM_THREADS: '1' }, timeout: 60000 },
    );
    assert.strictEqual(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.strictEqual(out.threads, 1);
    assert.strictEqual(out.shared, false);
    assert.strictEqual(out.calls, 1);
    assert.ok(out.err < 1e-5, `max difference ${out.err}`);
  });
});
