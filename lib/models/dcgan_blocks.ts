/**
 * The DCGAN's two networks as blocks, built once and shared by the unconditional DCGAN (`gan.createGan`) and the
 * conditional one (`conditionalGan.createConditionalGan`), which differ only in what goes in and how D answers.
 */
import * as tf from '@tensorflow/tfjs';
import { Random } from '../random';
import { apply, initializers } from './kit';

/**
 * G's body from its input vector (z, or z next to a one-hot label): dense → 7×7×128 (BN, ReLU) → up-conv 4×4 ×`filters`
 * stride 2 (BN, ReLU) → up-conv 4×4 ×1 stride 2, tanh: an image [N, 28, 28, 1] in [−1, 1].
 */
export function dcganGeneratorFrom(input: tf.SymbolicTensor, filters: number, rng: Random): tf.SymbolicTensor {
  let h = apply(tf.layers.dense({ units: 7 * 7 * 128, useBias: false, ...initializers(rng, 'relu') }), input);
  h = apply(tf.layers.reshape({ targetShape: [7, 7, 128] }), h);
  h = apply(tf.layers.batchNormalization(), h); // per channel
  h = apply(tf.layers.reLU(), h);
  const upConv = (units: number, last: boolean) =>
    tf.layers.conv2dTranspose({
      filters: units,
      kernelSize: 4,
      strides: 2,
      padding: 'same',
      ...(last
        ? { activation: 'tanh' as const, ...initializers(rng) }
        : { useBias: false, ...initializers(rng, 'relu') }),
    });
  h = apply(upConv(filters, false), h);
  h = apply(tf.layers.batchNormalization(), h);
  h = apply(tf.layers.reLU(), h);
  return apply(upConv(1, true), h);
}

/**
 * D's body up to its features: conv 4×4 ×`filters[0]` stride 2 (LeakyReLU 0.2) → conv 4×4 ×`filters[1]` stride 2
 * (BN, LeakyReLU 0.2) → flattened, 7 × 7 × filters[1] numbers per image.
 */
export function dcganDiscriminatorFeatures(
  x: tf.SymbolicTensor,
  filters: [number, number],
  rng: Random,
): tf.SymbolicTensor {
  let h = apply(
    tf.layers.conv2d({ filters: filters[0], kernelSize: 4, strides: 2, padding: 'same', ...initializers(rng) }),
    x,
  );
  h = apply(tf.layers.leakyReLU({ alpha: 0.2 }), h);
  h = apply(
    tf.layers.conv2d({
      filters: filters[1],
      kernelSize: 4,
      strides: 2,
      padding: 'same',
      useBias: false,
      ...initializers(rng),
    }),
    h,
  );
  h = apply(tf.layers.batchNormalization(), h);
  h = apply(tf.layers.leakyReLU({ alpha: 0.2 }), h);
  return apply(tf.layers.flatten(), h);
}
