/**
 * The webgpu backend: `@tensorflow/tfjs-backend-webgpu` on Dawn for Node (the npm package `webgpu`, whose native
 * `dawn.node` ships inside the package, so nothing is downloaded). Both are optional dependencies.
 *
 * The engine does three things the backend's own start-up does not do in Node:
 * - it asks Dawn for an adapter itself, one graphics API at a time, so that it can name the API and tell a hardware
 *   adapter from a software renderer (automatic selection takes only hardware; `GENLAB_BACKEND=webgpu` takes either);
 * - it requests the device with the features as a flat list (tfjs 4.22 nests one in an array, which Dawn refuses);
 * - it gives the backend a synchronous read. tfjs reads a GPU buffer synchronously through an `OffscreenCanvas`,
 *   which Node lacks, and WebGPU itself only maps buffers asynchronously: Dawn for Node completes a map in a callback
 *   it queues with `setImmediate`. the engine keeps the latest such callback and calls it until the map is done, which is
 *   what the event loop would do, without leaving the caller's synchronous code (`dataSync`, `arraySync`).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import * as tf from '@tensorflow/tfjs';
import { EngineError } from './errors';
import { findSystemLibrary } from './system_libraries';

/** The graphics API an adapter runs on, as Dawn's `backend=` flag names it. */
export type GraphicsApi = 'vulkan' | 'metal' | 'd3d12' | 'opengles';

const API_NAMES: Record<GraphicsApi, string> = {
  vulkan: 'Vulkan',
  metal: 'Metal',
  d3d12: 'Direct3D 12',
  opengles: 'OpenGL ES',
};

/** What the engine found about the adapter the webgpu backend runs on. */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  api: GraphicsApi;
  /** A software renderer (Mesa's llvmpipe, SwiftShader, WARP…): right results, CPU speed. */
  software: boolean;
  /** One phrase for the backend line, e.g. 'nvidia ampere, Vulkan' or 'llvmpipe (software), OpenGL ES'. */
  label: string;
}

/** The outcome of `loadWebGpu`. */
export type WebGpuLoad = { ok: true; adapter: WebGpuAdapterInfo } | { ok: false; reason: string };

