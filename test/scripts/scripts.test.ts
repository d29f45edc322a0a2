import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { kernelSpecPath, projectRoot } from '../../jupyter/environment';
import { plotlyDir } from '../../lib/viz/plotly';
import { jupyterArgs } from '../../scripts/start';

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
    // The native kernels: built where the compiler and oneDNN are (CI must have them), then left alone.
    if (process.env.CI)
      assert.match(
        second.stdout,
        /setup: native kernels up to date \(.*packages\/engine\/native\/build\/Release\/genlab_native\.node\)/,
      );
    assert.doesNotMatch(second.stdout, /installing with apt/, 'nothing is reinstalled the second time');
  });

  it('setup says what to install when Jupyter is missing', () => {
    const r = node('setup.js', [], { GENLAB_JUPYTER: '/nonexistent/jupyter' });
    assert.strictEqual(r.status, 1);
    if (r.stdout.includes('pip install jupyterlab')) return; // not Debian: pip brings everything
    // On Debian: one apt-get line that names every package the course's Jupyter needs
    // (in whatever order setup lists them), then what to run after it.
    const line =
      /Jupyter is not installed: run `sudo apt-get install ([a-z0-9 .+-]+)` \(or `sudo npm run setup`\), then `npm run setup` again\./.exec(
        r.stdout,
      );
    assert.ok(line, r.stdout);
    const listed = new Set(line[1].split(' '));
    for (const pkg of [
      'python3',
      'jupyter-core',
      'python3-jupyter-client',
      'python3-nbformat',
      'python3-nbclient',
      'python3-traitlets',
      'python3-nbconvert',
      'jupyter-nbconvert',
      'jupyter-notebook',
    ])
      assert.ok(listed.has(pkg), `${pkg} is missing from: ${line[1]}`);
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

  it('start --headless listens on loopback only, with no browser, token or password, in either app', () => {
    const notebook = jupyterArgs('notebook', ['--headless', '--port=9999'], false);
    assert.deepStrictEqual(notebook, [
      'notebook',
      `--notebook-dir=${path.join(ROOT, 'notebooks')}`,
      `--NotebookApp.extra_static_paths=${plotlyDir()}`,
      '--no-browser',
      '--ip=127.0.0.1',
      '--NotebookApp.token=',
      '--NotebookApp.password=',
      '--port=9999',
    ]);
    const lab = jupyterArgs('lab', ['--headless'], true);
    assert.ok(lab.includes('--ServerApp.token=') && lab.includes('--allow-root') && !lab.includes('--headless'));
    assert.ok(
      !jupyterArgs('lab', [], false).some((a) => /token|--ip|no-browser/.test(a)),
      'without --headless, Jupyter asks for its token',
    );
  });

  it("start: the user's own notebook folder replaces notebooks/", () => {
    for (const own of ['--notebook-dir=/tmp/x', '--ServerApp.root_dir=/tmp/x', '--NotebookApp.notebook_dir=/tmp/x']) {
      const args = jupyterArgs('lab', [own], false);
      assert.ok(!args.some((a) => a.startsWith('--notebook-dir=') && a !== own), `${own}: ${args}`);
      assert.ok(args.includes(own));
    }
  });

  it('start refuses an unknown GENLAB_JUPYTER_APP in a sentence', () => {
    const r = node('start.js', [], { GENLAB_JUPYTER_APP: 'vscode' });
    assert.strictEqual(r.status, 1);
    assert.strictEqual(
      r.stderr.trim(),
      "start: GENLAB_JUPYTER_APP is 'vscode'; use 'lab' (JupyterLab) or 'notebook' (the classic Notebook), or unset it.",
    );
  });

  it('building the native kernels on a machine without a compiler says what to install and does not fail', () => {
    const builder = path.join(ROOT, 'packages', 'engine', 'dist', 'src', 'build_native.js');
    const r = spawnSync(process.execPath, [builder, '--force'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: '/nonexistent' },
      timeout: 60000,
    });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^genlab-engine: native kernels not built: missing a C\+\+ compiler \(Debian: g\+\+\), make; the wasm kernels run instead\.$/m,
    );
  });
});
