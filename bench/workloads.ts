/**
 * The lab models' training steps (and PixelCNN sampling) as timed units of work,
 * built from the library's own factories. `npm run bench` times them on each
 * backend; bench/torch_steps.py builds the same architectures in PyTorch.
 *
 * Inputs are fixed random batches made once: a step's cost does not depend on the
 * pixels, and this keeps dataset loading out of the timings.
 */
import { diffusion, flow, gan, pixelcnn, tf, vae } from '../lib/index';

export interface Workload {
  name: string;
  description: string;
  /** Trainable parameters (what PyTorch's `parameters()` counts; batch-norm moving statistics are not). */
  trainableParams: number;
  /** One unit of work, finished (its result read back) before it returns. */
  run(): Promise<void>;
  dispose(): void;
}

export const WORKLOAD_NAMES = [
  'dcgan',
  'conv-vae',
  'mlp-vae',
  'pixelcnn',
  'pixelcnn-sample',
  'flow',
  'diffusion',
  'gemm',
] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export const BATCH_SIZE = 64;
export const SAMPLE_COUNT = 16;

const trainable = (...models: tf.LayersModel[]) =>
  models.reduce(
    (sum, m) =>
      sum + m.trainableWeights.reduce((s, w) => s + w.shape.reduce((a, b) => (a as number) * (b as number), 1)!, 0),
    0,
  );

const binaryImages = (n: number, seed: number) =>
  tf.tidy(() => tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', seed).round() as tf.Tensor4D);

function dcgan(batch: number): Workload {
  const model = gan.createGan({ architecture: 'dcgan', seed: 1 });
  const optimizers = gan.createOptimizers();
  const real = tf.tidy(() => gan.toGanRange(tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 2)));
  let seed = 0;
  return {
    name: 'dcgan',
    description: `DCGAN (library default, filters 64/128): one D step + one G step, batch ${batch}`,
    trainableParams: trainable(model.generator, model.discriminator),
    async run() {
      const d = gan.discriminatorStep(model, optimizers.discriminator, real, ++seed);
      const g = gan.generatorStep(model, optimizers.generator, batch, ++seed);
      await g.data();
      tf.dispose([d.loss, d.dReal, d.dFake, g]);
    },
    dispose() {
      real.dispose();
      model.generator.dispose();
      model.discriminator.dispose();
      optimizers.discriminator.dispose();
      optimizers.generator.dispose();
    },
  };
}