/* Minimal shapes of the WebGPU objects used here (the DOM's types are not in this project's lib). */
interface GpuAdapterLike {
  info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(descriptor: object): Promise<GpuDeviceLike>;
}
interface GpuBufferLike {
  size: number;
  mapState: 'unmapped' | 'pending' | 'mapped';
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}
interface GpuDeviceLike {
  lost: Promise<{ message: string }>;
}
interface Gpu {
  requestAdapter(options?: object): Promise<GpuAdapterLike | null>;
}
interface Dawn {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

/** The graphics APIs to try on this platform, the platform's own first. */
function apisToTry(allowSoftware: boolean): GraphicsApi[] {
  if (process.platform === 'darwin') return ['metal'];
  if (process.platform === 'win32') return ['d3d12', 'vulkan'];
  return allowSoftware ? ['vulkan', 'opengles'] : ['vulkan'];
}

const SOFTWARE_RENDERERS = /llvmpipe|lavapipe|softpipe|swiftshader|software|microsoft basic render|warp/i;

/** Where the package keeps `dawn.node` for this platform. */
function dawnAddonPath(): string {
  const root = path.dirname(require.resolve('webgpu/package.json'));
  const dir = process.platform === 'darwin' ? 'darwin-universal' : `${process.platform}-${process.arch}`;
  return path.join(root, 'dist', dir, 'dawn.node');
}

let dawn: Dawn | undefined;

function loadDawn(): Dawn | string {
  if (dawn) return dawn;
  let file: string;
  try {
    file = dawnAddonPath();
  } catch {
    return 'the optional package `webgpu` (Dawn for Node) is not installed: `npm install` brings it';
  }
  if (!fs.existsSync(file))
    return `the package \`webgpu\` has no Dawn build for ${process.platform} ${process.arch} (${file} is missing)`;
  try {
    require.resolve('@tensorflow/tfjs-backend-webgpu');
  } catch {
    return 'the optional package `@tensorflow/tfjs-backend-webgpu` is not installed: `npm install` brings it';
  }
  // Mesa's EGL looks for a display unless told there is none; a headless machine (CI, a server) has none.
  if (process.platform === 'linux' && process.env.EGL_PLATFORM === undefined) process.env.EGL_PLATFORM = 'surfaceless';
  try {
    dawn = require(file) as Dawn;
  } catch (err) {
    return `Dawn for Node failed to load (${(err as Error).message.split('\n')[0]})`;
  }
  // The WebGPU constants (GPUBufferUsage, GPUMapMode, …) that the backend's kernels read as globals.
  for (const [name, value] of Object.entries(dawn.globals))
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  watchDawnTicks();
  return dawn;
}

/* ---------- the synchronous read ---------- */

/** The latest callback Dawn queued with `setImmediate`: calling it processes Dawn's events (a buffer map among them). */
let dawnTick: (() => void) | undefined;
/** True only while the engine itself calls into Dawn, so that no other addon's callback is taken for Dawn's. */
let inDawnCall = false;

function isNativeFunction(f: unknown): f is () => void {
  return typeof f === 'function' && f.name === '' && Function.prototype.toString.call(f).includes('[native code]');
}

/** Wraps `setImmediate` so that the callbacks Dawn queues during the engine's own calls into it are kept. */
function watchDawnTicks(): void {
  const original = globalThis.setImmediate;
  const watched = function (this: unknown, callback: (...args: unknown[]) => void, ...args: unknown[]) {
    if (inDawnCall && args.length === 0 && isNativeFunction(callback)) dawnTick = callback;
    return Reflect.apply(original, this, [callback, ...args]) as NodeJS.Immediate;
  } as typeof setImmediate;
  Object.defineProperty(watched, util.promisify.custom, {
    value: (original as unknown as Record<symbol, unknown>)[util.promisify.custom],
  });
  globalThis.setImmediate = watched;
}

function inDawn<T>(body: () => T): T {
  inDawnCall = true;
  try {
    return body();
  } finally {
    inDawnCall = false;
  }
}

/** How long a synchronous read waits for the GPU before it gives up with a sentence. */
const READ_TIMEOUT_MS = 120_000;

/** The parts of tfjs's WebGPUBackend that a read touches (tfjs-backend-webgpu 4.22's own names). */
interface WebGpuBackendInternals {
  tensorMap: { get(dataId: object): TensorData };
  bufferManager: {
    acquireBuffer(size: number, usage: number): GpuBufferLike;
    releaseBuffer(buffer: GpuBufferLike): void;
  };
  commandEncoder: { copyBufferToBuffer(a: GpuBufferLike, ao: number, b: GpuBufferLike, bo: number, n: number): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: object, values: tf.backend_util.BackendValues): tf.backend_util.BackendValues;
  readSync(dataId: object): tf.backend_util.BackendValues;
}
interface TensorData {
  values: tf.backend_util.BackendValues | null;
  dtype: tf.DataType;
  resource: GpuBufferLike;
  complexTensorInfos?: { real: { dataId: object }; imag: { dataId: object } };
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Copies the tensor's buffer to a mappable one and waits for the map by running Dawn's event callback. */
function readSync(backend: WebGpuBackendInternals, dataId: object): tf.backend_util.BackendValues {
  const data = backend.tensorMap.get(dataId);
  if (data.values != null || data.dtype === 'string') return data.values!;
  if (data.dtype === 'complex64') {
    const real = readSync(backend, data.complexTensorInfos!.real.dataId) as Float32Array;
    const imag = readSync(backend, data.complexTensorInfos!.imag.dataId) as Float32Array;
    const merged = tf.backend_util.mergeRealAndImagArrays(real, imag);
    return backend.convertAndCacheOnCPU(dataId, merged);
  }
  const size = data.resource.size;
  const staging = backend.bufferManager.acquireBuffer(size, GPU_COPY_DST_MAP_READ());
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.commandEncoder.copyBufferToBuffer(data.resource, 0, staging, 0, size);
  let failure: unknown;
  inDawn(() => {
    backend.submitQueue();
    staging.mapAsync(MAP_READ()).catch((err: unknown) => (failure = err));
  });
  if (!dawnTick)
    throw new EngineError(
      'webgpu: this version of Dawn for Node does not let the engine read a tensor synchronously; read it with `await t.data()` (or `await t.array()`) instead.',
    );
  const deadline = Date.now() + READ_TIMEOUT_MS;
  for (let spins = 0; staging.mapState !== 'mapped'; spins++) {
    if (staging.mapState === 'unmapped' || failure !== undefined)
      throw new EngineError(`webgpu: reading a tensor back from the GPU failed (${String(failure ?? 'map refused')}).`);
    if (Date.now() > deadline)
      throw new EngineError(
        `webgpu: the GPU did not finish within ${READ_TIMEOUT_MS / 1000} s; is the device lost? Restart the kernel, or use GENLAB_BACKEND=wasm.`,
      );
    inDawn(() => dawnTick!());
    // The first few checks come back at once on a quick kernel; after that, a pause of 50 µs leaves the core alone.
    if (spins > 64) Atomics.wait(sleeper, 0, 0, 0.05);
  }
  const bytes = staging.getMappedRange().slice(0);
  staging.unmap();
  backend.bufferManager.releaseBuffer(staging);
  return backend.convertAndCacheOnCPU(dataId, tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype));
}

const usage = (name: string, flag: string): number =>
  ((globalThis as Record<string, unknown>)[name] as Record<string, number>)[flag];
const MAP_READ = () => usage('GPUMapMode', 'READ');
const GPU_COPY_DST_MAP_READ = () => usage('GPUBufferUsage', 'COPY_DST') | usage('GPUBufferUsage', 'MAP_READ');

/* ---------- adapter, device, backend ---------- */

function describe(adapter: GpuAdapterLike, api: GraphicsApi): WebGpuAdapterInfo {
  const info = adapter.info ?? {};
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const software =
    Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) ||
    SOFTWARE_RENDERERS.test(`${vendor} ${architecture} ${device} ${description}`);
  const name =
    [vendor, architecture].filter((s) => s !== '').join(' ') ||
    device.replace(/-+$/, '').split('-')[0] ||
    description ||
    'unnamed adapter';
  return {
    vendor,
    architecture,
    device,
    description,
    api,
    software,
    label: `${name}${software ? ' (software)' : ''}, ${API_NAMES[api]}`,
  };
}

