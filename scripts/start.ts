/**
 * `npm start`: opens the course in JupyterLab 4, rooted at notebooks/, with the project's kernel visible;
 * `GENLAB_JUPYTER_APP=notebook` opens Notebook 7 instead. Both come from the project's own Python environment
 * (`npm run setup` makes it: jupyter/python_env.ts). Extra arguments go to Jupyter: `npm start -- --port 8899`;
 * a `--notebook-dir` of yours replaces notebooks/.
 *
 * `npm start -- --headless` is for tests and scripted use: no browser, listening
 * on 127.0.0.1 only, no token or password (anyone on this machine could use it,
 * so it never listens beyond loopback). Both apps run on Jupyter Server, so the
 * server's options are `ServerApp`'s for either.
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

/** The two UIs: JupyterLab 4 and Notebook 7 (itself built on JupyterLab's components). */
export type JupyterApp = 'lab' | 'notebook';
export const APP_NAMES: Record<JupyterApp, string> = { lab: 'JupyterLab', notebook: 'Notebook 7' };

/** Jupyter's arguments for `app`, given the ones the user passed to `npm start`. */
export function jupyterArgs(app: JupyterApp, userArgs: string[], isRoot: boolean): string[] {
  const headless = userArgs.includes('--headless');
  const rest = userArgs.filter((a) => a !== '--headless');
  const args: string[] = [app];
  const ownDir = rest.some((a) => /^--(notebook-dir|ServerApp\.root_dir)(=|$)/.test(a));
  if (!ownDir) args.push(`--notebook-dir=${path.join(projectRoot(), 'notebooks')}`);
  if (isRoot) args.push('--allow-root');
  args.push(`--ServerApp.extra_static_paths=${plotlyDir()}`);
  if (headless) {
    args.push('--no-browser', '--ip=127.0.0.1', '--ServerApp.token=', '--ServerApp.password=');
  }
  return [...args, ...rest];
}

function main(): void {
  const jupyter = findJupyter();
  if (!jupyter) fail("Jupyter is not installed in the project's Python environment: run `npm run setup`.");
  if (!kernelSpecInstalled()) fail('the "TypeScript (genlab)" kernel is not registered: run `npm run setup`.');
  const wanted = process.env.GENLAB_JUPYTER_APP ?? 'lab';
  if (wanted !== 'lab' && wanted !== 'notebook')
    fail(`GENLAB_JUPYTER_APP is '${wanted}'; use 'lab' (JupyterLab, the default) or 'notebook' (Notebook 7).`);
  if (!hasSubcommand(jupyter, wanted))
    fail(
      `${APP_NAMES[wanted]} (\`jupyter ${wanted}\`) is not installed in ${jupyter}'s environment: run \`npm run setup\`.`,
    );
  const args = jupyterArgs(wanted, process.argv.slice(2), process.getuid?.() === 0);
  console.log(`start: jupyter ${args.join(' ')}`);
  const child = spawn(jupyter, args, { stdio: 'inherit', env: jupyterEnv() });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}

if (require.main === module) main();
