/**
 * Runs a notebook top to bottom with the project's kernel through Jupyter
 * (nbclient), in a chosen profile, and reports the failing cell's source and
 * error in words.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { summarizeError } from './cell_errors';
import { findJupyter, jupyterEnv, jupyterPython, KERNEL_NAME, kernelSpecInstalled, projectRoot } from './environment';

export interface RunOptions {
  /** GENLAB_PROFILE for the kernel (default 'smoke'). */
  profile?: 'smoke' | 'full';
  /** Where the executed notebook is written (default: next to the input, '.executed.ipynb'). */
  output?: string;
  /** Seconds one cell may run (default 600). */
  cellTimeoutS?: number;
  /** Extra environment for the kernel. */
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  ok: boolean;
  output: string;
  seconds: number;
  cell?: number;
  source?: string;
  ename?: string;
  evalue?: string;
  traceback?: string;
  kind?: string;
  message?: string;
}

export class NotebookFailure extends Error {
  constructor(
    readonly notebook: string,
    readonly result: RunResult,
  ) {
    super(describeFailure(notebook, result));
    this.name = 'NotebookFailure';
  }
}

export function describeFailure(notebook: string, r: RunResult): string {
  const where = r.cell === undefined ? '' : ` in cell ${r.cell}`;
  const what = r.ename ? `${r.ename}: ${r.evalue}` : (r.kind ?? 'error');
  const lines = [`${path.basename(notebook)} failed${where}: ${what}`];
  if (r.source) lines.push('--- cell source ---', r.source.trimEnd());
  if (r.traceback && r.traceback.trim() !== `${r.ename}: ${r.evalue}`)
    lines.push('--- error ---', r.traceback.trimEnd().slice(-3000));
  else if (!r.ename && r.message) lines.push('--- error ---', r.message.trimEnd().slice(-3000));
  lines.push(`(executed notebook: ${r.output})`);
  return lines.join('\n');
}

/** Executes `notebook`; resolves with the outcome (never rejects for a failing cell). */
export async function runNotebook(notebook: string, options: RunOptions = {}): Promise<RunResult> {
  const jupyter = findJupyter();
  const python = jupyterPython(jupyter);
  if (!jupyter || !python) throw new Error('Jupyter is not installed: run `npm run setup`.');
  if (!kernelSpecInstalled())
    throw new Error('The "TypeScript (genlab)" kernel is not registered: run `npm run setup`.');
  const output = options.output ?? notebook.replace(/\.ipynb$/, '.executed.ipynb');
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const script = path.join(projectRoot(), 'jupyter', 'run_notebook.py');
  // Full traces: this runner is for developers (tests, benchmarks), who want to see where a cell failed.
  const env = jupyterEnv({ GENLAB_PROFILE: options.profile ?? 'smoke', GENLAB_TRACEBACK: '1', ...options.env });
  const start = Date.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(python, [script, notebook, output, KERNEL_NAME, String(options.cellTimeoutS ?? 600)], {
        env,
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    },
  );
  const seconds = (Date.now() - start) / 1000;
  const last = stdout.trim().split('\n').pop() ?? '';
  let result: RunResult;
  try {
    result = { ...JSON.parse(last), output, seconds } as RunResult;
  } catch {
    return {
      ok: false,
      output,
      seconds,
      kind: `runner exited with ${code}`,
      message: `${stdout}\n${stderr}`.trim().slice(-4000),
    };
  }
  if (!result.ok && !result.ename && result.traceback !== undefined)
    Object.assign(result, summarizeError(result.traceback));
  return result;
}

/** Executes `notebook` and throws a NotebookFailure naming the failing cell. */
export async function executeNotebook(notebook: string, options: RunOptions = {}): Promise<RunResult> {
  const result = await runNotebook(notebook, options);
  if (!result.ok) throw new NotebookFailure(notebook, result);
  return result;
}
