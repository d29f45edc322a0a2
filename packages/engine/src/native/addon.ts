/**
 * The native addon (native/, built by `genlab-engine-build`, which genlab's `npm run setup` runs): loading it,
 * switching it on and off, and calling it.
 *
 * A call is one Int32Array: the operation, its description (shapes, attributes, floats as their bits), then the
 * float offsets of its tensors in the wasm heap, in the order native/src/genlab_native.cc reads them. The heap goes
 * along as a Float32Array over the wasm memory, so oneDNN reads and writes the tensors where tfjs keeps them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';
import { TensorInfo, WasmBackend } from '../kernels/wasm_compose';

interface Addon {
  run(heap: Float32Array, call: Int32Array): boolean;
  explain(call: Int32Array): string;
  setThreads(n: number): void;
  setWinograd(on: boolean): void;
  versions(): { onednn: string; threads: number; cached: number };
}

/** The addon's operations, by the numbers native/src/genlab_native.cc gives them. */
export const OP = {
  conv2d: 0,
  conv2dBackpropInput: 1,
  conv2dBackpropFilter: 2,
  matMul: 3,
  adam: 4,
  binary: 5,
  unary: 6,
  reduce: 7,
  batchNorm: 8,
  batchNormGrad: 9,
  moments: 10,
  momentsGrad: 11,
  copyRows: 12,
  blockSpread: 13,
  blockSum: 14,
} as const;

/** What `loadNativeKernels` found. */
export interface NativeStatus {
  /** True when the addon loaded and its kernels are registered. */
  active: boolean;
  /** e.g. 'oneDNN 2.6.3'. */
  libraries?: string;
  threads?: number;
  /** Whether 3 × 3 convolutions of training size run Winograd's algorithm (native/src/genlab_native.cc, GENLAB_WINOGRAD). */
  winograd?: boolean;
  /** Why not, in a sentence (absent when active, or when turned off with GENLAB_NATIVE=0). */
  reason?: string;
  /** True when GENLAB_NATIVE=0 turned it off. */
  off?: boolean;
}

/** The addon's sources (`native/` in this package, found from dist/src/… or src/…). */
export function nativeSourceDir(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'native', 'binding.gyp')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'native');
}

/** The built addon: `GENLAB_NATIVE_ADDON`, else node-gyp's output folder beside its sources. */
export function nativeAddonPath(): string {
  if (process.env.GENLAB_NATIVE_ADDON) return path.resolve(process.env.GENLAB_NATIVE_ADDON);
  return path.join(nativeSourceDir(), 'build', 'Release', 'genlab_native.node');
}

/** `GENLAB_NATIVE`: '0' turns the native kernels off, '1' requires them (startWasm fails without), unset uses them if built. */
export function nativeWanted(): 'off' | 'required' | 'if-present' {
  const raw = (process.env.GENLAB_NATIVE ?? '').trim();
  if (raw === '') return 'if-present';
  if (raw === '0') return 'off';
  if (raw === '1') return 'required';
  throw new EngineError(
    `GENLAB_NATIVE is '${raw}': use 0 (the wasm kernels only), 1 (require the native kernels), or leave it unset to use them when they are built.`,
  );
}

/**
 * `GENLAB_WINOGRAD`: '0' keeps every convolution on oneDNN's direct kernels; unset or '1' lets the 3 × 3 ones of
 * training size run Winograd's algorithm (10–45% faster, its rounding about 4× the direct kernels').
 */
export function winogradWanted(): boolean {
  const raw = (process.env.GENLAB_WINOGRAD ?? '').trim();
  if (raw === '' || raw === '1') return true;
  if (raw === '0') return false;
  throw new EngineError(
    `GENLAB_WINOGRAD is '${raw}': use 0 (every convolution on the direct kernels), 1, or leave it unset to let 3 × 3 convolutions of training size run Winograd's algorithm.`,
  );
}

let addon: Addon | undefined;
/** What the addon was last told (`setNativeWinograd`); the status reports it while the kernels are active. */
let winograd = true;
let status: NativeStatus = { active: false, reason: 'the wasm backend has not started yet' };
/** Whether registered kernels take the native path; tests switch it to compare the two paths in one process. */
let enabled = true;
/** Kernel calls the addon ran, by kernel name (tests check the native path was taken). */
const calls = new Map<string, number>();

export function nativeStatus(): NativeStatus {
  return status.active ? { ...status, winograd } : status;
}

export function setNativeStatus(s: NativeStatus): NativeStatus {
  status = s;
  return s;
}

/** Whether the native kernels run now: loaded, active (not GENLAB_NATIVE=0 at the last init), not switched off. */
export function nativeEnabled(): boolean {
  return enabled && addon !== undefined && status.active;
}

