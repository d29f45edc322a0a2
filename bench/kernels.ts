/**
 * The wasm kernels genlab replaces, timed against the ones tfjs-backend-wasm 4.22
 * ships, in one run on the same tensors (ratios, since machines are noisy), with as
 * many threads as `init` gives wasm (GENLAB_WASM_THREADS=1 for one).
 * Conv2DBackpropFilter has no stock kernel; it is timed against a forward conv of
 * the same size. The native kernels (packages/engine/src/native/), which stand in front of these where
 * they are built, are switched off: this times the wasm fallback. Writes bench/results/kernels.json.
 *
 *   npm run bench:kernels
 */
import { init, tf } from '../lib/index';
import { setNativeKernelsEnabled, withStockWasmKernel } from 'genlab-engine';
import { runBench, writeResult } from './common';
import type { FlagSpec } from '../lib/command_line';

/**
 * wasm kernels return when their result is written (threads included), so the
 * result is not read back: copying it out of the heap would cost more than the
 * cheaper kernels themselves.
 */
function msPerCall(f: () => tf.Tensor, repeats = 10): number {
  for (let i = 0; i < 2; i++) tf.tidy(() => void f());
  const start = process.hrtime.bigint();
  for (let i = 0; i < repeats; i++) tf.tidy(() => void f());
  return Number(process.hrtime.bigint() - start) / 1e6 / repeats;
}

/** The flags this benchmark accepts; any other stops it with a sentence. */
const FLAGS: Record<string, FlagSpec> = {};

async function main(): Promise<void> {
  await init({ backend: 'wasm' });
  setNativeKernelsEnabled(false);
  const m = (shape: [number, number]) => tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor2D;
  const r = (shape: [number, number, number, number]) => tf.randomNormal(shape, 0, 1, 'float32', 2) as tf.Tensor4D;
  const x128 = m([128, 784]);
  const dy512 = m([128, 512]);
  const w = m([784, 512]);
  const img = r([64, 28, 28, 64]);
  const k64 = r([3, 3, 64, 64]);
  const half = r([64, 14, 14, 64]);
  const k32 = r([3, 3, 32, 64]);
  const seven = r([64, 7, 7, 128]);
  const k4 = r([4, 4, 64, 128]);
  const channels = r([1, 1, 1, 128]);
  const edge = r([64, 30, 30, 1]);
  const wide = r([64, 16, 16, 64]);
  const images = tf.randomUniform([60000, 28, 28, 1], 0, 1, 'float32', 3); // MNIST's training set, in size
  const batchIndices = tf.tensor1d(
    Array.from({ length: 128 }, (_, i) => (i * 7919) % 60000),
    'int32',
  );
  const cases: { name: string; kernel: string; run: () => tf.Tensor }[] = [
    {
      name: 'dense weight gradient xᵀ·dy, [784×128]·[128×512]',
      kernel: 'BatchMatMul',
      run: () => tf.matMul(x128, dy512, true, false),
    },
    {
      name: 'dense input gradient dy·Wᵀ, [128×512]·[784×512]ᵀ',
      kernel: 'BatchMatMul',
      run: () => tf.matMul(dy512, w, false, true),
    },
    {
      name: 'conv input gradient, 3×3×64, batch 64, 28×28, stride 1',
      kernel: 'Conv2DBackpropInput',
      run: () => tf.conv2dTranspose(img, k64, [64, 28, 28, 64], 1, 'same'),
    },
    {
      name: 'transposed conv 14×14×64 → 28×28×32, stride 2',
      kernel: 'Conv2DBackpropInput',
      run: () => tf.conv2dTranspose(half, k32, [64, 28, 28, 32], 2, 'same'),
    },
    {
      name: 'DCGAN up-conv 7×7×128 → 14×14×64, 4×4, stride 2',
      kernel: 'Conv2DBackpropInput',
      run: () => tf.conv2dTranspose(seven, k4, [64, 14, 14, 64], 2, 'same'),
    },
    {
      name: 'tile [1,1,1,128] to [64,7,7,128] (batch-norm gradient)',
      kernel: 'Tile',
      run: () => tf.tile(channels, [64, 7, 7, 1]),
    },
    {
      name: 'crop [64,30,30,1] to [64,28,28,1] (up-conv edge)',
      kernel: 'Slice',
      run: () => tf.slice(edge, [0, 1, 1, 0], [64, 28, 28, 1]),
    },
    {
      name: 'crop [64,16,16,64] to [64,14,14,64]',
      kernel: 'Slice',
      run: () => tf.slice(wide, [0, 1, 1, 0], [64, 14, 14, 64]),
    },
    { name: 'bias gradient: sum [64,28,28,64] over b, H, W', kernel: 'Sum', run: () => tf.sum(img, [0, 1, 2]) },
    { name: 'batch-norm mean of [64,7,7,128] over b, H, W', kernel: 'Mean', run: () => tf.mean(seven, [0, 1, 2]) },
    {
      name: 'a mini-batch: 128 of 60,000 images (gather)',
      kernel: 'GatherV2',
      run: () => tf.gather(images, batchIndices),
    },
  ];
  const rows: Record<string, unknown>[] = [];
  console.log('kernel case                                               genlab ms   stock ms   speed-up');
  for (const c of cases) {
    const ours = msPerCall(c.run);
    const stock = withStockWasmKernel(c.kernel, () => msPerCall(c.run, 3));
    rows.push({ case: c.name, kernel: c.kernel, genlabMs: ours, stockMs: stock, speedup: stock / ours });
    console.log(
      `${c.name.padEnd(58)} ${ours.toFixed(1).padStart(8)} ${stock.toFixed(1).padStart(10)} ${(stock / ours).toFixed(1).padStart(9)}×`,
    );
  }
  const forward = msPerCall(() => tf.conv2d(img, k64, 1, 'same'));
  const filterGrad =
    msPerCall(() => tf.grad((k: tf.Tensor) => tf.conv2d(img, k as tf.Tensor4D, 1, 'same').sum())(k64)) - forward;
  rows.push({
    case: 'conv filter gradient 3×3×64, batch 64, 28×28 (no stock kernel)',
    kernel: 'Conv2DBackpropFilter',
    genlabMs: filterGrad,
    forwardConvMs: forward,
  });
  console.log(
    `conv filter gradient (no stock kernel): ${filterGrad.toFixed(1)} ms, a forward conv of the same size ${forward.toFixed(1)} ms`,
  );
  writeResult('kernels', rows);
}

runBench('npm run bench:kernels', FLAGS, main);
