/**
 * The whole course on the webgpu backend (smoke profile, the real kernel): in CI, Dawn's OpenGL ES on Mesa's software
 * renderer, which checks that every lab's kernels and reads work there; a laptop's GPU runs the same code faster.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { joined } from '../../jupyter/notebook';
import { ARTIFACTS, LABS, NOTEBOOKS, outputsOf, ROOT, runOrFail } from './labs';

/** The backend a forced GENLAB_BACKEND=webgpu gets on this machine (in a child: the suite's own process stays on its backend). */
function webgpuHere(): { backend: string; fellBack?: string } {
  const script = `require(${JSON.stringify(path.join(ROOT, 'dist', 'lib'))}).init({ backend: 'webgpu', quiet: true }).then((i) => console.log(JSON.stringify({ backend: i.backend, fellBack: i.fellBack })))`;
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.trim().split('\n').pop()!) as { backend: string; fellBack?: string };
}

describe('notebooks on the webgpu backend (smoke profile, real kernel)', function () {
  this.timeout(15 * 60 * 1000);
  const artifacts = path.join(ARTIFACTS, 'webgpu');
  before(function () {
    const here = webgpuHere();
    if (here.backend === 'webgpu') return;
    if (process.env.CI) assert.fail(`${here.fellBack} (run \`npm run setup -- --for-tests\` as root on Debian)`);
    console.log(`    (skipped: ${here.fellBack})`);
    this.skip();
  });

  for (const file of LABS) {
    it(`${file} runs top to bottom on webgpu`, async () => {
      await runOrFail(path.join(NOTEBOOKS, file), { GENLAB_BACKEND: 'webgpu' }, artifacts);
      // It ran on webgpu itself, not on the wasm it falls back to.
      const text = outputsOf(path.join(artifacts, file))
        .map((o) => joined(o.text))
        .join('');
      assert.match(text, /genlab: backend webgpu \(@tensorflow\/tfjs-backend-webgpu on /);
      assert.doesNotMatch(text, /cannot start here/);
    });
  }
});
