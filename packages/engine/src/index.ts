/**
 * genlab-engine: TensorFlow.js in Node at PyTorch's CPU speed, without libtensorflow.
 *
 * `await startWasm()` makes wasm the active backend with the engine's kernels in front of tfjs's own (the gradients
 * wasm lacks, faster convolution gradients, products, reductions, slices and gathers, and the cpu backend's kernel
 * for every other op wasm lacks), the threaded wasm build, and the native kernels (oneDNN on the wasm heap) where
 * `genlab-engine-build` built them. `loadWebGpu()` runs tfjs's webgpu backend on Dawn for Node. Each part is also
 * exported on its own. See README.md.
 */
export { EngineError, SentenceError } from './errors';
export { registerWasmKernels, startWasm, wasmThreadCount } from './wasm';
export type { WasmStarted } from './wasm';
export { registerComparisonGradients } from './comparison_gradients';
export { registerCpuFixes } from './cpu_fixes';
export { wasmThreadsWanted, withWasmThreads } from './wasm_threads';
export {
  explainNativeConv,
  loadNativeKernels,
  nativeAddonPath,
  nativeCalls,
  nativeSourceDir,
  nativeStatus,
  nativeWanted,
  setNativeKernelsEnabled,
  setNativeWinograd,
  winogradWanted,
} from './native';
export type { NativeStatus } from './native';
export { loadWebGpu, webgpuAdapter } from './webgpu';
export type { GraphicsApi, WebGpuAdapterInfo, WebGpuLoad } from './webgpu';
export { stockWasmKernel, withStockWasmKernel } from './kernels/wasm_compose';
export { findSystemLibrary } from './system_libraries';
