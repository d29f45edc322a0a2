/**
 * The webgpu backend (genlab-engine's webgpu.ts, packages/engine/src/) on whatever adapter this machine has: in CI, Dawn's OpenGL ES backend
 * on Mesa's software renderer, which gives WebGPU's results at a CPU's speed. Its kernels and the lab models'
 * training steps are checked against the cpu backend (tfjs's plain JavaScript kernels, a separate implementation),
 * and its synchronous reads against values worked out by hand.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { projectRoot } from '../../jupyter/environment';
import { init } from '../../lib/backend';
import { loadWebGpu } from 'genlab-engine';
import { withEnv } from '../helpers';
import { LAB_MODELS } from '../lab_models';

const ROOT = projectRoot();

/**
 * Starts webgpu, or skips the suite where it cannot run; in CI it must run, since setup installs Mesa's software
 * GL (jupyter/prerequisites.ts), the adapter of a machine without a GPU.
 */
async function requireWebGpu(context: Mocha.Context): Promise<void> {
  const info = await init({ backend: 'webgpu', quiet: true });
  if (info.backend === 'webgpu') return;
  if (process.env.CI) assert.fail(`${info.fellBack} (run \`npm run setup -- --for-tests\` as root on Debian)`);
  console.log(`    (skipped: ${info.fellBack})`);
  context.skip();
}

/** The largest difference relative to the values' size (1 at least), over every element. */
function scaledError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length, 'sizes differ');
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

/** Runs `compute` on webgpu and on cpu and returns both sets of results (with their shapes). */
async function onBoth(compute: () => tf.Tensor | tf.Tensor[]): Promise<{ gpu: tf.Tensor[]; cpu: tf.Tensor[] }> {
  const run = () => {
    const out = tf.tidy(compute);
    return Array.isArray(out) ? out : [out];
  };
  await tf.setBackend('webgpu');
  const gpu = run();
  // Read the results while they are on the GPU, then keep them on the CPU to compare.
  const gpuValues = await Promise.all(gpu.map(async (t) => tf.tensor(await t.data(), t.shape, t.dtype)));
  tf.dispose(gpu);
  await tf.setBackend('cpu');
  const cpu = run();
  await tf.setBackend('webgpu');
  return { gpu: gpuValues, cpu };
}

const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** A same-padded convolution's value and the gradients of its sum of squares by input and filter. */
function convAndGradients(input: number[], filter: number[], stride: number, seed: number): tf.Tensor[] {
  const x = seeded(input, seed) as tf.Tensor4D;
  const f = seeded(filter, seed + 1) as tf.Tensor4D;
  const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same');
  return [conv(x, f), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => conv(a, b).square().sum())([x, f])];
}

