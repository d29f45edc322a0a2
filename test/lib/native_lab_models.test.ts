/**
 * genlab on the engine's native kernels (genlab-engine, packages/engine/src/native/): init's line names them, and every
 * lab model trains the same few steps with and without them. The kernels themselves are tested against the cpu
 * backend in packages/engine/test/native.test.ts.
 *
 * Where the addon is not built the tests are skipped, except in CI, where `npm run setup` must have built it.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { nativeAddonPath, setNativeKernelsEnabled } from 'genlab-engine';
import { backendInfo, init } from '../../lib/backend';
import { LAB_MODELS } from '../lab_models';

function requireAddon(context: Mocha.Context): void {
  if (fs.existsSync(nativeAddonPath())) return;
  if (process.env.CI)
    assert.fail(`the native kernels are not built (${nativeAddonPath()}): \`npm run setup\` builds them`);
  context.skip();
}

describe("init's line and the native kernels", function () {
  this.timeout(120000);

  it("names them, with oneDNN's version and threads", async function () {
    requireAddon(this);
    await init({ backend: 'wasm', quiet: true });
    assert.match(backendInfo()!.line, /backend wasm \(.*\) \+ native kernels \(oneDNN \d+\.\d+\.\d+, \d+ threads?\)/);
    await init({ quiet: true });
  });

  it('with GENLAB_NATIVE=0, says nothing of them', () => {
    const lib = path.join(__dirname, '..', '..', 'lib', 'index.js');
    const r = spawnSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(lib)}).init({ backend: 'wasm', quiet: true }).then((i) => console.log(i.line))`],
      { encoding: 'utf8', env: { ...process.env, GENLAB_NATIVE: '0' }, timeout: 60000 },
    );
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /genlab: backend wasm \(/);
    assert.doesNotMatch(r.stdout, /native/);
  });
});

describe('the lab models train the same with and without the native kernels', function () {
  this.timeout(300000);
  before(async function () {
    requireAddon(this);
    await init({ backend: 'wasm', quiet: true });
  });
  after(() => {
    setNativeKernelsEnabled(true);
    return init({ quiet: true });
  });

  /** The losses of `steps` steps from the same start, with the native kernels on or off. */
  function lossCurve(
    native: boolean,
    steps: number,
    build: () => { step: (i: number) => number; dispose: () => void },
  ): number[] {
    setNativeKernelsEnabled(native);
    const run = build();
    try {
      return Array.from({ length: steps }, (_, i) => run.step(i));
    } finally {
      run.dispose();
      setNativeKernelsEnabled(true);
    }
  }

  // Float tolerance: the kernels sum in other orders, so a step's numbers differ in their last bits (the first
  // step's loss agrees to 1e-5), and training carries that on. The GAN's game amplifies it most, about 3× a step
  // here (Adam scales each tiny gradient to a full step): it is allowed 1e-2 by the fifth step where the others
  // hold 1e-4.
  for (const [name, build] of Object.entries(LAB_MODELS)) {
    const tolerance = name.includes('GAN') ? 1e-2 : 1e-4;
    it(`${name}: the same loss curve over 5 steps (to ${tolerance})`, () => {
      const on = lossCurve(true, 5, build);
      const off = lossCurve(false, 5, build);
      assert.ok(on.every(Number.isFinite), `losses ${on}`);
      const close = (i: number, tol: number) => Math.abs(on[i] - off[i]) <= tol * Math.max(1, Math.abs(off[i]));
      assert.ok(close(0, 1e-5), `the first step: native ${on[0]}, wasm ${off[0]}`);
      for (let i = 0; i < on.length; i++) assert.ok(close(i, tolerance), `step ${i}: native ${on[i]}, wasm ${off[i]}`);
      assert.notStrictEqual(on[0], on[4], 'the model trains');
    });
  }
});
