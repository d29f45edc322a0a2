/**
 * Faster `Concat` and `SplitV` for the wasm backend.
 *
 * A U-Net joins its skip connections along the channel axis (a concat), and the gradient splits them apart again
 * (SplitV); a channel coupling splits and joins its halves. Along the last axis of [64, 28, 28, C] that is 50,000
 * rows of a few dozen numbers each. wasm 4.22's Concat makes a new view of every row of every input to `set` it
 * (10 ms for one U-Net join), and its SplitV calls its own Slice, which first copies the whole input out of the heap
 * (27 ms to split a [64, 28, 28, 96] gradient in two): a fifth of a diffusion training step. Here each input is read
 * in place, row by row, with the short rows copied number by number (copyRun).
 */
import * as tf from '@tensorflow/tfjs';
import { KernelArgs, replaceWasmKernel, stockWasmKernel, TensorInfo, WasmBackend } from './wasm_compose';
import { copyRun, heapView } from './wasm_heap';

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Where each part of a concat or a split lies in the joined tensor, both seen as [rows, width] (the axes before the
 * joining axis make the rows): part k's rows are `width` numbers long and start `column` numbers into the joined
 * tensor's rows. Empty parts have width 0. Shared by this file's JavaScript copies and the native ones (copies.ts).
 */
export interface RowLayout {
  shape: number[];
  rows: number;
  width: number;
  parts: { shape: number[]; width: number; column: number }[];
}

function layout(shape: number[], partShapes: number[][], axis: number): RowLayout {
  let column = 0;
  const parts = partShapes.map((s) => {
    const width = sizeOf(s.slice(axis));
    column += width;
    return { shape: s, width, column: column - width };
  });
  return { shape, rows: sizeOf(shape.slice(0, axis)), width: sizeOf(shape.slice(axis)), parts };
}

/** The layout of a concat of tensors of `shapes` along `axis` (checked as tfjs checks it). */
export function concatLayout(shapes: number[][], axis: number): RowLayout {
  const a = tf.util.parseAxisParam(axis, shapes[0])[0];
  tf.backend_util.assertParamsConsistent(shapes, a);
  return layout(tf.backend_util.computeOutShape(shapes, a), shapes, a);
}

/** The layout of a split of x into `numOrSizeSplits` along `axis`. */
export function splitLayout(x: TensorInfo, numOrSizeSplits: number | number[], axis: number): RowLayout {
  const a = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, a);
  return layout(
    x.shape,
    sizes.map((s) => x.shape.map((d, i) => (i === a ? s : d))),
    a,
  );
}

function concat(args: KernelArgs): TensorInfo {
  const inputs = args.inputs as unknown as TensorInfo[];
  const stock = () => stockWasmKernel('Concat')!.kernelFunc(args as never) as TensorInfo;
  if (inputs[0].dtype === 'string' || inputs[0].dtype === 'complex64') return stock();
  const joined = concatLayout(
    inputs.map((t) => t.shape),
    (args.attrs as { axis: number }).axis,
  );
  // One non-empty input (or none) is the stock kernel's identity: it shares the buffer rather than copying.
  if (joined.parts.filter((p) => p.width > 0).length <= 1) return stock();
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(joined.shape, inputs[0].dtype);
  const to = heapView(backend, out);
  joined.parts.forEach(({ width, column }, k) => {
    if (width === 0) return;
    const from = heapView(backend, inputs[k]);
    for (let r = 0; r < joined.rows; r++) copyRun(from, r * width, to, r * joined.width + column, width);
  });
  return out;
}

function splitV(args: KernelArgs): TensorInfo[] {
  const { x } = args.inputs as { x: TensorInfo };
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  if (x.dtype === 'string' || x.dtype === 'complex64')
    return stockWasmKernel('SplitV')!.kernelFunc(args as never) as unknown as TensorInfo[];
  const backend = args.backend as WasmBackend;
  const split = splitLayout(x, numOrSizeSplits, axis);
  const outs = split.parts.map((p) => backend.makeOutput(p.shape, x.dtype));
  // Views only after the last makeOutput: an allocation may grow the heap and detach them.
  const from = heapView(backend, x);
  split.parts.forEach(({ width, column }, k) => {
    if (width === 0) return;
    const to = heapView(backend, outs[k]);
    for (let r = 0; r < split.rows; r++) copyRun(from, r * split.width + column, to, r * width, width);
  });
  return outs;
}

/** Replaces wasm's Concat and SplitV (once). */
export function registerWasmConcatSplit(): void {
  replaceWasmKernel('Concat', concat as never);
  replaceWasmKernel('SplitV', splitV as never);
}
