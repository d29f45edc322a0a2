/**
 * `npm start`: opens the course in JupyterLab (or the classic Notebook when Lab is
 * absent), rooted at notebooks/, with the project's kernel visible. Extra
 * arguments go to Jupyter: `npm start -- --no-browser --port 8899`.
 */
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { findJupyter, jupyterEnv, kernelSpecInstalled, projectRoot } from '../jupyter/environment';

function fail(message: string): never {
  console.error(`start: ${message}`);
  process.exit(1);
}

function hasSubcommand(jupyter: string, sub: string): boolean {
  return spawnSync(jupyter, [sub, '--version'], { stdio: 'ignore', env: jupyterEnv() }).status === 0;
}

function main(): void {
  const jupyter = findJupyter();
  if (!jupyter) fail('Jupyter is not installed: run `npm run setup` (Debian, as root) or `pip install jupyterlab`.');
  if (!kernelSpecInstalled()) fail('the "TypeScript (genlab)" kernel is not registered: run `npm run setup`.');
  const app = hasSubcommand(jupyter, 'lab') ? 'lab' : hasSubcommand(jupyter, 'notebook') ? 'notebook' : undefined;
  if (!app)
    fail(
      'neither JupyterLab nor the classic Notebook is installed: `pip install jupyterlab` or `apt-get install jupyter-notebook`.',
    );
  const args = [app, `--notebook-dir=${path.join(projectRoot(), 'notebooks')}`];
  if (process.getuid?.() === 0) args.push('--allow-root');
  args.push(...process.argv.slice(2));
  console.log(`start: jupyter ${args.join(' ')}`);
  const child = spawn(jupyter, args, { stdio: 'inherit', env: jupyterEnv() });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}

main();
