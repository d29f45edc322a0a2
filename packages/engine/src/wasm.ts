/**
 * The wasm backend as the engine runs it: TensorFlow.js's own wasm backend with the engine's kernels registered in
 * front of it (the ones it lacks, and faster ones for those it has), its threads, and the native kernels where
 * they are built. `startWasm()` is the one call a TensorFlow.js program in Node makes.
 */
import * as tf from '@tensorflow/tfjs';
import { registerComparisonGradients } from './comparison_gradients';
import { registerWasmBatchMatMul } from './kernels/wasm_batch_matmul';
import { registerWasmBlockGrads } from './kernels/wasm_block_grads';
import { registerWasmConcatSplit } from './kernels/wasm_concat_split';
import { registerWasmConv2DBackpropFilter } from './kernels/wasm_conv2d_backprop_filter';
import { registerWasmConv2DBackpropInput } from './kernels/wasm_conv2d_backprop_input';
import { registerWasmCpuFallbacks } from './kernels/wasm_cpu_fallback';
import { registerWasmGather } from './kernels/wasm_gather';
import { registerWasmIdentity } from './kernels/wasm_identity';
import { registerWasmLeakyRelu } from './kernels/wasm_leaky_relu';
import { registerWasmReductions } from './kernels/wasm_reduce';
import { registerWasmSlice } from './kernels/wasm_slice';
import { registerWasmTile } from './kernels/wasm_tile';
import { registerWasmUnsortedSegmentSum } from './kernels/wasm_unsorted_segment_sum';
import { loadNativeKernels, NativeStatus } from './native';
import { wasmThreadsWanted, withWasmThreads } from './wasm_threads';

/**
 * Registers the engine's wasm kernels (idempotent; the wasm backend's package must be loaded, which this does):
 * `Conv2DBackpropFilter` and `UnsortedSegmentSum`, which wasm lacks; a `Conv2DBackpropInput`, `BatchMatMul`,
 * `Tile`, reductions, leaky ReLU, `Slice`, `Concat`, `SplitV`, `Gather`, `Identity` and the tiling pools' and upsamplings'
 * gradients faster than its own; and the cpu backend's kernel
 * for every other one it lacks (`Einsum`, …), so that any correct program runs.
 */
export function registerWasmKernels(): void {
  require('@tensorflow/tfjs-backend-wasm');
  registerWasmConv2DBackpropFilter();
  registerWasmBatchMatMul();
  registerWasmConv2DBackpropInput();
  registerWasmTile();
  registerWasmReductions();
  registerWasmLeakyRelu();
  registerWasmSlice();
  registerWasmConcatSplit();
  registerWasmBlockGrads();
  registerWasmGather();
  registerWasmIdentity();
  registerWasmUnsortedSegmentSum();
  registerWasmCpuFallbacks();
}

/**
 * The wasm module's Emscripten glue installs process-wide `uncaughtException` and `unhandledRejection` handlers that
 * rethrow, which turns any stray rejection (a Jupyter kernel's own sends under a burst of output, or a forgotten
 * promise) into a dead process. Those handlers are removed again.
 */
async function withoutEmscriptenCrashHandlers<T>(body: () => Promise<T>): Promise<T> {
  const emitter = process as unknown as NodeJS.EventEmitter;
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  try {
    return await body();
  } finally {
    for (const e of events)
      for (const l of emitter.listeners(e))
        if (!before.get(e)!.has(l)) emitter.removeListener(e, l as (...args: unknown[]) => void);
  }
}

export interface WasmStarted {
  /** Whether the wasm module has 128-bit SIMD. */
  simd: boolean;
  /** The wasm thread pool's size (1: the single-threaded build). */
  threads: number;
  /** Whether the native kernels run the heavy kernels, and if not, why. */
  native: NativeStatus;
}

/**
 * Makes wasm the active backend with the engine's kernels: threads from `GENLAB_WASM_THREADS` (else one per core,
 * at most 8) unless `threads` says, and the native kernels where built (`GENLAB_NATIVE`: 0 off, 1 required).
 * Resolves to what runs, or undefined when the wasm backend cannot start here.
 */
export async function startWasm(options: { threads?: number } = {}): Promise<WasmStarted | undefined> {
  registerWasmKernels();
  registerComparisonGradients();
  const threads = options.threads ?? wasmThreadsWanted();
  const ok = await withoutEmscriptenCrashHandlers(() =>
    withWasmThreads(threads, async () => {
      try {
        return await tf.setBackend('wasm');
      } catch {
        return false;
      }
    }),
  );
  if (!ok) return undefined;
  const native = loadNativeKernels(threads);
  await tf.ready();
  return { simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') as boolean, threads: wasmThreadCount(), native };
}

/** The active wasm backend's thread count (1 for the single-threaded build). */
export function wasmThreadCount(): number {
  const wasm = (tf.backend() as unknown as { wasm?: { _get_threads_count?: () => number } }).wasm;
  return wasm?._get_threads_count ? wasm._get_threads_count() : 1;
}