/** Lab 3's VAEs: the conv one, and the MLP one whose 15,000 steps are most of the lab's time. */
function vaeStep(architecture: 'conv' | 'mlp', batch: number): Workload {
  const model = vae.createVae({ architecture, latentDim: 32, seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  const x = binaryImages(batch, 3);
  let seed = 0;
  return {
    name: `${architecture}-vae`,
    description:
      architecture === 'conv'
        ? `conv VAE (lab 3: latent 32, filters 32/64): one −ELBO step, batch ${batch}`
        : `MLP VAE (lab 3: latent 32, 784-512-256 and back): one −ELBO step, batch ${batch}`,
    trainableParams: trainable(model.encoder, model.decoder),
    async run() {
      const out = vae.trainStep(model, optimizer, x, { seed: ++seed });
      await out.loss.data();
      tf.dispose([out.loss, out.reconstruction, out.kl]);
    },
    dispose() {
      x.dispose();
      model.encoder.dispose();
      model.decoder.dispose();
      optimizer.dispose();
    },
  };
}

function pixelCnnTraining(batch: number): Workload {
  const model = pixelcnn.createPixelCnn({ filters: 64, layers: 5, seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  const x = binaryImages(batch, 4);
  return {
    name: 'pixelcnn',
    description: `PixelCNN (7×7 mask A + 5 × 3×3 mask B, 64 channels): one NLL step, batch ${batch}`,
    trainableParams: trainable(model),
    async run() {
      const loss = optimizer.minimize(() => pixelcnn.logLikelihood(model, x).mean().neg() as tf.Scalar, true)!;
      await loss.data();
      loss.dispose();
    },
    dispose() {
      x.dispose();
      model.dispose();
      optimizer.dispose();
    },
  };
}

function pixelCnnSampling(): Workload {
  const model = pixelcnn.createPixelCnn({ filters: 64, layers: 5, seed: 1 });
  let seed = 0;
  return {
    name: 'pixelcnn-sample',
    description: `PixelCNN (64 channels) sampling: ${SAMPLE_COUNT} images, 784 sequential passes`,
    trainableParams: trainable(model),
    async run() {
      (await pixelcnn.sample(model, SAMPLE_COUNT, ++seed)).dispose();
    },
    dispose() {
      model.dispose();
    },
  };
}

/** The normalizing flow (lib/models/flow.ts: two scales, 16 affine couplings, 48 channels, one residual block each, an ActNorm after each coupling). */
function flowTraining(batch: number): Workload {
  const model = flow.createFlow({ filters: 48, blocks: 1, seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  // 8-bit images, as x / 255 (what loadMnist gives); the step dequantizes them with its own noise.
  const x = tf.tidy(() => tf.randomUniform([batch, 28, 28, 1], 0, 256, 'int32', 5).toFloat().div(255));
  let seed = 0;
  return {
    name: 'flow',
    description: `RealNVP-style flow (2 scales, 16 couplings, 48 channels): one −log p step on dequantized 8-bit images, batch ${batch}`,
    trainableParams: trainable(model.networks),
    async run() {
      const out = flow.trainStep(model, optimizer, x, { seed: ++seed });
      await (out.loss as tf.Scalar).data();
      tf.dispose(out.loss as tf.Scalar);
    },
    dispose() {
      x.dispose();
      flow.disposeFlow(model);
      optimizer.dispose();
    },
  };
}

/**
 * The diffusion model's U-Net (lib/models/diffusion.ts: 32 channels at 28 × 28, 64 below, a 64-wide embedding of the
 * step and the label): one ε-loss step on labelled images, a tenth of the labels dropped.
 */
function diffusionTraining(batch: number): Workload {
  const model = diffusion.createDiffusion({ channels: [32, 64], embedding: 64, seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 6);
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 10),
    'int32',
  );
  let seed = 0;
  return {
    name: 'diffusion',
    description: `diffusion U-Net (32/64 channels, step and label embedding): one ε-loss step, batch ${batch}`,
    trainableParams: trainable(model.network),
    async run() {
      const out = diffusion.trainStep(
        model,
        optimizer,
        { x, y, epoch: 0, indices: new Int32Array(0) },
        { seed: ++seed },
      );
      await (out.loss as tf.Scalar).data();
      tf.dispose(out.loss as tf.Scalar);
    },
    dispose() {
      tf.dispose([x, y]);
      model.network.dispose();
      optimizer.dispose();
    },
  };
}

/**
 * Calibration, not a lab model: one 1024³ float32 matrix product, the raw arithmetic
 * rate of the backend against PyTorch's (wasm SIMD is 128 bits wide and has no fused
 * multiply-add; PyTorch's CPU kernels use the machine's widest vectors).
 */
function gemm(): Workload {
  const a = tf.randomNormal([1024, 1024], 0, 1, 'float32', 5);
  const b = tf.randomNormal([1024, 1024], 0, 1, 'float32', 6);
  return {
    name: 'gemm',
    description: '1024 × 1024 × 1024 matrix product (calibration)',
    trainableParams: 0,
    async run() {
      // One number read back, as the peer's `(a @ b)[0, 0].item()`: the product, not a 4 MB copy, is what is timed.
      const c = tf.matMul(a, b);
      const first = c.slice([0, 0], [1, 1]);
      await first.data();
      tf.dispose([c, first]);
    },
    dispose() {
      tf.dispose([a, b]);
    },
  };
}

/** `batch` sets the training steps' batch size (bench/data_parallel.ts halves it); sampling and gemm ignore it. */
export function createWorkload(name: WorkloadName, batch = BATCH_SIZE): Workload {
  switch (name) {
    case 'dcgan':
      return dcgan(batch);
    case 'conv-vae':
      return vaeStep('conv', batch);
    case 'mlp-vae':
      return vaeStep('mlp', batch);
    case 'pixelcnn':
      return pixelCnnTraining(batch);
    case 'pixelcnn-sample':
      return pixelCnnSampling();
    case 'flow':
      return flowTraining(batch);
    case 'diffusion':
      return diffusionTraining(batch);
    case 'gemm':
      return gemm();
  }
}
