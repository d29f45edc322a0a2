/**
 * Threaded wasm in Node (src/wasm_threads.ts). The thread count is fixed when the
 * wasm module starts, once per process, so each case runs in a fresh Node process.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { startWasm } from '../src/wasm';
import { assertEngineErrorAsync, withEnv } from './helpers';

/** The engine as a program loads it (dist/src/index from dist/test/). */
const ENGINE = path.join(__dirname, '..', 'src', 'index');

/**
 * A conv layer's value and both gradients, on wasm with GENLAB_WASM_THREADS = threads and
 * on the cpu backend, in one child process; batch 16 at 28×28×32 is big enough that
 * XNNPACK splits the work across the pool.
 */
const CHILD = `
const { startWasm } = require(${JSON.stringify(ENGINE)});
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [${JSON.stringify(__dirname)}] }));
(async () => {
  const info = await startWasm();
  const run = () => tf.tidy(() => {
    const x = tf.randomNormal([16, 28, 28, 32], 0, 1, 'float32', 1);
    const w = tf.randomNormal([3, 3, 32, 32], 0, 1, 'float32', 2);
    const r = tf.randomNormal([16, 14, 14, 32], 0, 1, 'float32', 3);
    const f = (x, w) => tf.conv2d(x, w, 2, 'same').mul(r).sum();
    const [dx, dw] = tf.grads(f)([x, w]);
    return [f(x, w), dx, dw].map((t) => Array.from(t.dataSync()));
  });
  const onWasm = run();
  await tf.setBackend('cpu');
  const onCpu = run();
  let worst = 0;
  onWasm.forEach((a, i) => { const b = onCpu[i]; const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0); a.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - b[j]) / scale); }); });
  console.log(JSON.stringify({ threads: info.threads, simd: info.simd, worst }));
})();
`;

function runChild(threads: string): {
  status: number | null;
  ms: number;
  out?: { threads: number; simd: boolean; worst: number };
  stderr: string;
} {
  const start = Date.now();
  const child = spawnSync(process.execPath, ['-e', CHILD], {
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, GENLAB_WASM_THREADS: threads },
  });
  const last = child.stdout.trim().split('\n').pop();
  return {
    status: child.status,
    ms: Date.now() - start,
    out: last ? JSON.parse(last) : undefined,
    stderr: child.stderr,
  };
}

describe('wasm threads in Node', () => {
  it('starts the threaded build with 2 threads, computes what the cpu backend does, and lets the process exit', function () {
    if (os.cpus().length < 2) this.skip();
    const r = runChild('2');
    assert.strictEqual(r.status, 0, `the child did not exit cleanly (status ${r.status}): ${r.stderr}`);
    assert.strictEqual(r.out!.threads, 2);
    assert.strictEqual(r.out!.simd, true);
    assert.ok(r.out!.worst < 1e-5, `largest difference from cpu: ${r.out!.worst} of the largest entry`);
  });

  it('GENLAB_WASM_THREADS=1 starts the single-threaded build', () => {
    const r = runChild('1');
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(r.out!.threads, 1);
    assert.ok(r.out!.worst < 1e-5);
  });

  it('rejects a GENLAB_WASM_THREADS that is not a whole number ≥ 1 in a sentence', async () => {
    for (const bad of ['two', '0', '1.5']) {
      await withEnv({ GENLAB_WASM_THREADS: bad }, () =>
        assertEngineErrorAsync(
          () => startWasm(),
          new RegExp(`GENLAB_WASM_THREADS is '${bad.replace('.', '\\.')}'`),
          /whole number/,
        ),
      );
    }
  });
});