/** Each kernel the labs use, forward and (where they train through it) backward. */
const KERNELS: Record<string, () => tf.Tensor | tf.Tensor[]> = {
  'matMul, and its gradients': () => {
    const a = seeded([33, 47], 1);
    const b = seeded([47, 29], 2);
    return [tf.matMul(a, b), ...tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y).square().sum())([a, b])];
  },
  'conv2d 3×3 same, and its input and filter gradients': () => convAndGradients([4, 14, 14, 3], [3, 3, 3, 8], 1, 3),
  'conv2d 4×4 stride 2 (a DCGAN discriminator layer), and its gradients': () =>
    convAndGradients([2, 28, 28, 1], [4, 4, 1, 6], 2, 5),
  'conv2dTranspose 4×4 stride 2 (a DCGAN generator layer)': () =>
    tf.conv2dTranspose(
      seeded([2, 7, 7, 8], 7) as tf.Tensor4D,
      seeded([4, 4, 4, 8], 8) as tf.Tensor4D,
      [2, 14, 14, 4],
      2,
      'same',
    ),
  'maxPool and avgPool, and their gradients': () => {
    const x = seeded([2, 8, 8, 3], 9);
    return [
      tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'),
      tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid').sum())(x),
      tf.grad((a: tf.Tensor) =>
        tf
          .avgPool(a as tf.Tensor4D, 2, 2, 'valid')
          .square()
          .sum(),
      )(x),
    ];
  },
  'batch normalization over the batch with a scale and offset (as layers apply it), and its gradients': () => {
    const x = seeded([16, 5, 5, 4], 10);
    const gamma = seeded([4], 18);
    const beta = seeded([4], 19);
    const weights = seeded([16, 5, 5, 4], 11);
    const norm = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.batchNorm(a, mean, variance, b, g, 1e-3);
    };
    const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => norm(a, g, b).mul(weights).sum();
    return [norm(x, gamma, beta), ...tf.grads(loss)([x, gamma, beta])];
  },
  'activations: relu, leakyRelu, sigmoid, tanh, softplus, elu': () => {
    const x = seeded([1000], 12).mul(4);
    return [tf.relu(x), tf.leakyRelu(x, 0.2), tf.sigmoid(x), tf.tanh(x), tf.softplus(x), tf.elu(x)];
  },
  "a gradient of a gradient through leaky ReLU (WGAN-GP's penalty), by the critic's weights": () => {
    const x = seeded([8, 20], 20);
    const w = seeded([20, 12], 21);
    const penalty = (w: tf.Tensor) =>
      tf
        .grad((a: tf.Tensor) => tf.leakyRelu(a.matMul(w), 0.2).sum())(x)
        .square()
        .sum();
    return [penalty(w), tf.grad(penalty)(w)];
  },
  'reductions and softmax: sum, mean, max, logSumExp, logSoftmax, argMax': () => {
    const x = seeded([37, 10], 13).mul(3);
    return [x.sum(1), x.mean(0), x.max(1), tf.logSumExp(x, 1), tf.logSoftmax(x), tf.argMax(x, 1)];
  },
  'elementwise with broadcasting, and sigmoid cross-entropy': () => {
    const a = seeded([6, 1, 5], 14);
    const b = seeded([1, 4, 5], 15);
    const labels = tf.randomUniform([6, 4, 5], 0, 1, 'float32', 16).round();
    return [a.add(b), a.mul(b), a.sub(b).square(), tf.losses.sigmoidCrossEntropy(labels, a.add(b))];
  },
  'reshape, transpose, slice, concat, gather, tile, pad': () => {
    const x = seeded([4, 6, 5], 17);
    return [
      x.transpose([2, 0, 1]),
      x.slice([1, 2, 0], [2, 3, 4]),
      tf.concat([x, x.mul(2)], 1),
      tf.gather(x, tf.tensor1d([3, 0, 3], 'int32')),
      tf.tile(x.reshape([24, 5]), [2, 1]),
      tf.pad(x, [
        [0, 0],
        [1, 1],
        [2, 0],
      ]),
    ];
  },
};

