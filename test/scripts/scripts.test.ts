import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
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
      path.join(ROOT, 'jupyter', 'kernel.js'),
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
    assert.match(second.stdout, /setup: Python environment \S+ holds the pinned Jupyter already/);
    assert.match(second.stdout, /setup: Jupyter: \S+\/bin\/jupyter \(JupyterLab 4\.\d+\.\d+, Notebook 7\.\d+\.\d+\)/);
  });

  it('setup says exactly what to run when pip cannot reach PyPI, and leaves an environment it can finish', function () {
    this.timeout(120000);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-venv-'));
    try {
      const venv = path.join(scratch, 'venv');
      // A closed port stands for a machine without PyPI: pip fails at once instead of retrying for minutes.
      const r = node('setup.js', [], {
        GENLAB_VENV: venv,
        PIP_INDEX_URL: 'http://127.0.0.1:9/simple',
        PIP_RETRIES: '0',
        PIP_TIMEOUT: '1',
      });
      assert.strictEqual(r.status, 1, r.stdout + r.stderr);
      const said =
        /setup: pip could not install Jupyter into (\S+)\/ \(PyPI could not be reached[^)]*\)\. It needs PyPI \(or a mirror: PIP_INDEX_URL\); once reachable, run `npm run setup` again, or yourself: `(\S+) (-m pip install -r jupyter\/requirements\.txt -c jupyter\/constraints\.txt)`\./.exec(
          r.stdout,
        );
      assert.ok(said, r.stdout);
      assert.strictEqual(path.resolve(ROOT, said[1]), venv);
      // The command it gives is one that runs: its Python is the environment's (made, with pip), and its files exist.
      assert.strictEqual(path.resolve(ROOT, said[2]), path.join(venv, 'bin', 'python'));
      assert.strictEqual(spawnSync(path.join(venv, 'bin', 'python'), ['-m', 'pip', '--version']).status, 0);
      for (const f of said[3].match(/jupyter\/\S+/g)!) assert.ok(fs.existsSync(path.join(ROOT, f)), f);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('start says what to do when Jupyter is missing', () => {
    const r = node('start.js', [], { GENLAB_JUPYTER: '/nonexistent/jupyter' });
    assert.strictEqual(r.status, 1);
    assert.strictEqual(
      r.stderr.trim(),
      "start: Jupyter is not installed in the project's Python environment: run `npm run setup`.",
    );
  });

  it('start opens JupyterLab at notebooks/, passing arguments through', () => {
    const r = node('start.js', ['--help']);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`start: jupyter lab --notebook-dir=${path.join(ROOT, 'notebooks')}`));
    assert.match(r.stdout, /JupyterLab/);
    const nb = node('start.js', ['--help'], { GENLAB_JUPYTER_APP: 'notebook' });
    assert.strictEqual(nb.status, 0, nb.stderr);
    assert.match(nb.stdout, /start: jupyter notebook --notebook-dir=/);
  });

  it('start --headless listens on loopback only, with no browser, token or password, in either app', () => {
    for (const app of ['lab', 'notebook'] as const) {
      assert.deepStrictEqual(jupyterArgs(app, ['--headless', '--port=9999'], false), [
        app,
        `--notebook-dir=${path.join(ROOT, 'notebooks')}`,
        `--ServerApp.extra_static_paths=${plotlyDir()}`,
        '--no-browser',
        '--ip=127.0.0.1',
        '--ServerApp.token=',
        '--ServerApp.password=',
        '--port=9999',
      ]);
    }
    const lab = jupyterArgs('lab', ['--headless'], true);
    assert.ok(lab.includes('--ServerApp.token=') && lab.includes('--allow-root') && !lab.includes('--headless'));
    assert.ok(
      !jupyterArgs('lab', [], false).some((a) => /token|--ip|no-browser/.test(a)),
      'without --headless, Jupyter asks for its token',
    );
  });

  it("start: the user's own notebook folder replaces notebooks/", () => {
    for (const own of ['--notebook-dir=/tmp/x', '--ServerApp.root_dir=/tmp/x']) {
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
      "start: GENLAB_JUPYTER_APP is 'vscode'; use 'lab' (JupyterLab, the default) or 'notebook' (Notebook 7).",
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
