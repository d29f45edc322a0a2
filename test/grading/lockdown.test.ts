/**
 * The grader's lockdown freezes the whole compiled library and the engine package beneath it
 * (genlab-engine), found from what `require('genlab')` loads: a module added to either is
 * covered without being listed anywhere. Run in a child process, since a lockdown cannot be undone.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { projectRoot } from '../../jupyter/environment';

const CHILD = `
const fs = require('fs'), path = require('path');
const added = path.join(path.dirname(require.resolve('genlab')), 'zz_added_by_lockdown_test.js');
fs.writeFileSync(added, "exports.newHelper = function newHelper() { return 'original'; };");
try {
  // A new module of the library, loaded as the library's index would load it.
  const mod = require(added);
  const losses = require('genlab').losses;
  require('genlab/dist/grading/lockdown').lockdown({ lab: 'test', withheld: [] });
  const attempt = (f) => { try { f(); } catch { /* refused loudly */ } };
  attempt(() => { mod.newHelper = () => 'replaced'; });
  attempt(() => { losses.klNormal = () => 'replaced'; });
  attempt(() => { delete mod.newHelper; });
  // The engine: its front door, and a module behind it reached by its path.
  const engine = require('genlab-engine');
  const addon = require(path.join(path.dirname(require.resolve('genlab-engine')), 'native', 'addon'));
  attempt(() => { engine.startWasm = async () => 'replaced'; });
  attempt(() => { addon.nativeEnabled = () => false; });
  attempt(() => { engine.setNativeKernelsEnabled = () => true; });
  attempt(() => { addon.OP = { conv2d: 99 }; });
  console.log(JSON.stringify({
    added: mod.newHelper(),
    klNormal: losses.klNormal.name,
    startWasm: engine.startWasm.name,
    nativeEnabled: addon.nativeEnabled.name,
    setNativeKernelsEnabled: engine.setNativeKernelsEnabled.name,
    conv2d: addon.OP.conv2d,
  }));
} finally {
  fs.unlinkSync(added);
}`;

describe('grading lockdown', () => {
  it('freezes every module of the library and of the engine, one added after the lockdown was written included', () => {
    const r = spawnSync(process.execPath, ['-e', CHILD], { cwd: projectRoot(), encoding: 'utf8', timeout: 60000 });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.deepStrictEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), {
      added: 'original',
      klNormal: 'klNormal',
      startWasm: 'startWasm',
      nativeEnabled: 'nativeEnabled',
      setNativeKernelsEnabled: 'setNativeKernelsEnabled',
      conv2d: 0,
    });
  });
});
