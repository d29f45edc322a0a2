/**
 * Backend selection: `await init()` picks the fastest TensorFlow.js backend present.
 *
 * Order: tensorflow via @tensorflow/tfjs-node-gpu (CUDA), webgpu via
 * @tensorflow/tfjs-backend-webgpu on Dawn (a hardware GPU only), tensorflow via
 * @tensorflow/tfjs-node (native CPU), wasm (XNNPACK, SIMD, with genlab-engine's kernels and
 * threads), cpu (pure JS). WebGPU and wasm start through genlab-engine (packages/engine/).
 * The two TensorFlow packages download libtensorflow when they install, so they
 * are optional and usually absent; webgpu's packages are optional too, and wasm and cpu
 * always work. `GENLAB_BACKEND` (or `init({ backend })`) forces one; a forced webgpu
 * also runs on a software renderer, and falls back to the next backend with a sentence
 * where there is no adapter at all. `init` prints one line naming the backend, its
 * SIMD/threads (or GPU adapter), the tfjs and node versions, the profile and the seed.
 */
import * as tf from '@tensorflow/tfjs';
import {
  loadWebGpu,
  NativeStatus,
  nativeStatus,
  registerComparisonGradients,
  registerCpuFixes,
  startWasm,
  wasmThreadCount,
  webgpuAdapter,
  WebGpuAdapterInfo,
} from 'genlab-engine';
import { GenlabError } from './errors';
import { profile, ProfileName } from './run_size';
import { defaultSeed, setGlobalSeed } from './random';

/** Names accepted by `GENLAB_BACKEND` and `init({ backend })`. */
export const BACKEND_CHOICES = ['tensorflow-gpu', 'webgpu', 'tensorflow-cpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface InitOptions {
  /** Force a backend; defaults to `GENLAB_BACKEND`, else the fastest present. */
  backend?: BackendChoice;
  /** Seed for the library's shared generator; defaults to `GENLAB_SEED`, else 0. */
  seed?: number;
  /** Do not print the backend line. */
  quiet?: boolean;
}

export interface BackendInfo {
  /** The tfjs backend name now active: 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  backend: string;
  /** Which package provides it, e.g. '@tensorflow/tfjs-node-gpu'. */
  provider: string;
  simd: boolean | null;
  threads: number | null;
  tfjs: string;
  node: string;
  profile: ProfileName;
  seed: number;
  /** On wasm: whether the engine's native kernels (oneDNN) run the heavy kernels, and why not. */
  native?: NativeStatus;
  /** On webgpu: the adapter (vendor, architecture, graphics API, whether it is a software renderer). */
  gpu?: WebGpuAdapterInfo;
  /** Why a forced backend could not start, when init fell back to the next one (its sentence precedes the line). */
  fellBack?: string;
  /** The one line `init` prints. */
  line: string;
}

interface Candidate {
  choice: BackendChoice;
  tfName: string;
  provider: string;
  /** Starts it; false (or the reason, where there is one worth saying) when it cannot run here. */
  load(forced: boolean): Promise<true | false | string>;
}

const NATIVE_HINT =
  'The native TensorFlow backends are optional: `npm install @tensorflow/tfjs-node` (CPU) or `@tensorflow/tfjs-node-gpu` (CUDA 11.2 + cuDNN 8) where downloads are allowed.';

/** Loads an optional native package; false when it is absent or its binary is missing. */
function tryRequire(name: string): boolean {
  try {
    require(name);
    return true;
  } catch {
    return false;
  }
}

async function activate(tfName: string): Promise<boolean> {
  if (!tf.findBackendFactory(tfName)) return false;
  try {
    return await tf.setBackend(tfName);
  } catch {
    return false;
  }
}

const CANDIDATES: Candidate[] = [
  {
    choice: 'tensorflow-gpu',
    tfName: 'tensorflow',
    provider: '@tensorflow/tfjs-node-gpu',
    load: async () => tryRequire('@tensorflow/tfjs-node-gpu') && activate('tensorflow'),
  },
  {
    choice: 'webgpu',
    tfName: 'webgpu',
    provider: '@tensorflow/tfjs-backend-webgpu',
    load: async (forced) => {
      const r = await loadWebGpu(forced);
      return r.ok ? true : r.reason;
    },
  },
  {
    choice: 'tensorflow-cpu',
    tfName: 'tensorflow',
    provider: '@tensorflow/tfjs-node',
    load: async () => tryRequire('@tensorflow/tfjs-node') && activate('tensorflow'),
  },
  {
    choice: 'wasm',
    tfName: 'wasm',
    provider: '@tensorflow/tfjs-backend-wasm',
    load: async () => (await startWasm()) !== undefined,
  },
  {
    choice: 'cpu',
    tfName: 'cpu',
    provider: '@tensorflow/tfjs-backend-cpu',
    load: async () => {
      const ok = await activate('cpu');
      // The cpu backend prints a multi-line "install tfjs-node" banner on first use;
      // our backend line already says which backend runs and how to get a faster one.
      if (ok) (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return ok;
    },
  },
];

function parseChoice(raw: string, source: string): BackendChoice {
  const name = raw.trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(name)) return name as BackendChoice;
  throw new GenlabError(
    `${source} is '${raw}', which is not a backend genlab knows: use one of ${BACKEND_CHOICES.join(', ')} (or leave it unset to pick the fastest present).`,
  );
}