/** The Dawn instance each adapter came from (the backend's constructor looks for one at `navigator.gpu`). */
const gpuOf = new WeakMap<GpuAdapterLike, Gpu>();

/** Whether Linux has the Vulkan loader; without it Dawn's Vulkan backend only prints a warning. */
function hasVulkanLoader(): boolean {
  return findSystemLibrary('libvulkan.so.1') !== undefined;
}

/** Whether Linux has the EGL loader under the unversioned name Dawn opens (Debian's libegl-dev has it). */
function hasEglLoader(): boolean {
  return findSystemLibrary('libEGL.so') !== undefined;
}

/**
 * The first hardware adapter over the APIs to try, else (when software is allowed) the first software one.
 * OpenGL ES is tried only when software is allowed: on Linux a GPU's driver gives Vulkan, and the OpenGL ES path
 * is what reaches Mesa's software renderer on a machine without a GPU (CI's), at WebGPU's compatibility level.
 */
async function findAdapter(
  d: Dawn,
  allowSoftware: boolean,
): Promise<{ adapter: GpuAdapterLike; info: WebGpuAdapterInfo } | string> {
  let software: { adapter: GpuAdapterLike; info: WebGpuAdapterInfo } | undefined;
  const tried: string[] = [];
  for (const api of apisToTry(allowSoftware)) {
    if (api === 'vulkan' && process.platform === 'linux' && !hasVulkanLoader()) {
      tried.push('Vulkan: no Vulkan loader (libvulkan.so.1)');
      continue;
    }
    if (api === 'opengles' && process.platform === 'linux' && !hasEglLoader()) {
      tried.push('OpenGL ES: no libEGL.so (on Debian: apt-get install libegl-dev libegl-mesa0 libgl1-mesa-dri)');
      continue;
    }
    let adapter: GpuAdapterLike | null = null;
    try {
      const gpu = d.create([`backend=${api}`]);
      const options = {
        powerPreference: 'high-performance',
        featureLevel: api === 'opengles' ? 'compatibility' : 'core',
      };
      adapter = await inDawn(() => gpu.requestAdapter(options));
      if (adapter) gpuOf.set(adapter, gpu);
    } catch {
      adapter = null;
    }
    if (!adapter) {
      tried.push(`${API_NAMES[api]}: no adapter`);
      continue;
    }
    const info = describe(adapter, api);
    if (!info.software) return { adapter, info };
    tried.push(`${API_NAMES[api]}: only ${info.label}`);
    software ??= { adapter, info };
  }
  if (software && allowSoftware) return software;
  return `no ${allowSoftware ? '' : 'hardware '}WebGPU adapter (${tried.join('; ')})`;
}

