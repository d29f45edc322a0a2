/**
 * Activation normalisation (Kingma & Dhariwal 2018, "Glow"): a per-channel affine map
 *
 *   y = (x + b) ⊙ exp(log s),   log |det ∂y/∂x| = H · W · Σ_c log s_c   (for an H × W image),
 *
 * invertible whatever b and log s are (x = y ⊙ exp(−log s) − b). A flow's layers scale and shift their changed
 * halves by bounded amounts (a coupling's s = tanh(s_raw)), so without it the flow has to learn the data's
 * overall scale and offset through many couplings at once; with it, each channel gets its own, and they are set
 * from the data at the start (`initializeFrom`: mean 0 and variance 1 on the first batch), then trained.
 *
 * The weights are kept as log s rather than s, so that any value is a valid (positive) scale.
 */
import * as tf from '@tensorflow/tfjs';
import { GenlabError } from '../errors';

export interface ActNormArgs {
  name?: string;
}

export class ActNorm extends tf.layers.Layer {
  static className = 'ActNorm';
  private bias!: tf.LayerVariable;
  private logScale!: tf.LayerVariable;

  constructor(args: ActNormArgs = {}) {
    super(args);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null) throw new GenlabError(`ActNorm needs a known number of channels, got [${shape}].`);
    // Zero: the identity until `initializeFrom` (or training) sets them.
    this.bias = this.addWeight('bias', [channels], 'float32', tf.initializers.zeros());
    this.logScale = this.addWeight('log_scale', [channels], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return x.add(this.bias.read()).mul(tf.exp(this.logScale.read()));
    });
  }

  /** y and log |det ∂y/∂x| per example, for a batch x [N, …, C]: every position shares the channel's scale. */
  forward(x: tf.Tensor): { y: tf.Tensor; logDet: tf.Tensor1D } {
    return tf.tidy(() => {
      const positions = x.size / x.shape[0] / x.shape[x.rank - 1];
      const logDet = this.logScale.read().sum().mul(positions);
      // A product with ones, not broadcastTo: tfjs's gradient of broadcastTo (a Tile) is one slice and one add per
      // example, 2 × N kernels where this one is a single sum.
      return { y: this.call(x), logDet: tf.ones([x.shape[0]]).mul(logDet) as tf.Tensor1D };
    });
  }

  /** Whether b and log s are still the zeros `build` gave them: the identity, never set from data or trained. */
  isIdentity(): boolean {
    return [this.bias, this.logScale].every((v) =>
      v
        .read()
        .dataSync()
        .every((x) => x === 0),
    );
  }

  /** x = y ⊙ exp(−log s) − b. */
  inverse(y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => y.mul(tf.exp(this.logScale.read().neg())).sub(this.bias.read()));
  }

  /**
   * Data-dependent initialisation: b and log s such that this batch's output has mean 0 and variance 1 in each
   * channel (over the batch and every position). A channel that does not vary keeps scale 1.
   */
  initializeFrom(x: tf.Tensor): void {
    tf.tidy(() => {
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      const { mean, variance } = tf.moments(x, axes);
      const std = variance.sqrt();
      const logScale = tf.where(std.greater(1e-6), std.log().neg(), tf.zerosLike(std));
      this.bias.write(mean.neg());
      this.logScale.write(logScale);
    });
  }
}

tf.serialization.registerClass(ActNorm);
