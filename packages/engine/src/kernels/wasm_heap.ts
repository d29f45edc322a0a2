/**
 * Reading and writing tensors where they live, in the wasm heap.
 *
 * Kernels that only move numbers (Slice, Gather) are faster done in JavaScript on
 * views of the heap than by tfjs-backend-wasm's own kernels, which copy their input
 * out of the heap first or compute every output element's index one at a time.
 */
import { TensorInfo, WasmBackend } from './wasm_compose';

export type HeapArray = Float32Array | Int32Array | Uint8Array;

/**
 * A view of `t`'s values in the heap. Take views only after the last `makeOutput` of a
 * kernel: an allocation may grow the heap, which replaces its buffer and detaches them.
 */
export function heapView(backend: unknown, t: TensorInfo): HeapArray {
  return (backend as WasmBackend & { typedArrayFromHeap(t: TensorInfo): HeapArray }).typedArrayFromHeap(t);
}

/** Below this many numbers a loop copies a run faster than creating a view to `set` it from. */
const SHORT_RUN = 64;

/** Copies `length` numbers from `from[start…]` to `to[at…]`. */
export function copyRun(from: HeapArray, start: number, to: HeapArray, at: number, length: number): void {
  if (length < SHORT_RUN) {
    for (let i = 0; i < length; i++) to[at + i] = from[start + i];
  } else {
    to.set(from.subarray(start, start + length), at);
  }
}