/** The adapter the webgpu backend runs on, once it has started. */
let active: WebGpuAdapterInfo | undefined;

export function webgpuAdapter(): WebGpuAdapterInfo | undefined {
  return active;
}

/**
 * Finds an adapter, requests a device and makes the webgpu backend active. Never throws: it says why not.
 * `allowSoftware`: whether a software renderer will do (forced by GENLAB_BACKEND=webgpu; never chosen on its own).
 */
export async function loadWebGpu(allowSoftware: boolean): Promise<WebGpuLoad> {
  if (active && tf.findBackend('webgpu')) {
    // Started before in this process: the same device again, unless automatic selection now asks for hardware.
    if (active.software && !allowSoftware)
      return { ok: false, reason: `no hardware WebGPU adapter (only ${active.label})` };
    if (tf.getBackend() !== 'webgpu' && !(await tf.setBackend('webgpu')))
      return { ok: false, reason: `the webgpu backend did not restart on ${active.label}` };
    return { ok: true, adapter: active };
  }
  if (!allowSoftware && process.platform === 'linux' && !hasVulkanLoader())
    return { ok: false, reason: 'no hardware WebGPU adapter (Vulkan: no Vulkan loader (libvulkan.so.1))' };
  const d = loadDawn();
  if (typeof d === 'string') return { ok: false, reason: d };
  const found = await findAdapter(d, allowSoftware);
  if (typeof found === 'string') return { ok: false, reason: found };
  const { adapter, info } = found;
  let device: GpuDeviceLike;
  try {
    const wanted = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => adapter.features.has(f));
    const limits = adapter.limits;
    device = await inDawn(() =>
      adapter.requestDevice({
        requiredFeatures: wanted,
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      }),
    );
  } catch (err) {
    return { ok: false, reason: `the adapter ${info.label} refused a device (${(err as Error).message})` };
  }
  // Requiring the package registers its kernels; its own backend factory registers only where `navigator.gpu`
  // exists, which the engine leaves alone, and registers the one below instead.
  const { WebGPUBackend } = require('@tensorflow/tfjs-backend-webgpu') as {
    WebGPUBackend: new (device: GpuDeviceLike, adapterInfo: object) => WebGpuBackendInternals;
  };
  // The backend's constructor checks for `navigator.gpu`, as in a browser; Node 21 and later have a `navigator`.
  const nav = ((globalThis as Record<string, unknown>).navigator ??= {}) as Record<string, unknown>;
  if (!('gpu' in nav)) Object.defineProperty(nav, 'gpu', { value: gpuOf.get(adapter), configurable: true });
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    () => {
      const backend = new WebGPUBackend(device, adapter.info);
      backend.readSync = (dataId: object) => readSync(backend, dataId);
      return backend as unknown as tf.KernelBackend;
    },
    -1,
  );
  try {
    if (!(await tf.setBackend('webgpu')))
      return { ok: false, reason: `the webgpu backend did not start on ${info.label}` };
  } catch (err) {
    return { ok: false, reason: `the webgpu backend did not start on ${info.label} (${(err as Error).message})` };
  }
  active = info;
  return { ok: true, adapter: info };
}
