/** Shared helpers for the engine's tests. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { EngineError } from '../src/errors';
import * as fs from 'fs';
import { nativeAddonPath, nativeCalls, setNativeKernelsEnabled } from '../src/native';
import { startWasm, WasmStarted } from '../src/wasm';

/** max |a − b| / max(1e-8, |a| + |b|) elementwise: the CS231n relative error. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length, `lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-8, Math.abs(a[i]) + Math.abs(b[i])));
  return worst;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Asserts `fn` rejects with an EngineError whose message matches every pattern, and that it carries no stack trace. */
export async function assertEngineErrorAsync(fn: () => Promise<unknown>, ...patterns: RegExp[]): Promise<EngineError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof EngineError, `expected an EngineError, got ${(err as Error)?.stack ?? err}`);
    for (const p of patterns) assert.match(err.message, p);
    assert.ok(!/\n\s+at /.test(err.stack ?? ''), `an EngineError's stack should be its sentence, got ${err.stack}`);
    return err;
  }
  assert.fail('expected an EngineError, but nothing was thrown');
}

/** Runs `fn` with environment variables set, restoring them afterwards. */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T> | T): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** How many times `f` makes the wasm backend run kernel `name` (to check which path a replacement kernel took). */
export function wasmKernelCalls(name: string, f: () => void): number {
  const config = tf.getKernel(name, 'wasm')!;
  let calls = 0;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...config, kernelFunc: (args) => (calls++, config.kernelFunc(args)) });
  try {
    f();
  } finally {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
  return calls;
}

/**
 * n distinct test values of a dtype, deterministic: for 'bool' a mix of 0s and 1s, for 'int32' negatives and positives,
 * for 'float32' values of both signs that float32 holds exactly (so a kernel and the definition can agree bit for bit).
 */
export function kernelTestValues(n: number, dtype: 'float32' | 'int32' | 'bool' = 'float32'): number[] {
  return Array.from({ length: n }, (_, i) =>
    dtype === 'bool' ? ((i * 7) % 3 === 0 ? 1 : 0) : dtype === 'int32' ? i * 3 - 50 : Math.fround(Math.sin(i) * 100),
  );
}

/**
 * For a describe that runs on the engine's wasm backend: starts it before, and gives the backend that was active
 * (another suite's, when these tests run inside genlab's) back after. Resolves what `startWasm` reported.
 */
export function onEngineWasm(): { started: () => WasmStarted } {
  let before_: string | undefined;
  let started: WasmStarted | undefined;
  before(async () => {
    before_ = tf.findBackend(tf.getBackend()) ? tf.getBackend() : undefined;
    started = await startWasm();
    assert.ok(started, 'the wasm backend did not start');
  });
  after(async () => {
    if (before_ && before_ !== 'wasm') await tf.setBackend(before_);
  });
  return { started: () => started! };
}

/**
 * For the tests of the engine's wasm kernels themselves (call it inside their describe): starts the wasm backend
 * with the native kernels switched off, which stand in front of the wasm kernels where they are built, so that the
 * fallback every machine without them runs stays tested; restores both afterwards.
 */
export function onWasmKernelsOnly(): void {
  onEngineWasm();
  let nativeWas = true;
  before(() => {
    nativeWas = setNativeKernelsEnabled(false);
  });
  after(() => {
    setNativeKernelsEnabled(nativeWas);
  });
}

/**
 * For a describe that runs the engine's native kernels (call it inside the describe): starts the wasm backend with
 * them switched on. Where the addon is not built the describe is skipped, except in CI, where `genlab-engine-build`
 * (genlab's `npm run setup`) must have built it.
 */
export function onNativeKernels(): void {
  before(function () {
    if (fs.existsSync(nativeAddonPath())) return;
    if (process.env.CI)
      assert.fail(`the native kernels are not built (${nativeAddonPath()}): \`npx genlab-engine-build\` builds them`);
    this.skip();
  });
  onEngineWasm();
  let nativeWas = false;
  before(() => {
    nativeWas = setNativeKernelsEnabled(true);
  });
  after(() => {
    setNativeKernelsEnabled(nativeWas);
  });
}

/** The two ways the engine runs a kernel it replaces: its wasm (JavaScript) kernel, and natively where built. */
export const KERNEL_PATHS = [
  { name: "the engine's wasm kernels", setup: onWasmKernelsOnly, native: false },
  { name: 'the native kernels', setup: onNativeKernels, native: true },
] as const;

/** How many times `f` runs kernel `name` natively. */
export function nativeCallsIn(name: string, f: () => void): number {
  const before = nativeCalls(name);
  f();
  return nativeCalls(name) - before;
}