describe('the webgpu backend (Dawn)', function () {
  this.timeout(10 * 60 * 1000);
  before(async function () {
    await requireWebGpu(this);
  });
  after(() => withEnv({ GENLAB_BACKEND: undefined }, () => init({ quiet: true })));

  it("init's line names the adapter (vendor or device, software or not) and its graphics API", async () => {
    const info = await init({ backend: 'webgpu', quiet: true });
    assert.strictEqual(tf.getBackend(), 'webgpu');
    assert.ok(info.gpu, 'the adapter is described');
    assert.match(
      info.line,
      /^genlab: backend webgpu \(@tensorflow\/tfjs-backend-webgpu on .+, (Vulkan|Metal|Direct3D 12|OpenGL ES)\) · tfjs /,
    );
    assert.ok(info.line.includes(info.gpu.label), info.line);
    // Mesa's llvmpipe is what a machine without a GPU has: it must say software.
    if (/llvmpipe/.test(info.gpu.device + info.gpu.description))
      assert.ok(info.gpu.software && /\(software\)/.test(info.line));
  });

  it('reads synchronously (dataSync, arraySync) what was worked out by hand, in every dtype', () => {
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const square = tf.matMul(a, a); // [[1·1+2·3, 1·2+2·4], [3·1+4·3, 3·2+4·4]]
    assert.deepStrictEqual(square.arraySync(), [
      [7, 10],
      [15, 22],
    ]);
    assert.deepStrictEqual(Array.from(tf.tensor1d([5, -2, 7], 'int32').mul(3).dataSync()), [15, -6, 21]);
    assert.deepStrictEqual(Array.from(tf.tensor1d([1, 2, 3]).greater(2).dataSync()), [0, 0, 1]);
    // A read larger than one staging chunk of tfjs's canvas path (256 × 256 pixels of 4 bytes).
    const n = 300_000;
    const values = tf.range(0, n).mul(2).dataSync();
    assert.strictEqual(values.length, n);
    assert.ok(
      values.every((v, i) => v === 2 * i),
      'every element of 2·range(n)',
    );
    assert.strictEqual(tf.range(0, 1000).sum().dataSync()[0], (999 * 1000) / 2);
    tf.dispose([a, square]);
  });

  for (const [name, compute] of Object.entries(KERNELS)) {
    it(`${name}: the cpu backend's values`, async () => {
      const { gpu, cpu } = await onBoth(compute);
      assert.strictEqual(gpu.length, cpu.length);
      for (let i = 0; i < gpu.length; i++) {
        assert.deepStrictEqual(gpu[i].shape, cpu[i].shape, `output ${i}'s shape`);
        const error = scaledError(gpu[i].dataSync(), cpu[i].dataSync());
        assert.ok(error < 1e-4, `output ${i}: largest scaled difference ${error}`);
      }
      tf.dispose([...gpu, ...cpu]);
    });
  }

  // As in the native kernels' test: sums in another order differ in the last bits, and Adam carries that on; the
  // GAN's game amplifies it most.
  for (const [name, build] of Object.entries(LAB_MODELS)) {
    const tolerance = name.includes('GAN') ? 1e-2 : 1e-4;
    it(`${name}: one training step, then a second, as on the cpu backend (to ${tolerance})`, async () => {
      const curve = async (backend: string) => {
        await tf.setBackend(backend);
        const run = build();
        try {
          return [run.step(0), run.step(1)];
        } finally {
          run.dispose();
        }
      };
      const gpu = await curve('webgpu');
      const cpu = await curve('cpu');
      await tf.setBackend('webgpu');
      assert.ok(gpu.every(Number.isFinite), `losses ${gpu}`);
      for (let i = 0; i < 2; i++)
        assert.ok(
          Math.abs(gpu[i] - cpu[i]) <= (i === 0 ? 1e-4 : tolerance) * Math.max(1, Math.abs(cpu[i])),
          `step ${i}: webgpu ${gpu[i]}, cpu ${cpu[i]}`,
        );
      assert.notStrictEqual(gpu[0], gpu[1], 'the model trains');
    });
  }

  it('automatic selection never takes a software adapter', async function () {
    const info = await init({ backend: 'webgpu', quiet: true });
    if (!info.gpu!.software) this.skip(); // a machine with a GPU: automatic selection may take it
    const loaded = await loadWebGpu(false);
    assert.ok(!loaded.ok && /no hardware WebGPU adapter/.test(loaded.reason), JSON.stringify(loaded));
    const auto = await withEnv({ GENLAB_BACKEND: undefined }, () => init({ quiet: true }));
    assert.notStrictEqual(auto.backend, 'webgpu');
  });

  it('forced where no adapter starts, it says why in a sentence and runs on wasm', () => {
    // EGL told to use X11 with no display: Mesa cannot start, so Dawn finds no OpenGL ES adapter (nor Vulkan here).
    const script = `require(${JSON.stringify(path.join(ROOT, 'dist', 'lib'))}).init().then((i) => console.log(JSON.stringify({ backend: i.backend })))`;
    const r = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GENLAB_BACKEND: 'webgpu',
        EGL_PLATFORM: 'x11',
        DISPLAY: '',
        VK_ICD_FILENAMES: '/nonexistent',
      },
      timeout: 120_000,
    });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^genlab: the backend 'webgpu' cannot start here: no WebGPU adapter \(.*OpenGL ES: no adapter\); running on wasm instead\.$/m,
    );
    assert.deepStrictEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), { backend: 'wasm' });
  });
});
