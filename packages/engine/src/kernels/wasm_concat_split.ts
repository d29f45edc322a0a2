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

/** A tensor as [rows, width]: the axes before `axis` make the rows, `axis` and those after it a row. */
function rowsAndWidth(shape: number[], axis: number): [number, number] {
  return [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis))];
}

function concat(args: KernelArgs): TensorInfo {
  const inputs = args.inputs as unknown as TensorInfo[];
  const stock = () => stockWasmKernel('Concat')!.kernelFunc(args as never) as TensorInfo;
  if (inputs[0].dtype === 'string' || inputs[0].dtype === 'complex64') return stock();
  const axis = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, inputs[0].shape)[0];
  const shapes = inputs.map((t) => t.shape);
  tf.backend_util.assertParamsConsistent(shapes, axis);
  const parts = inputs.filter((t) => sizeOf(t.shape) > 0);
  // One non-empty input (or none) is the stock kernel's identity: it shares the buffer rather than copying.
  if (parts.length <= 1) return stock();
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(tf.backend_util.computeOutShape(shapes, axis), inputs[0].dtype);
  const [rows, outWidth] = rowsAndWidth(out.shape, axis);
  const to = heapView(backend, out);
  let column = 0;
  for (const part of parts) {
    const width = rowsAndWidth(part.shape, axis)[1];
    const from = heapView(backend, part);
    for (let r = 0; r < rows; r++) copyRun(from, r * width, to, r * outWidth + column, width);
    column += width;
  }
  return out;
}

function splitV(args: KernelArgs): TensorInfo[] {
  const { x } = args.inputs as { x: TensorInfo };
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const stock = () => stockWasmKernel('SplitV')!.kernelFunc(args as never) as unknown as TensorInfo[];
  if (x.dtype === 'string' || x.dtype === 'complex64') return stock();
  const backend = args.backend as WasmBackend;
  const a = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, a);
  const outs = sizes.map((s) =>
    backend.makeOutput(
      x.shape.map((d, i) => (i === a ? s : d)),
      x.dtype,
    ),
  );
  // Views only after the last makeOutput: an allocation may grow the heap and detach them.
  const [rows, width] = rowsAndWidth(x.shape, a);
  const from = heapView(backend, x);
  let column = 0;
  for (const out of outs) {
    const outWidth = rowsAndWidth(out.shape, a)[1];
    if (outWidth > 0) {
      const to = heapView(backend, out);
      for (let r = 0; r < rows; r++) copyRun(from, r * width + column, to, r * outWidth, outWidth);
    }
    column += outWidth;
  }
  return outs;
}

/** Replaces wasm's Concat and SplitV (once). */
export function registerWasmConcatSplit(): void {
  replaceWasmKernel('Concat', concat as never);
  replaceWasmKernel('SplitV', splitV as never);
}