/** Turns the registered native kernels off (they run the wasm kernels) or back on; returns the previous state. */
export function setNativeKernelsEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Lets the qualifying 3 × 3 convolutions run Winograd's algorithm, or not; returns the previous choice. */
export function setNativeWinograd(on: boolean): boolean {
  if (!addon) throw new EngineError('the native kernels are not loaded: start the wasm backend first.');
  const was = winograd;
  addon.setWinograd(on);
  winograd = on;
  return was;
}

/** How many calls of kernel `name` the addon has run in this process. */
export function nativeCalls(name: string): number {
  return calls.get(name) ?? 0;
}

export function countNativeCall(name: string): void {
  calls.set(name, (calls.get(name) ?? 0) + 1);
}

/** The addon, loaded once; undefined with the reason recorded in the status. */
export function loadAddon(): Addon | undefined {
  if (addon) return addon;
  const file = nativeAddonPath();
  if (!fs.existsSync(file)) {
    status = {
      active: false,
      reason: `the native kernels are not built (${path.relative(process.cwd(), file) || file} is missing): \`npx genlab-engine-build\` (genlab's \`npm run setup\`) builds them where g++ and oneDNN (Debian: libdnnl-dev) are installed`,
    };
    return undefined;
  }
  // OpenMP reads these when the addon's libgomp loads. After a parallel region its threads spin a while (about a
  // tenth of a millisecond here), then sleep: long enough to catch the next native call without the tens of
  // microseconds a wake costs, short enough to leave the cores to the wasm pool between. Measured on 2 cores (ms per
  // step, DCGAN / MLP VAE / conv VAE / PixelCNN): sleeping at once (OMP_WAIT_POLICY=PASSIVE) 149 / 7.1 / 37.6 / 278,
  // spinning always (ACTIVE) 136 / 6.5 / 33.6 / 270, this (GOMP_SPINCOUNT=100000) 138 / 6.3 / 31.9 / 272.
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined)
    process.env.GOMP_SPINCOUNT = '100000';
  try {
    const loaded = require(file) as Partial<Addon>;
    // A build from older sources lacks what this code calls (npm run setup rebuilds it when the sources change).
    const missing = ['run', 'explain', 'setThreads', 'setWinograd', 'versions'].filter(
      (name) => typeof loaded[name as keyof Addon] !== 'function',
    );
    if (missing.length > 0) {
      status = {
        active: false,
        reason: `the native kernels were built from older sources (they lack ${missing.join(', ')}): rebuild them with \`npx genlab-engine-build --force\``,
      };
      return undefined;
    }
    addon = loaded as Addon;
    return addon;
  } catch (err) {
    status = {
      active: false,
      reason: `the native kernels failed to load (${(err as Error).message.split('\n')[0]}): rebuild them with \`npx genlab-engine-build --force\``,
    };
    return undefined;
  }
}

export type Backend = WasmBackend & {
  wasm: { wasmMemory?: { buffer: ArrayBufferLike }; HEAPU8: Uint8Array };
  getMemoryOffset(dataId: object): number;
};

let heapView: Float32Array | undefined;

/** The whole wasm memory as floats (a new view only when the memory has grown). */
function heap(backend: Backend): Float32Array {
  const buffer = backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer;
  if (!heapView || heapView.buffer !== buffer) heapView = new Float32Array(buffer);
  return heapView;
}

const bits = new Int32Array(1);
const bitsAsFloat = new Float32Array(bits.buffer);

/** A float32's bits as an int, as the addon reads floats from a call. */
export function floatBits(value: number): number {
  bitsAsFloat[0] = value;
  return bits[0];
}

/** One kind of call: a reused buffer of `fields` ints for the description, then `tensors` offsets. */
export class NativeCall {
  private readonly buffer: Int32Array;

  constructor(
    readonly op: number,
    readonly fields: number,
    tensors: number,
  ) {
    this.buffer = new Int32Array(fields + tensors);
  }

  /** Sets the description after the op (fields − 1 ints) and returns this call. */
  describe(values: number[]): this {
    if (values.length !== this.fields - 1)
      throw new Error(`native call ${this.op}: ${values.length + 1} of ${this.fields} fields`);
    this.buffer[0] = this.op;
    this.buffer.set(values, 1);
    return this;
  }

  /** Runs the described call on `tensors` (in the addon's order; undefined for an absent one); false if refused. */
  run(backend: Backend, tensors: (TensorInfo | undefined)[]): boolean {
    for (let i = 0; i < tensors.length; i++)
      this.buffer[this.fields + i] = tensors[i] ? backend.getMemoryOffset(tensors[i]!.dataId) / 4 : 0;
    return addon!.run(heap(backend), this.buffer);
  }

  /** Which implementation the described call runs (oneDNN's name for it), or why none can. */
  explain(): string {
    return addon ? addon.explain(this.buffer) : 'the native kernels are not loaded';
  }
}