let current: BackendInfo | undefined;

/** What `init` chose, or undefined before the first call. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

/**
 * Selects the backend, seeds the library, and prints one line saying which.
 * Call it once at the top of a notebook or script (`await init()`); calling it again
 * reseeds and reprints. Throws a GenlabError when a forced backend is unavailable.
 */
export async function init(options: InitOptions = {}): Promise<BackendInfo> {
  const forced =
    options.backend !== undefined
      ? parseChoice(options.backend, `init({ backend })`)
      : process.env.GENLAB_BACKEND && process.env.GENLAB_BACKEND.trim() !== ''
        ? parseChoice(process.env.GENLAB_BACKEND, 'GENLAB_BACKEND')
        : undefined;
  const wanted = (c: Candidate) => c.choice === forced || (forced === 'tensorflow' && c.tfName === 'tensorflow');
  // A GPU that WebGPU reaches is a laptop's, not a download's: where it cannot start, the course still runs, on the
  // backends that always do (wasm, then cpu), and says so.
  const candidates = !forced
    ? CANDIDATES
    : forced === 'webgpu'
      ? CANDIDATES.filter((c) => wanted(c) || c.choice === 'wasm' || c.choice === 'cpu')
      : CANDIDATES.filter(wanted);

  // On every backend: a gradient of a gradient differentiates comparisons, which tfjs leaves without a gradient.
  registerComparisonGradients();
  // The cpu backend's kernels that give wrong numbers, mended (the nearest-neighbour upsampling's gradient).
  registerCpuFixes();
  let chosen: Candidate | undefined;
  let fellBack: string | undefined;
  for (const candidate of candidates) {
    const loaded = await candidate.load(wanted(candidate));
    if (loaded === true) {
      chosen = candidate;
      break;
    }
    if (forced && wanted(candidate) && typeof loaded === 'string') fellBack = loaded;
  }
  if (chosen && fellBack !== undefined) {
    fellBack = `genlab: the backend '${forced}' cannot start here: ${fellBack}; running on ${chosen.tfName} instead.`;
    if (!options.quiet) console.log(fellBack);
  }
  if (!chosen) {
    const hint = forced?.startsWith('tensorflow') ? ` ${NATIVE_HINT}` : ' Reinstall with `npm install`.';
    throw new GenlabError(
      `The backend '${forced}' (from ${options.backend ? 'init({ backend })' : 'GENLAB_BACKEND'}) is not available on this machine.${hint}`,
    );
  }
  await tf.ready();

  const seed = options.seed ?? defaultSeed();
  setGlobalSeed(seed);
  const { simd, threads } = describeParallelism(chosen.tfName);
  const native = chosen.tfName === 'wasm' ? nativeStatus() : undefined;
  const gpu = chosen.tfName === 'webgpu' ? webgpuAdapter() : undefined;
  const plural = (n: number) => `${n} thread${n === 1 ? '' : 's'}`;
  const parts = [
    `backend ${chosen.tfName} (${chosen.provider}${gpu ? ` on ${gpu.label}` : ''}${simd === null ? '' : simd ? ', SIMD' : ', no SIMD'}${threads === null ? '' : `, ${plural(threads)}`})` +
      (native?.active ? ` + native kernels (${native.libraries}, ${plural(native.threads!)})` : ''),
    `tfjs ${tf.version.tfjs}`,
    `node ${process.version}`,
    `profile ${profile()}`,
    `seed ${seed}`,
  ];
  current = {
    backend: chosen.tfName,
    provider: chosen.provider,
    simd,
    threads,
    tfjs: tf.version.tfjs,
    node: process.version,
    profile: profile(),
    seed,
    native,
    gpu,
    fellBack,
    line: `genlab: ${parts.join(' · ')}`,
  };
  if (!options.quiet) console.log(current.line);
  return current;
}

function describeParallelism(tfName: string): { simd: boolean | null; threads: number | null } {
  if (tfName === 'wasm') {
    return { simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), threads: wasmThreadCount() };
  }
  if (tfName === 'cpu') return { simd: false, threads: 1 };
  return { simd: null, threads: null };
}
