import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../lib/backend';
import { wasmThreadsWanted } from 'genlab-engine';
import { assertGenlabErrorAsync, hasPackage, withEnv } from '../helpers';

describe('init(): backend selection', () => {
  after(() => withEnv({ GENLAB_BACKEND: undefined }, () => init({ quiet: true })));

  it('picks the fastest backend present (wasm when no native TensorFlow is installed) and prints one line', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => lines.push(args.join(' '));
    let info;
    try {
      info = await withEnv({ GENLAB_BACKEND: undefined, GENLAB_SEED: undefined }, () => init());
    } finally {
      console.log = log;
    }
    const native = hasPackage('@tensorflow/tfjs-node') || hasPackage('@tensorflow/tfjs-node-gpu');
    if (!native) assert.strictEqual(info.backend, 'wasm');
    assert.strictEqual(tf.getBackend(), info.backend);
    assert.strictEqual(lines.length, 1, `expected one line, got ${JSON.stringify(lines)}`);
    const line = lines[0];
    for (const part of [
      `backend ${info.backend}`,
      `tfjs ${tf.version.tfjs}`,
      `node ${process.version}`,
      'profile ',
      'seed 0',
    ]) {
      assert.ok(line.includes(part), `'${line}' should mention '${part}'`);
    }
    const threads = wasmThreadsWanted();
    if (info.backend === 'wasm') assert.ok(line.includes(`SIMD, ${threads} thread${threads === 1 ? '' : 's'}`), line);
  });

  it('honours GENLAB_BACKEND and the seed', async () => {
    const info = await withEnv({ GENLAB_BACKEND: 'cpu' }, () => init({ quiet: true, seed: 7 }));
    assert.strictEqual(info.backend, 'cpu');
    assert.strictEqual(tf.getBackend(), 'cpu');
    assert.strictEqual(info.seed, 7);
    const wasm = await init({ backend: 'wasm', quiet: true });
    assert.strictEqual(wasm.backend, 'wasm');
  });

  it('rejects an unknown backend name with the list of valid ones', async () => {
    await withEnv({ GENLAB_BACKEND: 'webgl2' }, () =>
      assertGenlabErrorAsync(
        () => init({ quiet: true }),
        /GENLAB_BACKEND is 'webgl2'/,
        /tensorflow-gpu, webgpu, tensorflow-cpu, tensorflow, wasm, cpu/,
      ),
    );
  });

  it('says how to install a forced native backend that is absent', async function () {
    if (hasPackage('@tensorflow/tfjs-node')) this.skip();
    await assertGenlabErrorAsync(
      () => init({ backend: 'tensorflow-cpu', quiet: true }),
      /not available/,
      /npm install @tensorflow\/tfjs-node/,
    );
  });

  it('rejects a malformed GENLAB_SEED and GENLAB_PROFILE', async () => {
    await withEnv({ GENLAB_SEED: 'abc' }, () =>
      assertGenlabErrorAsync(() => init({ quiet: true }), /GENLAB_SEED is 'abc'/),
    );
    await withEnv({ GENLAB_PROFILE: 'fast' }, () =>
      assertGenlabErrorAsync(() => init({ quiet: true }), /GENLAB_PROFILE is 'fast'/, /'full'.*'smoke'/),
    );
  });
});
