/**
 * Multi-threaded wasm in Node.
 *
 * tfjs-backend-wasm ships a threaded build (XNNPACK on a pthread pool of Web
 * Workers) but never uses it in Node. Four things stand in the way, each handled
 * here before the backend starts:
 *
 * 1. Its thread-support check answers false whenever it runs in Node, so the flag
 *    `WASM_HAS_MULTITHREAD_SUPPORT` is set by hand.
 * 2. It starts each worker from a `blob:` URL of the worker script, which Node's
 *    `worker_threads.Worker` refuses (ERR_WORKER_PATH). `worker_threads.Worker` is
 *    replaced by a subclass that starts those workers from the same script text
 *    (shipped in the package's wasm-out/ folder) with `eval: true`, and that hands
 *    the workers the threaded glue's file path where the browser build passes a Blob.
 * 3. The module sizes its pool as ⌊logical cores / 2⌋ (it assumes two hyperthreads
 *    per core), capped by `setThreadsCount`: one thread on a 2-core machine. While
 *    it starts, `os.cpus()` reports twice the threads wanted.
 * 4. The pool's workers would keep a script from ever exiting; they are unref'd.
 *
 * Measured on a 2-core machine: a 3×3×64 conv at batch 64 runs 1.5× faster with 2
 * threads; `npm run bench` has the training steps.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { EngineError } from './errors';

// The module objects themselves (not import-star copies, whose bindings are read-only): both get patched.
const os = require('os') as typeof import('os');
const workerThreads = require('worker_threads') as typeof import('worker_threads');

const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
let patched = false;

function wasmOutDir(): string {
  return path.join(path.dirname(require.resolve(`${WASM_PACKAGE}/package.json`)), 'wasm-out');
}

/** Starts tfjs's pthread workers from a file path Node accepts (once per process). */
function patchWorkerForBlobUrls(): void {
  if (patched) return;
  patched = true;
  const dir = wasmOutDir();
  // The worker script, as the browser build makes its Blob (escaped newlines inside its strings).
  const workerSource = (
    require(path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string }
  ).wasmWorkerContents.replace(/\n/g, '\\n');
  const glue = path.join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  const NodeWorker = workerThreads.Worker;
  class TfjsPthreadWorker extends NodeWorker {
    constructor(url: string | URL, options?: import('worker_threads').WorkerOptions) {
      if (String(url).startsWith('blob:')) super(workerSource, { ...options, eval: true });
      else super(url, options);
      this.unref();
    }

    /**
     * Emscripten refs a worker while it runs a pthread, and XNNPACK's pool threads
     * run forever, so a script would never exit. They need no event loop of their
     * own: the main thread blocks while they compute. So they never hold the process.
     */
    override ref(): void {}

    override postMessage(message: unknown, transferList?: readonly import('worker_threads').TransferListItem[]): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      if (m && m.cmd === 'load' && typeof m.urlOrBlob !== 'string') message = { ...m, urlOrBlob: glue };
      super.postMessage(message, transferList);
    }
  }
  (workerThreads as { Worker: typeof NodeWorker }).Worker = TfjsPthreadWorker;
}

/** How many threads wasm should use: `GENLAB_WASM_THREADS`, else every core (at most 8). */
export function wasmThreadsWanted(): number {
  const raw = process.env.GENLAB_WASM_THREADS;
  if (raw !== undefined && raw.trim() !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new EngineError(
        `GENLAB_WASM_THREADS is '${raw}': use a whole number ≥ 1 (1 turns threads off), or leave it unset to use every core.`,
      );
    return n;
  }
  return Math.min(8, os.availableParallelism?.() ?? os.cpus().length);
}

/**
 * Runs `start` (which starts the wasm backend) so that it uses `threads` threads.
 * With 1 it starts the single-threaded build, as tfjs does in Node by default.
 */
export async function withWasmThreads<T>(threads: number, start: () => Promise<T>): Promise<T> {
  if (threads <= 1) return start();
  patchWorkerForBlobUrls();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  (require(WASM_PACKAGE) as { setThreadsCount(n: number): void }).setThreadsCount(threads);
  const cpus = os.cpus;
  const one = cpus()[0];
  os.cpus = () => Array.from({ length: 2 * threads }, () => one);
  try {
    return await start();
  } finally {
    os.cpus = cpus;
  }
}
