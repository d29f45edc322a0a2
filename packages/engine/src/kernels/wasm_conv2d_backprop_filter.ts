/**
 * `Conv2DBackpropFilter` for the wasm backend.
 *
 * tfjs-backend-wasm 4.22 ships no kernel for the gradient of a convolution with
 * respect to its filter, so without this no conv layer can train on wasm.
 *
 * For a conv with stride s and padding (top, left), NHWC:
 *
 *   dW[kh, kw, ci, co] = Σ_{b, oh, ow} x[b, oh·s + kh − top, ow·s + kw − left, ci] · dy[b, oh, ow, co]
 *
 * Read with the batch b as the channel being contracted, this is itself a
 * convolution: the input transposed to [ci, H, W, b] as the "images" (padded as
 * the forward conv pads), dy transposed to [OH, OW, b, co] as the "filter",
 * stride 1 and dilation s (the filter taps sit s pixels apart). Its output is
 * [ci, KH', KW', co] with KH' ≥ KH (extra rows appear when 'same' padding or
 * strides leave input rows unused); cropping to KH × KW and transposing gives dW
 * as [KH, KW, ci, co]. Every step is a kernel wasm already has, so the heavy work
 * runs in XNNPACK.
 *
 * Memory passes saved on the way (about 20 ms of a 3×3×64 layer's gradient at
 * batch 64): the conv pads the images itself (no padded copy), and x is moved to
 * [ci, H, W, b] by a 2-D and a 3-D transpose, which wasm runs near copy speed,
 * where its 4-D [3, 1, 2, 0] transpose takes twice as long.
 */
import * as tf from '@tensorflow/tfjs';
import { compose, ConvGradientAttrs, KernelArgs, TensorInfo } from './wasm_compose';

interface Attrs extends ConvGradientAttrs {
  filterShape: [number, number, number, number];
}

function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as Attrs;
  if (a.dataFormat === 'NCHW')
    throw new Error('Conv2DBackpropFilter on wasm supports only NHWC data (the layout tfjs layers use).');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    a.filterShape,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  return compose(backend, (k) => {
    const { top, bottom, left, right } = info.padInfo;
    const [b, h, w, ci] = x.shape;
    const pixelsThenBatch = k.transpose(k.reshape(x, [b, h * w * ci]), [1, 0]); // [H·W·ci, b]
    const images = k.reshape(k.transpose(k.reshape(pixelsThenBatch, [h * w, ci, b]), [1, 0, 2]), [ci, h, w, b]);
    const taps = k.transpose(dy, [1, 2, 0, 3]); // [OH, OW, b, co]
    const pad = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    const full = k.run(
      'Conv2D',
      { x: images, filter: taps },
      { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth] },
    );
    const cropped = k.padOrCrop(full, [
      [0, 0],
      [0, info.filterHeight - full.shape[1]],
      [0, info.filterWidth - full.shape[2]],
      [0, 0],
    ]);
    return k.transpose(cropped, [1, 2, 0, 3]); // [KH, KW, ci, co]
  });
}

/** Registers the kernel for 'wasm' unless one is registered already (a future tfjs may ship one). */
export function registerWasmConv2DBackpropFilter(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: conv2DBackpropFilter as tf.KernelFunc,
  });
}
