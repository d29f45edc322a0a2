/**
 * A fast `Conv2DBackpropInput` for the wasm backend.
 *
 * This kernel is the input gradient of every convolution and the forward pass of
 * every transposed ("fractionally-strided") convolution. tfjs-backend-wasm 4.22's
 * own is a plain loop, about 12× a forward conv of the same size. It can be
 * written as a forward convolution, which runs in XNNPACK:
 *
 *   dx[i] = Σ_{o, k : o·s + k − top = i} dy[o] · W[k]
 *
 * Spread dy out with s − 1 zeros between entries (dilation), pad it by K − 1 − top
 * before (and what makes the output H long after), and correlate it with the
 * filter flipped in space and with its in/out channels swapped:
 *
 *   dx = conv2d(pad(dilate(dy, s)), flip(W)ᵀ, stride 1, 'valid')
 *
 * The dilation uses only reshapes and pads: [N, OH, OW, C] → [N·OH, OW, 1, C] →
 * pad the unit axis to s → [N, OH, 1, OW·s·C] → pad to s → [N, OH·s, OW·s, C]
 * (s − 1 trailing zeros too many on each axis, which the padding step crops).
 */
import * as tf from '@tensorflow/tfjs';
import { compose, ConvGradientAttrs, KernelArgs, KernelComposer, replaceWasmKernel, TensorInfo } from './wasm_compose';

interface Attrs extends ConvGradientAttrs {
  inputShape: [number, number, number, number];
}

/** dy [N, OH, OW, C] with s − 1 zeros after every entry along H and W: [N, OH·sH, OW·sW, C]. */
function spreadOut(k: KernelComposer, dy: TensorInfo, sH: number, sW: number): TensorInfo {
  if (sH === 1 && sW === 1) return dy;
  const [n, oh, ow, c] = dy.shape;
  let t = k.reshape(dy, [n * oh, ow, 1, c]);
  t = k.padOrCrop(t, [[0, 0], [0, 0], [0, sW - 1], [0, 0]]);
  t = k.reshape(t, [n, oh, 1, ow * sW * c]);
  t = k.padOrCrop(t, [[0, 0], [0, 0], [0, sH - 1], [0, 0]]);
  return k.reshape(t, [n, oh * sH, ow * sW, c]);
}

function conv2DBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as Attrs;
  if (a.dataFormat === 'NCHW') throw new Error('Conv2DBackpropInput on wasm supports only NHWC data (the layout tfjs layers use).');
  const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode);
  const { strideHeight: sH, strideWidth: sW, filterHeight: kH, filterWidth: kW, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  return compose(backend, (k) => {
    const spread = spreadOut(k, dy, sH, sW); // [N, oh·sH, ow·sW, C]
    // Pads relative to the exact dilation ((o − 1)·s + 1 long), minus the s − 1 extra zeros.
    const top = kH - 1 - info.padInfo.top;
    const left = kW - 1 - info.padInfo.left;
    const bottom = h + kH - 1 - ((oh - 1) * sH + 1) - top - (sH - 1);
    const right = w + kW - 1 - ((ow - 1) * sW + 1) - left - (sW - 1);
    const padded = k.padOrCrop(spread, [[0, 0], [top, bottom], [left, right], [0, 0]]);
    const flipped = k.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = k.transpose(flipped, [0, 1, 3, 2]); // [kH, kW, outC, inC]
    return k.run('Conv2D', { x: padded, filter: swapped }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
  });
}

/** Replaces wasm's Conv2DBackpropInput with the forward-conv formulation (once). */
export function registerWasmConv2DBackpropInput(): void {
  replaceWasmKernel('Conv2DBackpropInput', conv2DBackpropInput);
}
