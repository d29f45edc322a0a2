/**
 * `UnsortedSegmentSum` for the wasm backend, which tfjs-backend-wasm 4.22 does not have.
 *
 * It is more than `tf.unsortedSegmentSum`: tfjs-core's gradient of every gather (`tf.gather`, an embedding lookup,
 * picking each row's true logit) scatters dy back with it. Without this kernel a model that gathers trains on cpu
 * and webgpu but stops on wasm, the grader's backend, with "Kernel 'UnsortedSegmentSum' not registered for backend
 * 'wasm'", so a correct answer written with tf.gather lost its points (found by the fairness suite). Rows whose
 * segment id is outside [0, numSegments) are dropped, as on the cpu backend; sums run in float32, row by row.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelArgs, TensorInfo, WasmBackend } from './wasm_compose';
import { heapView } from './wasm_heap';

function unsortedSegmentSum(args: KernelArgs): TensorInfo {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  if (x.dtype !== 'float32' && x.dtype !== 'int32')
    throw new Error(`UnsortedSegmentSum on wasm sums float32 or int32 tensors, not ${x.dtype}`);
  const backend = args.backend as WasmBackend;
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const sliceShape = x.shape.slice(segmentIds.shape.length);
  const slice = sliceShape.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...sliceShape], x.dtype);
  // Views only after makeOutput: an allocation may grow (and so replace) the heap's buffer.
  const from = heapView(backend, x);
  const ids = heapView(backend, segmentIds);
  const to = heapView(backend, out);
  to.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    if (!(s >= 0 && s < numSegments)) continue;
    const source = r * slice;
    const target = s * slice;
    for (let j = 0; j < slice; j++) to[target + j] += from[source + j];
  }
  return out;
}

/** Registers the kernel for wasm, unless wasm has one of its own (a later tfjs-backend-wasm may). */
export function registerWasmUnsortedSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: unsortedSegmentSum as tf.KernelFunc,
  });
}
