/**
 * The kernels that only move numbers, natively: `Concat` and `SplitV` (a U-Net's skip joins and their gradients, a
 * channel coupling's halves) as row copies, and average pools and nearest-neighbour upsamplings whose windows tile
 * the image (a U-Net's way down and up), and their gradients, as block loops. The engine's wasm kernels for Concat,
 * SplitV and the two gradients (src/kernels/wasm_concat_split.ts, wasm_block_grads.ts) do the same in JavaScript, one
 * thread, three to ten times slower, and XNNPACK's pool and tfjs's resize run on wasm; they remain the fallback.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelArgs, TensorInfo } from '../kernels/wasm_compose';
import { tilingWindows, wholeNumberUpsampling } from '../kernels/wasm_block_grads';
import { concatLayout, splitLayout } from '../kernels/wasm_concat_split';
import { Backend, floatBits, NativeCall, OP } from './addon';

const copyRowsCall = new NativeCall(OP.copyRows, 7, 2);
const blockSpreadCall = new NativeCall(OP.blockSpread, 10, 2);
const blockSumCall = new NativeCall(OP.blockSum, 10, 2);

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** 32-bit values the addon can copy as bits (bool is one byte each). */
const copyable = (t: TensorInfo) => t.dtype === 'float32' || t.dtype === 'int32';

/** Frees `outs` and says the native path could not finish (the caller then runs the wasm kernel). */
function abandon(backend: Backend, outs: TensorInfo[]): undefined {
  for (const t of outs) backend.disposeData(t.dataId);
  return undefined;
}

function concat({ inputs, attrs }: KernelArgs, backend: Backend): TensorInfo | undefined {
  const all = inputs as unknown as TensorInfo[];
  const parts = all.filter((t) => sizeOf(t.shape) > 0);
  if (parts.length < 2 || !parts.every((t) => copyable(t) && t.dtype === parts[0].dtype)) return undefined;
  const joined = concatLayout(
    all.map((t) => t.shape),
    (attrs as { axis: number }).axis,
  );
  const out = backend.makeOutput(joined.shape, parts[0].dtype);
  for (const [k, { width, column }] of joined.parts.entries()) {
    if (width === 0) continue;
    copyRowsCall.describe([joined.rows, width, width, 0, joined.width, column]);
    if (!copyRowsCall.run(backend, [all[k], out])) return abandon(backend, [out]);
  }
  return out;
}

function splitV({ inputs, attrs }: KernelArgs, backend: Backend): TensorInfo[] | undefined {
  const { x } = inputs as { x: TensorInfo };
  const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  if (!copyable(x)) return undefined;
  const split = splitLayout(x, numOrSizeSplits, axis);
  const outs = split.parts.map((p) => backend.makeOutput(p.shape, x.dtype));
  for (const [k, { width, column }] of split.parts.entries()) {
    if (width === 0 || split.rows === 0) continue;
    copyRowsCall.describe([split.rows, width, split.width, column, width, 0]);
    if (!copyRowsCall.run(backend, [x, outs[k]])) return abandon(backend, outs);
  }
  return outs;
}

/** Runs a block call that writes a new float32 tensor of `shape` from `dy`. */
function block(call: NativeCall, values: number[], dy: TensorInfo, shape: number[], backend: Backend) {
  call.describe(values);
  const dx = backend.makeOutput(shape, 'float32');
  if (sizeOf(shape) === 0 || call.run(backend, [dy, dx])) return dx;
  return abandon(backend, [dx]);
}

function avgPoolGrad({ inputs, attrs }: KernelArgs, backend: Backend): TensorInfo | undefined {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const t = dy.dtype === 'float32' ? tilingWindows(input.shape, attrs as never) : undefined;
  if (!t) return undefined;
  const [n, h, w, c] = input.shape;
  return block(
    blockSpreadCall,
    [n, h, w, c, t.oh, t.ow, t.k, t.l, floatBits(1 / (t.k * t.l))],
    dy,
    input.shape,
    backend,
  );
}

function resizeNearestNeighborGrad({ inputs, attrs }: KernelArgs, backend: Backend): TensorInfo | undefined {
  const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
  const { alignCorners } = attrs as unknown as tf.ResizeNearestNeighborGradAttrs;
  const blocks = dy.dtype === 'float32' ? wholeNumberUpsampling(images.shape, dy.shape, alignCorners) : undefined;
  if (!blocks) return undefined;
  const [n, h, w, c] = images.shape;
  return block(
    blockSumCall,
    [n, blocks[0] * h, blocks[1] * w, c, h, w, ...blocks, floatBits(1)],
    dy,
    images.shape,
    backend,
  );
}

/** A tiling average pool: each output the mean of its k × l block. */
function avgPool({ inputs, attrs }: KernelArgs, backend: Backend): TensorInfo | undefined {
  const { x } = inputs as { x: TensorInfo };
  const t = x.dtype === 'float32' ? tilingWindows(x.shape, attrs as never) : undefined;
  // A valid pool over a size the windows do not divide drops the last rows or columns: the sum reads whole blocks.
  if (!t || t.oh * t.k !== x.shape[1] || t.ow * t.l !== x.shape[2]) return undefined;
  const [n, h, w, c] = x.shape;
  return block(
    blockSumCall,
    [n, h, w, c, t.oh, t.ow, t.k, t.l, floatBits(1 / (t.k * t.l))],
    x,
    [n, t.oh, t.ow, c],
    backend,
  );
}

/** A whole-number nearest-neighbour upsampling without align-corners: each pixel copied to its block. */
function resizeNearestNeighbor({ inputs, attrs }: KernelArgs, backend: Backend): TensorInfo | undefined {
  const { images } = inputs as { images: TensorInfo };
  const { alignCorners, size } = attrs as unknown as tf.ResizeNearestNeighborAttrs;
  const [n, h, w, c] = images.shape;
  const outShape = [n, size[0], size[1], c];
  const blocks = images.dtype === 'float32' ? wholeNumberUpsampling(images.shape, outShape, alignCorners) : undefined;
  if (!blocks) return undefined;
  return block(blockSpreadCall, [n, size[0], size[1], c, h, w, ...blocks, floatBits(1)], images, outShape, backend);
}

/** By kernel name, the native kernels that move numbers (undefined: the wasm kernel runs). */
export const COPY_KERNELS: Record<
  string,
  (args: KernelArgs, backend: Backend) => TensorInfo | TensorInfo[] | undefined
> = {
  Concat: concat,
  SplitV: splitV,
  AvgPool: avgPool,
  AvgPoolGrad: avgPoolGrad,
  ResizeNearestNeighbor: resizeNearestNeighbor,
  ResizeNearestNeighborGrad: resizeNearestNeighborGrad,
};
