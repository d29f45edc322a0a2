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
 *
 * With stride s > 1 most of that spread-out input is zeros, and the conv multiplies
 * them all: s² times the work (a 4×4 stride-2 up-conv cost 4×). So strided cases
 * (equal strides) split the output by phase instead ("sub-pixel" convolution).
 * Output row i, with u = i + top = q·s + r, only meets taps k ≡ r (mod s):
 *
 *   dx[q·s + r − top] = Σ_m dy[q − m] · W[r + s·m],   m = 0 … ⌈K/s⌉ − 1
 *
 * For each phase r that is a small stride-1 conv of dy itself; all s² phases
 * together are one conv whose output channels are (phase, channel); a reshape and
 * a transpose interleave them into the full-resolution image, which is cropped to
 * [top, top + H). No multiply touches an inserted zero.
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
  t = k.padOrCrop(t, [
    [0, 0],
    [0, 0],
    [0, sW - 1],
    [0, 0],
  ]);
  t = k.reshape(t, [n, oh, 1, ow * sW * c]);
  t = k.padOrCrop(t, [
    [0, 0],
    [0, 0],
    [0, sH - 1],
    [0, 0],
  ]);
  return k.reshape(t, [n, oh * sH, ow * sW, c]);
}

/**
 * The phase-split filter for stride s: F[jh, jw, co, (rh·s + rw)·inC + ci] =
 * W[rh + s·(M − 1 − jh), rw + s·(M − 1 − jw), ci, co], zero past the kernel's edge.
 */
function phaseFilter(
  w: Float32Array,
  [kH, kW, inC, outC]: number[],
  s: number,
): { values: Float32Array; shape: number[] } {
  const mH = Math.ceil(kH / s);
  const mW = Math.ceil(kW / s);
  const depth = s * s * inC;
  const values = new Float32Array(mH * mW * outC * depth);
  for (let jh = 0; jh < mH; jh++) {
    for (let rh = 0; rh < s; rh++) {
      const kh = rh + s * (mH - 1 - jh);
      if (kh >= kH) continue;
      for (let jw = 0; jw < mW; jw++) {
        for (let rw = 0; rw < s; rw++) {
          const kw = rw + s * (mW - 1 - jw);
          if (kw >= kW) continue;
          for (let ci = 0; ci < inC; ci++) {
            const from = ((kh * kW + kw) * inC + ci) * outC;
            const to = (jh * mW + jw) * outC * depth + (rh * s + rw) * inC + ci;
            for (let co = 0; co < outC; co++) values[to + co * depth] = w[from + co];
          }
        }
      }
    }
  }
  return { values, shape: [mH, mW, outC, depth] };
}

/** Equal strides s > 1: one stride-1 conv over dy with s² phases as channels, then interleaved. */
function subPixel(k: KernelComposer, dy: TensorInfo, filter: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { strideHeight: s, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const f = phaseFilter(k.read(filter), filter.shape, s);
  const [mH, mW] = f.shape;
  const qH = Math.ceil((top + h) / s);
  const qW = Math.ceil((left + w) / s);
  const padded = k.padOrCrop(dy, [
    [0, 0],
    [mH - 1, qH - oh],
    [mW - 1, qW - ow],
    [0, 0],
  ]);
  const phases = k.run(
    'Conv2D',
    { x: padded, filter: k.constant(f.values, f.shape) },
    { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] },
  );
  // Interleave the phases: [N, qH, qW, (rh, rw, c)] → [N, qH·s + rh, qW·s + rw, c]. This is
  // DepthToSpace, but wasm's is a slow element loop (68 ms here vs 2 ms for the transpose).
  const n = dy.shape[0];
  const inC = filter.shape[2];
  const rows = k.reshape(phases, [n * qH, qW, s, s * inC]);
  const full = k.reshape(k.transpose(rows, [0, 2, 1, 3]), [n, qH * s, qW * s, inC]);
  return k.padOrCrop(full, [
    [0, 0],
    [-top, h + top - qH * s],
    [-left, w + left - qW * s],
    [0, 0],
  ]);
}

function conv2DBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as Attrs;
  if (a.dataFormat === 'NCHW')
    throw new Error('Conv2DBackpropInput on wasm supports only NHWC data (the layout tfjs layers use).');
  const info = tf.backend_util.computeConv2DInfo(
    a.inputShape,
    filter.shape as [number, number, number, number],
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const {
    strideHeight: sH,
    strideWidth: sW,
    filterHeight: kH,
    filterWidth: kW,
    inHeight: h,
    inWidth: w,
    outHeight: oh,
    outWidth: ow,
  } = info;
  if (sH === sW && sH > 1 && dy.dtype === 'float32') return compose(backend, (k) => subPixel(k, dy, filter, info));
  return compose(backend, (k) => {
    const spread = spreadOut(k, dy, sH, sW); // [N, oh·sH, ow·sW, C]
    // Pads relative to the exact dilation ((o − 1)·s + 1 long), minus the s − 1 extra zeros.
    const top = kH - 1 - info.padInfo.top;
    const left = kW - 1 - info.padInfo.left;
    const bottom = h + kH - 1 - ((oh - 1) * sH + 1) - top - (sH - 1);
    const right = w + kW - 1 - ((ow - 1) * sW + 1) - left - (sW - 1);
    const padded = k.padOrCrop(spread, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
    const flipped = k.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = k.transpose(flipped, [0, 1, 3, 2]); // [kH, kW, outC, inC]
    return k.run(
      'Conv2D',
      { x: padded, filter: swapped },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] },
    );
  });
}

/** Replaces wasm's Conv2DBackpropInput with the forward-conv formulation (once). */
export function registerWasmConv2DBackpropInput(): void {
  replaceWasmKernel('Conv2DBackpropInput', conv2DBackpropInput);
}
