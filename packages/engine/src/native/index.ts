/**
 * Native kernels for the wasm backend: the engine's optional addon (native/) runs the heavy kernels with oneDNN, and
 * training's hot spots in one pass each, in place on the wasm heap.
 *
 * The wasm path is bounded by 128-bit SIMD without fused multiply-add; PyTorch's CPU convolutions and products are
 * oneDNN's (AVX2/AVX-512, FMA). The addon, built by `genlab-engine-build` (genlab's `npm run setup`) where g++ and oneDNN (Debian's libdnnl-dev)
 * are present, gives the wasm backend those same kernels (kernels.ts: convolutions and their gradients, matrix
 * products, exact elementwise arithmetic, reductions, batch normalization; copies.ts: concat, split, tiling pools and
 * upsamplings and their gradients) and fuses what training repeats
 * (training.ts: Adam, batch statistics and their gradients). Every tensor stays in the wasm heap, and every other
 * kernel is the wasm backend's. When the addon is absent, fails to load, or `GENLAB_NATIVE=0`, the wasm kernels
 * run, and init's line says which.
 *
 * Threads: the addon's OpenMP pool gets as many threads as the wasm pool, for calls big enough to share (small ones
 * run on the calling thread), and its threads spin only briefly between calls (addon.ts), so that the two pools take
 * turns on the cores rather than fight over them.
 */
import { EngineError } from '../errors';
import {
  loadAddon,
  nativeStatus,
  nativeWanted,
  NativeStatus,
  setNativeStatus,
  setNativeWinograd,
  winogradWanted,
} from './addon';
import { registerNativeKernels } from './kernels';
import { registerNativeTraining } from './training';

export {
  nativeAddonPath,
  nativeCalls,
  nativeSourceDir,
  nativeStatus,
  nativeWanted,
  setNativeKernelsEnabled,
  setNativeWinograd,
  winogradWanted,
} from './addon';
export type { NativeStatus } from './addon';
export { explainNativeConv } from './kernels';

/** The status once the kernels are registered (an init with GENLAB_NATIVE=0 sets another; a later one restores it). */
let registered: NativeStatus | undefined;

/**
 * Loads the addon and puts its kernels in front of the wasm backend's (once; the wasm backend must be registered).
 * With GENLAB_NATIVE=1 a missing addon is an error; otherwise the status says why they are not there.
 */
export function loadNativeKernels(threads: number): NativeStatus {
  const wanted = nativeWanted();
  const winograd = winogradWanted();
  if (wanted === 'off') return setNativeStatus({ active: false, off: true });
  if (registered) {
    setNativeStatus(registered);
    return nativeStatus();
  }
  const addon = loadAddon();
  if (!addon) {
    if (wanted === 'required') throw new EngineError(`GENLAB_NATIVE=1, but ${nativeStatus().reason}.`);
    return nativeStatus();
  }
  addon.setThreads(threads);
  setNativeWinograd(winograd);
  registerNativeKernels();
  registerNativeTraining();
  const v = addon.versions();
  registered = { active: true, libraries: `oneDNN ${v.onednn}`, threads: v.threads };
  setNativeStatus(registered);
  return nativeStatus();
}
