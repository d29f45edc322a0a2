/**
 * The wasm backend's kernels that the addon runs: convolutions and their gradients, matrix products, elementwise
 * arithmetic, reductions and batch normalization. Each stands in front of the wasm kernel it replaces and falls
 * back on it for a call it cannot take (another dtype, NCHW, prelu, a broadcast it does not do, a shape oneDNN
 * refuses).
 *
 * (The kernels that only move numbers, concat, split and the tiling pools and upsamplings, are in copies.ts; the
 * convolutions with a thin side run the addon's own loops, which native/src/genlab_native.cc chooses by shape.)
 *
 * Only results that are as exact as the wasm kernels' run here: the convolutions and products sum in another order
 * (as XNNPACK's do; the 3 × 3 convolutions of training batches by Winograd's algorithm, which rounds about 4× as
 * far from the exact sum as the direct kernels, still 1e-6 of the values: native/src/genlab_native.cc says where it
 * runs, and GENLAB_WINOGRAD=0 turns it off); the elementwise ops are the correctly rounded ones (oneDNN's exp, log, tanh, logistic and
 * soft_relu are polynomial approximations, off by up to 1e-5 of the value, which a lab's check, comparing a
 * student's function with values worked out to 1e-6, could fail: those stay on the wasm kernels).
 */
import * as tf from '@tensorflow/tfjs';
import { KernelArgs, TensorInfo } from '../kernels/wasm_compose';
import { Backend, countNativeCall, floatBits, nativeEnabled, NativeCall, OP } from './addon';
import { COPY_KERNELS } from './copies';

/** The activations fused into convolutions and products: the exact ones (elu and sigmoid stay unfused, tfjs's). */
const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3 };
/** The binary ops, by the addon's numbers. */
const BINARY: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5 };
const COMMUTATIVE = new Set(['Add', 'Multiply', 'Maximum', 'Minimum']);
/** The unary ops, by the addon's numbers, with their α (leaky ReLU's slope, step's value below 0). */
const UNARY: Record<string, (attrs: tf.NamedAttrMap) => [number, number]> = {
  Relu: () => [0, 0],
  LeakyRelu: (a) => [1, a.alpha as number],
  Relu6: () => [2, 0],
  Square: () => [3, 0],
  Abs: () => [4, 0],
  Neg: () => [5, 0],
  Sqrt: () => [6, 0],
  Step: (a) => [7, (a.alpha as number | undefined) ?? 0],
};
const REDUCTIONS: Record<string, number> = { Sum: 0, Mean: 1, Max: 2, Min: 3, Prod: 4 };
/** Binary ops here take up to this many dimensions. */
const MAX_RANK = 6;

const conv = new NativeCall(OP.conv2d, 21, 4);
const convBackpropInput = new NativeCall(OP.conv2dBackpropInput, 21, 4);
const convBackpropFilter = new NativeCall(OP.conv2dBackpropFilter, 21, 4);
const matMulCall = new NativeCall(OP.matMul, 11, 4);
const binaryCall = new NativeCall(OP.binary, 3 + 2 * MAX_RANK, 3);
const unaryCall = new NativeCall(OP.unary, 4, 2);
const reduceCall = new NativeCall(OP.reduce, 5, 2);
const batchNormCall = new NativeCall(OP.batchNorm, 6, 6);

export const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
export const isFloat = (...ts: (TensorInfo | undefined)[]) => ts.every((t) => !t || t.dtype === 'float32');

/** A new float32 output of `shape`, filled by `fill`; undefined (the output freed) when `fill` could not. */
export function output(backend: Backend, shape: number[], fill: (out: TensorInfo) => boolean): TensorInfo | undefined {
  const out = backend.makeOutput(shape, 'float32');
  if (shape.some((d) => d === 0)) return out;
  if (fill(out)) return out;
  backend.disposeData(out.dataId);
  return undefined;
}

export interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  leakyreluAlpha?: number;
  inputShape?: number[];
  filterShape?: number[];
}

function convInfo(xShape: number[], filterShape: number[], a: ConvAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    false,
    a.dataFormat === 'NCHW' ? 'channelsFirst' : 'channelsLast',
  );
}

/** Describes a convolution call (channels last only); undefined if the native path cannot take it. */
function describeConv(
  call: NativeCall,
  info: tf.backend_util.Conv2DInfo,
  hasBias: boolean,
  activation: string,
  alpha: number,
): NativeCall | undefined {
  const act = ACTIVATIONS[activation];
  if (act === undefined || info.dataFormat !== 'channelsLast') return undefined;
  const p = info.padInfo;
  return call.describe([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    p.top,
    p.left,
    p.bottom,
    p.right,
    hasBias ? 1 : 0,
    act,
    floatBits(alpha),
  ]);
}

