/**
 * One small training run of each lab's model, from fixed seeds, for tests that compare two ways of computing the
 * same steps (the native kernels against wasm's, the webgpu backend against cpu): `step(i)` runs training step i
 * and returns its loss.
 */
import * as tf from '@tensorflow/tfjs';
import { autoencoder, classifier, DCGAN_RECIPE, diffusion, flow, gan, pixelcnn, vae } from '../lib/index';

export interface LabRun {
  step: (i: number) => number;
  dispose: () => void;
}

const images = (n: number, seed: number) =>
  tf.tidy(() => tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', seed).round() as tf.Tensor4D);
export const LAB_MODELS: Record<string, () => LabRun> = {
  'lab 1 CNN classifier': () => {
    const model = classifier.createClassifier({ architecture: 'cnn', seed: 1 });
    const optimizer = tf.train.adam(1e-3);
    const x = images(32, 2);
    const labels = tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => i % 10),
      'int32',
    );
    return {
      step: () => {
        const out = classifier.trainStep(model, optimizer, { x, y: labels });
        const v = out.loss.dataSync()[0];
        tf.dispose(Object.values(out));
        return v;
      },
      dispose: () => tf.dispose([x, labels]),
    };
  },
  'lab 2 conv autoencoder': () => {
    const model = autoencoder.createAutoencoder({ architecture: 'conv', bottleneck: 16, seed: 1 });
    const optimizer = tf.train.adam(1e-3);
    const x = images(32, 3);
    return {
      step: () => {
        const out = autoencoder.trainStep(model, optimizer, x);
        const v = out.loss.dataSync()[0];
        tf.dispose(Object.values(out));
        return v;
      },
      dispose: () => x.dispose(),
    };
  },
  'lab 3 MLP VAE': () => vaeRun('mlp'),
  'lab 3 conv VAE': () => vaeRun('conv'),
  'lab 4 PixelCNN': () => {
    const model = pixelcnn.createPixelCnn({ filters: 16, layers: 2, seed: 1 });
    const optimizer = tf.train.adam(1e-3);
    const x = images(16, 4);
    return {
      step: () => {
        const out = pixelcnn.trainStep(model, optimizer, x);
        const v = out.loss.dataSync()[0];
        tf.dispose(Object.values(out));
        return v;
      },
      dispose: () => x.dispose(),
    };
  },
  'lab 5 DCGAN': () => {
    // Lab 5's DCGAN (DCGAN_RECIPE: filters [32, 64]), not createGan's larger default: on the cpu backend the
    // comparisons take a step of each, and the default's [64, 128] costs four times the lab's.
    const model = gan.createGan({ ...DCGAN_RECIPE.model, seed: 1 });
    const optimizers = gan.createOptimizers();
    const real = tf.tidy(() => gan.toGanRange(tf.randomUniform([16, 28, 28, 1], 0, 1, 'float32', 5)));
    return {
      step: (i) => {
        const d = gan.discriminatorStep(model, optimizers.discriminator, real, 2 * i + 1);
        const g = gan.generatorStep(model, optimizers.generator, 16, 2 * i + 2);
        const v = d.loss.dataSync()[0] + g.dataSync()[0];
        tf.dispose([d.loss, d.dReal, d.dFake, g]);
        return v;
      },
      dispose: () => real.dispose(),
    };
  },
  // Labs 6 and 7 at a tenth of their width and a few images: every kernel their steps run (thin heads and outputs,
  // concat and split, pools and upsamplings, and their gradients), at a size the cpu backend steps through in seconds.
  'lab 6 flow': () => {
    const model = flow.createFlow({ filters: 16, blocks: 1, seed: 1 });
    const optimizer = tf.train.adam(1e-3);
    const images = (seed: number) =>
      tf.tidy(() => tf.randomUniform([4, 28, 28, 1], 0, 256, 'int32', seed).toFloat().div(255));
    const x = images(7);
    // The ActNorms set from another batch than the one trained on: set from x itself, their gradients on x are 0 up to
    // rounding (x's codes have mean 0 and variance 1 there), and Adam's first step turns that rounding into a full
    // step of either sign, so the two runs would part for a reason that is not the kernels.
    tf.tidy(() => flow.initializeActNorms(model, flow.logitTransform(flow.dequantize(images(8), 9), model.alpha).w));
    return {
      step: (i) => {
        const out = flow.trainStep(model, optimizer, x, { seed: i + 1 });
        tf.dispose(out.loss as tf.Scalar);
        // Bits/dim rather than nats: on uniform noise −log p(y) is near 0 nats, a sum of thousands of nats of both
        // signs (the logit's log-determinant, the ActNorms', the Gaussian's), so a relative tolerance on it would
        // measure that cancellation, not the kernels (0.0006 nats apart of 4.6, between native and wasm).
        return out.bitsPerDim as number;
      },
      dispose: () => {
        x.dispose();
        flow.disposeFlow(model);
      },
    };
  },
  'lab 7 diffusion U-Net': () => {
    const model = diffusion.createDiffusion({ channels: [8, 16], embedding: 16, seed: 1 });
    const optimizer = tf.train.adam(1e-3);
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 8) as tf.Tensor4D;
    const y = tf.tensor1d([3, 1, 4, 1], 'int32');
    return {
      step: (i) => {
        const out = diffusion.trainStep(
          model,
          optimizer,
          { x, y, epoch: 0, indices: new Int32Array(0) },
          { seed: i + 1 },
        );
        const v = (out.loss as tf.Scalar).dataSync()[0];
        tf.dispose(out.loss as tf.Scalar);
        return v;
      },
      dispose: () => {
        tf.dispose([x, y]);
        model.network.dispose();
      },
    };
  },
};

function vaeRun(architecture: 'mlp' | 'conv'): LabRun {
  const model = vae.createVae({ architecture, latentDim: 8, seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  // The conv VAE's step is slow on the cpu backend (pure JavaScript): 8 images run every kernel and shape 32 do,
  // but the batch's size.
  const x = images(architecture === 'conv' ? 8 : 32, 6);
  return {
    step: (i: number) => {
      const out = vae.trainStep(model, optimizer, x, { seed: i + 1 });
      const v = out.loss.dataSync()[0];
      tf.dispose([out.loss, out.reconstruction, out.kl]);
      return v;
    },
    dispose: () => x.dispose(),
  };
}
