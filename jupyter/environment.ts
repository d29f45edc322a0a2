/**
 * Where Jupyter and the project's kernel are: shared by setup, start, the
 * notebook runner and the grader.
 *
 * Jupyter itself is the project's own virtual environment's (`.venv/`, python_env.ts). The kernelspec
 * lives in a project-local Jupyter data folder (`.jupyter/`, git-ignored) and points at this project's own
 * Node and tslab, so nothing global is assumed; every Jupyter process we start gets that folder on JUPYTER_PATH.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { which } from './prerequisites';
import { projectRoot } from './project_root';
import { venvJupyter } from './python_env';

// The project's root is found in its own module (python_env.ts, which this file imports, needs it too).
export { projectRoot };

export const KERNEL_NAME = 'genlab';
export const KERNEL_DISPLAY_NAME = 'TypeScript (genlab)';

/** The project-local Jupyter data folder holding `kernels/genlab/kernel.json`. */
export function jupyterDataDir(): string {
  return path.join(projectRoot(), '.jupyter');
}

export function kernelSpecPath(): string {
  return path.join(jupyterDataDir(), 'kernels', KERNEL_NAME, 'kernel.json');
}

/** The environment for Jupyter processes: the project's data folder first on JUPYTER_PATH. */
export function jupyterEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const existing = process.env.JUPYTER_PATH;
  return {
    ...process.env,
    JUPYTER_PATH: existing ? `${jupyterDataDir()}${path.delimiter}${existing}` : jupyterDataDir(),
    ...extra,
  };
}

/**
 * The `jupyter` command: the project's own environment's (`npm run setup` makes it, jupyter/python_env.ts), or
 * the one GENLAB_JUPYTER names. Never one found on PATH: the course, its runner and its grader are tested with
 * the pinned set, and a Jupyter of another age renders, trusts and runs notebooks differently.
 */
export function findJupyter(): string | undefined {
  // An explicit GENLAB_JUPYTER wins, and names no Jupyter at all if it does not exist.
  const chosen = process.env.GENLAB_JUPYTER ?? venvJupyter();
  return fs.existsSync(chosen) ? chosen : undefined;
}

/**
 * The Python interpreter that runs `jupyter` (read from its shebang), which is the
 * one that has nbclient/nbconvert: `python3` on PATH may be another.
 */
export function jupyterPython(jupyter = findJupyter()): string | undefined {
  if (process.env.GENLAB_PYTHON) return process.env.GENLAB_PYTHON;
  if (!jupyter) return undefined;
  try {
    const first = fs.readFileSync(jupyter, 'utf8').split('\n', 1)[0];
    const match = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
    if (match) {
      // `#!/usr/bin/env python3` names the interpreter in its argument.
      if (path.basename(match[1]) === 'env' && match[2]) return which(match[2]) ?? match[2];
      return match[1];
    }
  } catch {
    /* a binary launcher: fall through */
  }
  return which('python3');
}

/** Whether `python` can import each module; returns the ones it cannot. */
export function missingPythonModules(python: string, modules: string[]): string[] {
  return modules.filter((m) => {
    try {
      execFileSync(python, ['-c', `import ${m}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

/** Whether the project kernelspec exists and points at an existing tslab. */
export function kernelSpecInstalled(): boolean {
  try {
    const spec = JSON.parse(fs.readFileSync(kernelSpecPath(), 'utf8')) as { argv: string[] };
    return spec.argv.slice(0, 2).every((p) => fs.existsSync(p));
  } catch {
    return false;
  }
}
