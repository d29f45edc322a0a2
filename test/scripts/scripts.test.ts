import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { kernelSpecPath, projectRoot } from '../../jupyter/environment';

const ROOT = projectRoot();
const node = (script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [path.join(ROOT, 'dist', 'scripts', script), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120000,
  });

describe('setup and start', () => {
  it('setup is idempotent and registers a kernel that runs this project’s Node and tslab', () => {
    const first = node('setup.js');
    assert.strictEqual(first.status, 0, first.stdout + first.stderr);
    const spec = fs.readFileSync(kernelSpecPath(), 'utf8');
    const second = node('setup.js');
    assert.strictEqual(second.status, 0, second.stdout + second.stderr);
    assert.strictEqual(fs.readFileSync(kernelSpecPath(), 'utf8'), spec);
    const parsed = JSON.parse(spec);
    assert.strictEqual(parsed.display_name, 'TypeScript (genlab)');
    assert.deepStrictEqual(parsed.argv, [
      process.execPath,
      path.join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab'),
      'kernel',
      '--config-path',
      '{connection_file}',
    ]);
    assert.match(second.stdout, /kernel "TypeScript \(genlab\)" \(genlab\) registered/);
    assert.doesNotMatch(second.stdout, /installing with apt/, 'nothing is reinstalled the second time');
  });

  it('setup says what to install when Jupyter is missing', () => {
    const r = node('setup.js', [], { GENLAB_JUPYTER: '/nonexistent/jupyter' });
    assert.strictEqual(r.status, 1);
    const packages =
      'python3 jupyter-core python3-jupyter-client python3-nbformat python3-nbclient python3-nbconvert jupyter-nbconvert jupyter-notebook';
    assert.ok(
      r.stdout.includes(`Jupyter is not installed: run \`sudo apt-get install ${packages}\``) ||
        r.stdout.includes('pip install jupyterlab'),
      r.stdout,
    );
  });

  it('start says what to do when Jupyter is missing', () => {
    const r = node('start.js', [], { GENLAB_JUPYTER: '/nonexistent/jupyter' });
    assert.strictEqual(r.status, 1);
    assert.strictEqual(
      r.stderr.trim(),
      'start: Jupyter is not installed: run `npm run setup` (Debian, as root) or `pip install jupyterlab`.',
    );
  });

  it('start opens JupyterLab or the classic Notebook at notebooks/, passing arguments through', () => {
    const r = node('start.js', ['--help']);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`start: jupyter (lab|notebook) --notebook-dir=${path.join(ROOT, 'notebooks')}`));
    assert.match(r.stdout, /notebook-dir|NotebookApp|ServerApp/);
  });
});
