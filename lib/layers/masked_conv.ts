/**
 * Masked convolutions (van den Oord et al. 2016, "Pixel Recurrent Neural Networks").
 *
 * PixelCNN models p(x) = Π_i p(x_i | x_1, …, x_{i−1}) in raster order (row by row,
 * left to right). A convolution sees a k × k window centred on its output pixel; the
 * mask zeroes the kernel taps at and after the centre in raster order, so an output
 * depends only on pixels that come before it:
 *
 *   mask[r][c] = 1  if r < k/2, or r = k/2 and c < k/2      (rows above; left in the same row)
 *   mask A: the centre tap is 0 — the first layer, which must not see x_i itself;
 *   mask B: the centre tap is 1 — later layers, whose centre feature already
 *           summarises only the pixels before i.
 *
 * (One colour channel, as for MNIST, so the mask is the same for every in/out channel pair.)
 */
import * as tf from '@tensorflow/tfjs';
import { answerKey } from '../answer_keys';
import { GenlabError } from '../errors';
import { nextSeed } from '../random';

export type MaskType = 'A' | 'B';

/** The mask for a k × k kernel as a [k, k, inChannels, outChannels] tensor of 0s and 1s. */
export const createMask = answerKey(
  'createMask',
  function createMask(kernelSize: number, inChannels: number, outChannels: number, type: MaskType): tf.Tensor4D {
    if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) {
      throw new GenlabError(
        `createMask: kernelSize must be an odd whole number (the mask is centred on a pixel), got ${kernelSize}.`,
      );
    }
    if (type !== 'A' && type !== 'B')
      throw new GenlabError(`createMask: type must be 'A' (first layer) or 'B' (later layers), got '${type}'.`);
    const c = (kernelSize - 1) / 2;
    const values = new Float32Array(kernelSize * kernelSize * inChannels * outChannels);
    for (let r = 0; r < kernelSize; r++) {
      for (let col = 0; col < kernelSize; col++) {
        const visible = r < c || (r === c && (col < c || (col === c && type === 'B')));
        if (!visible) continue;
        const base = (r * kernelSize + col) * inChannels * outChannels;
        values.fill(1, base, base + inChannels * outChannels);
      }
    }
    return tf.tensor4d(values, [kernelSize, kernelSize, inChannels, outChannels]);
  },
);

/**
 * The masked convolution y = conv(x, W ⊙ M) + b ('same' padding, stride 1), computed
 * with the mask's top (k + 1)/2 rows `visibleMask` only (every row below is zero): the
 * kernel's top rows, padding c = (k − 1)/2 rows above the image and none below.
 * `activation` (the layer's) is fused into the same kernel call, with the bias: one pass
 * over the output instead of three. (Lab 4 asks students to write this convolution, without
 * the activation, as `maskedConv`.)
 */
const visibleRowsConv = answerKey(
  'maskedConv',
  function visibleRowsConv(
    x: tf.Tensor4D,
    kernel: tf.Tensor4D,
    visibleMask: tf.Tensor4D,
    bias?: tf.Tensor1D,
    activation: 'relu' | 'linear' = 'linear',
  ): tf.Tensor4D {
    const c = (kernel.shape[0] - 1) / 2;
    const [rows, cols, inChannels, filters] = visibleMask.shape;
    const visibleKernel = kernel.slice([0, 0, 0, 0], [rows, cols, inChannels, filters]).mul(visibleMask) as tf.Tensor4D;
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [c, 0],
      [c, c],
      [0, 0],
    ];
    return tf.fused.conv2d({ x, filter: visibleKernel, strides: 1, pad, bias, activation });
  },
);

export interface MaskedConv2DArgs {
  filters: number;
  kernelSize: number;
  maskType: MaskType;
  activation?: 'relu' | 'linear';
  useBias?: boolean;
  /** Seed of the Glorot-uniform kernel initialiser. */
  seed?: number;
  name?: string;
  inputShape?: number[];
}

/**
 * A 'same'-padded, stride-1 convolution whose kernel is multiplied by the mask on
 * every call — so no amount of training can un-mask it (the masked taps get zero
 * gradient and are never used, whatever values they hold). Serializable: a saved
 * model records filters, kernel size and mask type, and rebuilds the mask on load.
 *
 * The rows below the centre are all masked, so the layer convolves with the top
 * (k + 1)/2 rows only, padding c = (k − 1)/2 rows above and none below: the same
 * output ('same' padding would only add zero products), with 6/9 of a 3×3 kernel's
 * work and 28/49 of a 7×7's — in the forward pass and in both gradients.
 */
export class MaskedConv2D extends tf.layers.Layer {
  static className = 'MaskedConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly maskType: MaskType;
  readonly activation: 'relu' | 'linear';
  readonly useBias: boolean;
  private readonly seed: number;
  private kernel!: tf.LayerVariable;
  private bias?: tf.LayerVariable;
  private mask?: tf.Tensor4D;
  /** The mask's top (k + 1)/2 rows: every row below is zero. */
  private visibleMask?: tf.Tensor4D;

  constructor(args: MaskedConv2DArgs) {
    super(args);
    if (!Number.isInteger(args.filters) || args.filters < 1)
      throw new GenlabError(`MaskedConv2D: filters must be a whole number ≥ 1, got ${args.filters}.`);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    // tfjs's config (de)serialisation camel-cases string values ('A' comes back as 'a').
    this.maskType = String(args.maskType).toUpperCase() as MaskType;
    this.activation = args.activation ?? 'linear';
    this.useBias = args.useBias ?? true;
    this.seed = args.seed ?? nextSeed();
    createMask(this.kernelSize, 1, 1, this.maskType).dispose(); // validates kernelSize and maskType now
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inChannels = shape[shape.length - 1] as number;
    const k = this.kernelSize;
    this.kernel = this.addWeight(
      'kernel',
      [k, k, inChannels, this.filters],
      'float32',
      tf.initializers.glorotUniform({ seed: this.seed }),
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
    this.mask = tf.keep(createMask(k, inChannels, this.filters, this.maskType));
    this.visibleMask = tf.keep(this.mask.slice([0, 0, 0, 0], [(k + 1) / 2, k, inChannels, this.filters]));
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return [...inputShape.slice(0, -1), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      return visibleRowsConv(
        x,
        this.kernel.read() as tf.Tensor4D,
        this.visibleMask!,
        this.bias?.read() as tf.Tensor1D | undefined,
        this.activation,
      );
    });
  }

  /** The kernel as the convolution uses it (masked). */
  maskedKernel(): tf.Tensor4D {
    return tf.tidy(() => this.kernel.read().mul(this.mask!) as tf.Tensor4D);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      maskType: this.maskType,
      activation: this.activation,
      useBias: this.useBias,
      seed: this.seed,
    };
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    this.mask?.dispose();
    this.visibleMask?.dispose();
    return super.dispose();
  }
}

tf.serialization.registerClass(MaskedConv2D);

/** `maskedConv2d({ filters, kernelSize, maskType })`: the layer, in tf.layers' factory style. */
export function maskedConv2d(args: MaskedConv2DArgs): MaskedConv2D {
  return new MaskedConv2D(args);
}
