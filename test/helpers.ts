/** Shared helpers for the tests. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GenlabError } from '../lib/errors';

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

/** Asserts `fn` throws a GenlabError whose message matches every pattern, and that it carries no stack trace. */
export function assertGenlabError(fn: () => unknown, ...patterns: RegExp[]): GenlabError {
  try {
    fn();
  } catch (err) {
    return checkGenlabError(err, patterns);
  }
  assert.fail('expected a GenlabError, but nothing was thrown');
}

export async function assertGenlabErrorAsync(fn: () => Promise<unknown>, ...patterns: RegExp[]): Promise<GenlabError> {
  try {
    await fn();
  } catch (err) {
    return checkGenlabError(err, patterns);
  }
  assert.fail('expected a GenlabError, but nothing was thrown');
}

function checkGenlabError(err: unknown, patterns: RegExp[]): GenlabError {
  assert.ok(err instanceof GenlabError, `expected a GenlabError, got ${(err as Error)?.stack ?? err}`);
  for (const p of patterns) assert.match(err.message, p);
  assert.ok(!/\n\s+at /.test(err.stack ?? ''), `a GenlabError's stack should be its sentence, got ${err.stack}`);
  return err;
}

/**
 * Every file below `dir` whose name and path `keep` accepts, walking into the folders `enter` accepts (all, unless
 * it says otherwise).
 */
export function filesBelow(
  dir: string,
  keep: (name: string, full: string) => boolean,
  enter: (name: string) => boolean = () => true,
): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return enter(e.name) ? filesBelow(full, keep, enter) : [];
    return keep(e.name, full) ? [full] : [];
  });
}

export function tempDir(prefix = 'genlab-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
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

/** Whether an optional package can be loaded here. */
export function hasPackage(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