/** A bias the fused kernels can add natively: one value per output channel. */
function isChannelBias(bias: TensorInfo | undefined, channels: number): boolean {
  if (!bias) return true;
  return sizeOf(bias.shape) === channels && bias.shape[bias.shape.length - 1] === channels;
}

/** C = act(op(A) · op(B) + bias) over broadcast batches, natively when the batches are equal or one is 1. */
function matMul(
  { inputs, attrs }: KernelArgs,
  backend: Backend,
  bias: TensorInfo | undefined,
  activation: string,
  alpha: number,
): TensorInfo | undefined {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const act = ACTIVATIONS[activation];
  if (act === undefined || !isFloat(a, b, bias) || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const [m, k] = transposeA ? [ca, ra] : [ra, ca];
  const [k2, n] = transposeB ? [cb, rb] : [rb, cb];
  if (k !== k2 || !isChannelBias(bias, n)) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const [batchA, batchB] = [sizeOf(outerA), sizeOf(outerB)];
  if (!(tf.util.arraysEqual(outerA, outerB) || batchA === 1 || batchB === 1)) return undefined;
  const outer = batchA === 1 ? outerB : outerA;
  matMulCall.describe([batchA, batchB, m, n, k, +transposeA, +transposeB, bias ? 1 : 0, act, floatBits(alpha)]);
  return output(backend, [...outer, m, n], (c) => matMulCall.run(backend, [a, b, bias, c]));
}

/** `shape` with 1s in front up to MAX_RANK. */
function padded(shape: number[]): number[] {
  return [...new Array(MAX_RANK - shape.length).fill(1), ...shape];
}

/** C = A ∘ B with broadcasting: natively when B broadcasts to C's shape (A and B swap for a commutative op). */
function binary(name: string, { inputs }: KernelArgs, backend: Backend): TensorInfo | undefined {
  let { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  if (!isFloat(a, b) || a.shape.length > MAX_RANK || b.shape.length > MAX_RANK) return undefined;
  const out = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  if (!tf.util.arraysEqual(a.shape, out)) {
    if (!COMMUTATIVE.has(name) || !tf.util.arraysEqual(b.shape, out)) return undefined;
    [a, b] = [b, a];
  }
  binaryCall.describe([BINARY[name], MAX_RANK, ...padded(out), ...padded(b.shape)]);
  return output(backend, out, (c) => binaryCall.run(backend, [a, b, c]));
}

/** Sum, Mean, Max, Min or Prod over `axis`: natively when the axes are contiguous, x seen as [A, R, B] → [A, B]. */
function reduce(name: string, { inputs, attrs }: KernelArgs, backend: Backend): TensorInfo | undefined {
  const { x } = inputs as { x: TensorInfo };
  // Sum, Mean and Prod name the axes `axis`; Max and Min, `reductionIndices`.
  const a = attrs as unknown as { axis?: number | number[]; reductionIndices?: number | number[]; keepDims: boolean };
  if (!isFloat(x) || sizeOf(x.shape) === 0) return undefined;
  const axis = a.axis ?? a.reductionIndices ?? x.shape.map((_, i) => i);
  const axes = [...tf.util.parseAxisParam(axis, x.shape)].sort((p, q) => p - q);
  if (axes.length === 0 || axes.some((d, i) => i > 0 && d !== axes[i - 1] + 1)) return undefined;
  const [first, last] = [axes[0], axes[axes.length - 1]];
  reduceCall.describe([
    REDUCTIONS[name],
    sizeOf(x.shape.slice(0, first)),
    sizeOf(x.shape.slice(first, last + 1)),
    sizeOf(x.shape.slice(last + 1)),
  ]);
  const shape = a.keepDims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
  return output(backend, shape, (y) => reduceCall.run(backend, [x, y]));
}

type NativeKernel = (args: KernelArgs, backend: Backend) => TensorInfo | TensorInfo[] | undefined;

const KERNELS: Record<string, NativeKernel> = {
  ...COPY_KERNELS,
  Conv2D: ({ inputs, attrs }, backend) => {
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    if (!isFloat(x, filter)) return undefined;
    const info = convInfo(x.shape, filter.shape, attrs as unknown as ConvAttrs);
    const call = describeConv(conv, info, false, 'linear', 0);
    return call && output(backend, info.outShape, (y) => call.run(backend, [x, filter, undefined, y]));
  },
  FusedConv2D: ({ inputs, attrs }, backend) => {
    const { x, filter, bias, preluActivationWeights } = inputs as Record<string, TensorInfo | undefined>;
    const a = attrs as unknown as ConvAttrs;
    if (preluActivationWeights || !isFloat(x, filter, bias)) return undefined;
    const info = convInfo(x!.shape, filter!.shape, a);
    if (!isChannelBias(bias, info.outChannels)) return undefined;
    const call = describeConv(conv, info, !!bias, a.activation ?? 'linear', a.leakyreluAlpha ?? 0.2);
    return call && output(backend, info.outShape, (y) => call.run(backend, [x, filter, bias, y]));
  },
  Conv2DBackpropInput: ({ inputs, attrs }, backend) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as ConvAttrs;
    if (!isFloat(dy, filter)) return undefined;
    const call = describeConv(convBackpropInput, convInfo(a.inputShape!, filter.shape, a), false, 'linear', 0);
    return call && output(backend, a.inputShape!, (dx) => call.run(backend, [dy, filter, dx]));
  },
  Conv2DBackpropFilter: ({ inputs, attrs }, backend) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as ConvAttrs;
    if (!isFloat(x, dy)) return undefined;
    const call = describeConv(convBackpropFilter, convInfo(x.shape, a.filterShape!, a), false, 'linear', 0);
    return call && output(backend, a.filterShape!, (dw) => call.run(backend, [x, dy, dw]));
  },
  BatchMatMul: (args, backend) => matMul(args, backend, undefined, 'linear', 0),
  _FusedMatMul: (args, backend) => {
    const { bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const a = args.attrs as unknown as ConvAttrs;
    if (preluActivationWeights) return undefined;
    return matMul(args, backend, bias, a.activation ?? 'linear', a.leakyreluAlpha ?? 0.2);
  },
  ...Object.fromEntries(
    Object.keys(BINARY).map((name) => [name, (args: KernelArgs, backend: Backend) => binary(name, args, backend)]),
  ),
  ...Object.fromEntries(
    Object.entries(UNARY).map(([name, form]) => [
      name,
      ({ inputs, attrs }: KernelArgs, backend: Backend) => {
        const { x } = inputs as { x: TensorInfo };
        if (!isFloat(x)) return undefined;
        const [kind, alpha] = form(attrs ?? {});
        unaryCall.describe([kind, sizeOf(x.shape), floatBits(alpha)]);
        return output(backend, x.shape, (y) => unaryCall.run(backend, [x, y]));
      },
    ]),
  ),
  ...Object.fromEntries(
    Object.keys(REDUCTIONS).map((name) => [name, (args: KernelArgs, backend: Backend) => reduce(name, args, backend)]),
  ),
  // y = (x − μ) · γ / √(σ² + ε) + β per channel, the statistics given (batch norm's inference form, and its last
  // step in training).
  FusedBatchNorm: ({ inputs, attrs }, backend) => {
    const { x, mean, variance, offset, scale } = inputs as Record<string, TensorInfo | undefined>;
    if (!x || !mean || !variance || !isFloat(x, mean, variance, offset, scale) || x.shape.length < 1) return undefined;
    const channels = x.shape[x.shape.length - 1];
    if (![mean, variance, offset, scale].every((t) => isChannelBias(t, channels))) return undefined;
    const epsilon = (attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
    batchNormCall.describe([sizeOf(x.shape) / channels, channels, floatBits(epsilon), offset ? 1 : 0, scale ? 1 : 0]);
    // An absent offset or scale is passed as the mean, which the addon then does not read.
    return output(backend, x.shape, (y) =>
      batchNormCall.run(backend, [x, mean, variance, offset ?? mean, scale ?? mean, y]),
    );
  },
};

/** Puts each native kernel in front of the wasm kernel of its name, which it falls back on. */
export function registerNativeKernels(): void {
  for (const [name, kernel] of Object.entries(KERNELS)) {
    const config = tf.getKernel(name, 'wasm');
    if (!config) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      ...config,
      kernelFunc: ((args: KernelArgs) => {
        const out = nativeEnabled() ? kernel(args, args.backend as Backend) : undefined;
        if (!out) return config.kernelFunc(args as never);
        countNativeCall(name);
        return out;
      }) as tf.KernelFunc,
    });
  }
}

/** Which oneDNN implementation a convolution call would run (for the tests and `npm run bench:kernels`). */
export function explainNativeConv(
  kind: 'forward' | 'backprop-input' | 'backprop-filter',
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): string {
  const call = { forward: conv, 'backprop-input': convBackpropInput, 'backprop-filter': convBackpropFilter }[kind];
  return describeConv(call, convInfo(xShape, filterShape, attrs), false, 'linear', 0)?.explain() ?? 'not a native call';
}
