/**
 * `npm start`: opens the course in JupyterLab (or the classic Notebook when Lab is
 * absent), rooted at notebooks/, with the project's kernel visible. Extra
 * arguments go to Jupyter: `npm start -- --port 8899`; a `--notebook-dir` of
 * yours replaces notebooks/. `GENLAB_JUPYTER_APP=notebook` (or `lab`) picks one.
 *
 * `npm start -- --headless` is for tests and scripted use: no browser, listening
 * on 127.0.0.1 only, no token or password (anyone on this machine could use it,
 * so it never listens beyond loopback). The option names differ between the
 * classic Notebook (`NotebookApp`) and JupyterLab (`ServerApp`); this file is the
 * one place that knows both.
 *
 * The server also serves plotly.js at `<base>static/plotly.min.js`: a chart whose page
 * lacks it (the output that carried it was replaced, then the notebook reopened)
 * loads it from there (lib/viz/plotly.ts).
 */
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { findJupyter, jupyterEnv, kernelSpecInstalled, projectRoot } from '../jupyter/environment';
import { plotlyDir } from '../lib/viz/plotly';

function fail(message: string): never {
  console.error(`start: ${message}`);
  process.exit(1);
}

function hasSubcommand(jupyter: string, sub: string): boolean {
  return spawnSync(jupyter, [sub, '--version'], { stdio: 'ignore', env: jupyterEnv() }).status === 0;
}

/** Jupyter's arguments for `app`, given the ones the user passed to `npm start`. */
export function jupyterArgs(app: 'lab' | 'notebook', userArgs: string[], isRoot: boolean): string[] {
  const headless = userArgs.includes('--headless');
  const rest = userArgs.filter((a) => a !== '--headless');
  const args: string[] = [app];
  const ownDir = rest.some((a) => /^--(notebook-dir|(NotebookApp|ServerApp)\.(notebook_dir|root_dir))(=|$)/.test(a));
  if (!ownDir) args.push(`--notebook-dir=${path.join(projectRoot(), 'notebooks')}`);
  if (isRoot) args.push('--allow-root');
  const server = app === 'lab' ? 'ServerApp' : 'NotebookApp';
  args.push(`--${server}.extra_static_paths=${plotlyDir()}`);
  if (headless) {
    args.push('--no-browser', '--ip=127.0.0.1', `--${server}.token=`, `--${server}.password=`);
  }
  return [...args, ...rest];
}

function main(): void {
  const jupyter = findJupyter();
  if (!jupyter) fail('Jupyter is not installed: run `npm run setup` (Debian, as root) or `pip install jupyterlab`.');
  if (!kernelSpecInstalled()) fail('the "TypeScript (genlab)" kernel is not registered: run `npm run setup`.');
  const wanted = process.env.GENLAB_JUPYTER_APP;
  if (wanted !== undefined && wanted !== 'lab' && wanted !== 'notebook')
    fail(
      `GENLAB_JUPYTER_APP is '${wanted}'; use 'lab' (JupyterLab) or 'notebook' (the classic Notebook), or unset it.`,
    );
  const candidates: ('lab' | 'notebook')[] = wanted ? [wanted] : ['lab', 'notebook'];
  const app = candidates.find((a) => hasSubcommand(jupyter, a));
  if (!app)
    fail(
      wanted
        ? `GENLAB_JUPYTER_APP asks for \`jupyter ${wanted}\`, which is not installed.`
        : 'neither JupyterLab nor the classic Notebook is installed: `pip install jupyterlab` or `apt-get install jupyter-notebook`.',
    );
  if (app === 'notebook' && !wanted)
    console.log(
      'start: JupyterLab is not installed, so the classic Notebook opens (`pip install jupyterlab` for Lab).',
    );
  const args = jupyterArgs(app, process.argv.slice(2), process.getuid?.() === 0);
  console.log(`start: jupyter ${args.join(' ')}`);
  const child = spawn(jupyter, args, { stdio: 'inherit', env: jupyterEnv() });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}

if (require.main === module) main();
