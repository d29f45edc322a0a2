/**
 * A faster `Slice` for the wasm backend.
 *
 * wasm 4.22 slices in JavaScript: it copies the whole input out of the heap, then
 * copies each innermost run with `subarray` + `set`, one call per run. Cropping
 * [64, 30, 30, 1] to [64, 28, 28, 1] (the edge of an up-convolution's output) is
 * then 50,000 runs of one number: 5 ms, where a copy of the result takes 0.05 ms;
 * a DCGAN step crops ten times. Here the input is read in place, axes the slice
 * takes whole are merged into longer runs, and short runs are copied number by
 * number instead of through a new view each.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelArgs, replaceWasmKernel, stockWasmKernel, TensorInfo, WasmBackend } from './wasm_compose';
import { copyRun, HeapArray, heapView } from './wasm_heap';

/**
 * The slice as the fewest axes: an axis merges into the one before it when the
 * slice takes it whole (then both advance through memory together).
 */
export function mergeAxes(
  shape: number[],
  begin: number[],
  size: number[],
): { shape: number[]; begin: number[]; size: number[] } {
  const merged = { shape: [shape[0]], begin: [begin[0]], size: [size[0]] };
  for (let axis = 1; axis < shape.length; axis++) {
    const last = merged.shape.length - 1;
    if (size[axis] === shape[axis]) {
      merged.shape[last] *= shape[axis];
      merged.begin[last] *= shape[axis];
      merged.size[last] *= shape[axis];
    } else {
      merged.shape.push(shape[axis]);
      merged.begin.push(begin[axis]);
      merged.size.push(size[axis]);
    }
  }
  return merged;
}

/** Copies the slice of `from` (row-major `shape`) into `to`, run by run along the last axis. */
function copySlice(from: HeapArray, to: HeapArray, shape: number[], begin: number[], size: number[]): void {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let a = rank - 2; a >= 0; a--) strides[a] = strides[a + 1] * shape[a + 1];
  const run = size[rank - 1];
  const runs = size.slice(0, -1).reduce((p, d) => p * d, 1);
  const index = new Array<number>(rank - 1).fill(0); // position among the runs, outer axes only
  let out = 0;
  for (let r = 0; r < runs; r++) {
    let start = begin[rank - 1];
    for (let a = 0; a < rank - 1; a++) start += (begin[a] + index[a]) * strides[a];
    copyRun(from, start, to, out, run);
    out += run;
    for (let a = rank - 2; a >= 0 && ++index[a] === size[a]; a--) index[a] = 0;
  }
}

function slice(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  if (x.dtype === 'string' || x.dtype === 'complex64')
    return stockWasmKernel('Slice')!.kernelFunc(args as never) as TensorInfo;
  const backend = args.backend as WasmBackend;
  const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  const out = backend.makeOutput(size_, x.dtype);
  if (size_.some((d) => d === 0)) return out;
  const merged = x.shape.length === 0 ? { shape: [1], begin: [0], size: [1] } : mergeAxes(x.shape, begin_, size_);
  copySlice(heapView(backend, x), heapView(backend, out), merged.shape, merged.begin, merged.size);
  return out;
}

/** Replaces wasm's Slice (once). */
export function registerWasmSlice(): void {
  replaceWasmKernel('Slice', slice);
}
