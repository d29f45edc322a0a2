/**
 * `genlab-grade autograde <submission.ipynb> --source <source.ipynb> --out <dir>`.
 *
 * Grades one submission in a fresh kernel inside the sandbox and writes
 * results.json (Gradescope's format), feedback.html (each test's outcome in words,
 * no hidden test code, no student output) and executed.ipynb (for the instructor).
 * Whatever the submission is — malformed, empty, hostile — it ends with a
 * results.json giving the points actually earned; the submitted file is only read.
 */
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { summarizeError } from '../jupyter/cell_errors';
import { jupyterPython, KERNEL_NAME, kernelSpecInstalled, projectRoot } from '../jupyter/environment';
import { assemble, Assembly } from './assemble';
import { writeFeedback } from './feedback';
import { Cell, gradeId, isAutoTest, NbgraderMeta, Notebook, NotebookError, readNotebook, parseNotebook, sourceOf, toLines, writeNotebook } from './notebook';
import { Results, TestResult } from './results';
import { describeSandbox, detectSandbox, projectMounts, sandboxed, SandboxKind } from './sandbox';
import { PROTECTED_GLOBALS, shadowedNames, topLevelDeclarations } from './shadowing';

export interface GradeOptions {
  /** The instructor's source notebook (solutions and hidden tests). */
  source: string;
  out: string;
  /** Seconds a cell may run unless its metadata (genlab.timeout) says otherwise (default 60). */
  cellTimeoutS?: number;
  /** Seconds the whole submission may run (default 600). */
  totalTimeoutS?: number;
  /** Memory for the sandbox, MiB (default 4096). */
  memoryMiB?: number;
  /** Output kept per cell, bytes (default 100,000). */
  outputCapBytes?: number;
  /** GENLAB_PROFILE for the kernel (default 'smoke': grading checks the code, not the training). */
  profile?: 'smoke' | 'full';
  /** Force a sandbox kind ('none' only for trusted notebooks). */
  sandbox?: SandboxKind;
  /** Write feedback.html (default true). */
  feedback?: boolean;
}

export interface CellOutcome {
  index: number;
  status: 'ok' | 'error' | 'timeout' | 'died' | 'not-run' | 'skipped';
  seconds: number;
  stderr?: string;
  stdout?: string;
  reason?: string;
}

const PRELUDE = "void require('genlab/dist/grading/lockdown').lockdown();";

/** Reads the submission; a file that is not a notebook becomes a problem, not a crash. */
function readSubmission(file: string): { notebook?: Notebook; problem?: string } {
  try {
    const stat = fs.statSync(file);
    if (stat.size > 50 * 1024 * 1024) return { problem: `The submission is ${(stat.size / 2 ** 20).toFixed(0)} MiB, larger than the 50 MiB a notebook may be: clear its outputs and submit again.` };
    const notebook = parseNotebook(fs.readFileSync(file, 'utf8'), path.basename(file));
    if (notebook.cells.length === 0) return { problem: 'The submission has no cells: did you submit an empty notebook?' };
    return { notebook };
  } catch (err) {
    return { problem: err instanceof NotebookError ? err.message : `The submission cannot be read: ${(err as Error).message}` };
  }
}

/** Refuses to run student cells that redeclare names the tests use. */
function guardShadowing(assembly: Assembly): void {
  const protectedNames = new Set(PROTECTED_GLOBALS);
  assembly.notebook.cells.forEach((cell, i) => {
    if (assembly.origins[i] === 'instructor' && cell.cell_type === 'code') for (const n of topLevelDeclarations(sourceOf(cell))) protectedNames.add(n);
  });
  assembly.notebook.cells.forEach((cell, i) => {
    if (assembly.origins[i] === 'instructor' || cell.cell_type !== 'code') return;
    const names = shadowedNames(sourceOf(cell), protectedNames);
    if (names.length === 0) return;
    const which = gradeId(cell) ? `Cell '${gradeId(cell)}'` : `A cell you added (cell ${i})`;
    const message = `${which} was not run: it redeclares ${names.map((n) => `\`${n}\``).join(', ')}, which the assignment's own code uses; rename ${names.length > 1 ? 'them' : 'it'}.`;
    assembly.problems.push(message);
    cell.source = toLines(`throw new Error(${JSON.stringify(message)});`);
  });
}

/** Runs the assembled notebook in the sandbox; never rejects. */
async function execute(notebook: Notebook, options: Required<Pick<GradeOptions, 'cellTimeoutS' | 'totalTimeoutS' | 'memoryMiB' | 'outputCapBytes' | 'profile'>>, sandbox: SandboxKind, workDir: string): Promise<{ cells: CellOutcome[]; executed?: Notebook; failure?: string; log?: string }> {
  const root = projectRoot();
  const python = jupyterPython();
  if (!python) return { cells: [], failure: 'Jupyter is not installed on the grading machine (run `npm run setup`).' };
  if (!kernelSpecInstalled()) return { cells: [], failure: 'The "TypeScript (genlab)" kernel is not registered on the grading machine (run `npm run setup`).' };
  const { file, args } = sandboxed(sandbox, [python, path.join(root, 'grading', 'run_graded.py')], {
    workDir,
    readOnly: projectMounts(root),
    memoryBytes: options.memoryMiB * 2 ** 20,
    env: {
      JUPYTER_PATH: path.join(root, '.jupyter'),
      JUPYTER_RUNTIME_DIR: path.join(workDir, '.jupyter-runtime'),
      JUPYTER_DATA_DIR: path.join(workDir, '.jupyter-data'),
      JUPYTER_CONFIG_DIR: path.join(workDir, '.jupyter-config'),
      GENLAB_PROFILE: options.profile,
      GENLAB_OUTPUT_DIR: path.join(workDir, 'genlab-output'),
      NODE_OPTIONS: `--max-old-space-size=${Math.max(256, Math.floor(options.memoryMiB / 2))}`,
      // One wasm thread per kernel: batches already run a kernel per core, and a threaded
      // kernel starts a pool of 8 workers inside the memory limit. An explicit setting wins.
      GENLAB_WASM_THREADS: process.env.GENLAB_WASM_THREADS ?? '1',
      PYTHONDONTWRITEBYTECODE: '1',
    },
  });
  const request = JSON.stringify({ notebook, kernel: KERNEL_NAME, cell_timeout: options.cellTimeoutS, total_timeout: options.totalTimeoutS, output_cap: options.outputCapBytes, cwd: workDir });
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let killed = false;
    // A hard stop past the whole-submission limit, for a kernel that ignores interrupts.
    const timer = setTimeout(() => {
      killed = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, (options.totalTimeoutS + 60) * 1000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-20000)));
    child.stdin.on('error', () => undefined);
    child.stdin.end(request);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(last) as { cells: CellOutcome[]; executed: Notebook };
        resolve({ cells: parsed.cells, executed: parsed.executed, log: stderr });
      } catch {
        resolve({
          cells: [],
          failure: killed
            ? `The submission ran past the ${options.totalTimeoutS} s limit and was stopped.`
            : `The grader could not run the notebook (runner exit ${code}): ${stderr.trim().split('\n').slice(-5).join(' | ').slice(0, 1500)}`,
        });
      }
    });
  });
}

function testName(meta: NbgraderMeta): string {
  return meta.grade_id ?? 'test';
}

/** Why a test failed, in one sentence, from the grader's own view of the cell. */
function failureReason(outcome: CellOutcome | undefined, limitS: number, cellWhereDied: string | undefined): string {
  if (!outcome) return 'The test was not run.';
  switch (outcome.status) {
    case 'timeout':
      return `The test ran past its time limit of ${limitS} s and was interrupted (an infinite loop, or a very slow implementation?).`;
    case 'died':
      return 'The kernel died while running this test (process.exit(), a crash, or running out of memory).';
    case 'not-run':
      return outcome.reason === 'the kernel died in an earlier cell'
        ? `Not run: the kernel died earlier, in ${cellWhereDied ?? 'an earlier cell'} (process.exit(), a crash, or running out of memory).`
        : `Not run: ${outcome.reason ?? 'an earlier problem stopped the notebook'}.`;
    case 'error': {
      const e = summarizeError(outcome.stderr ?? '');
      return e ? `${e.ename}: ${e.evalue}` : (outcome.reason ?? 'The test raised an error.');
    }
    case 'ok':
      return 'The test did not run to completion (the grader never saw it finish), so it cannot be counted as passed.';
    default:
      return 'The test was not run.';
  }
}

/** Grades one submission; always resolves with results (and writes them to options.out). */
export async function autograde(submissionPath: string, options: GradeOptions): Promise<Results> {
  const started = Date.now();
  const opts = {
    cellTimeoutS: options.cellTimeoutS ?? 60,
    totalTimeoutS: options.totalTimeoutS ?? 600,
    memoryMiB: options.memoryMiB ?? 4096,
    outputCapBytes: options.outputCapBytes ?? 100_000,
    profile: options.profile ?? 'smoke',
  } as const;
  fs.mkdirSync(options.out, { recursive: true });
  const source = readNotebook(options.source); // the instructor's file: an error here is the instructor's to fix
  const sourceTests = source.cells.filter(isAutoTest).map((c) => c.metadata.nbgrader!);
  const sandbox = options.sandbox ?? detectSandbox();
  const submitted = readSubmission(submissionPath);

  const problems: string[] = [];
  let assembly: Assembly | undefined;
  let run: Awaited<ReturnType<typeof execute>> | undefined;
  let tokens = new Map<number, string>();
  if (submitted.problem) problems.push(submitted.problem);
  else {
    assembly = assemble(source, submitted.notebook!);
    guardShadowing(assembly);
    problems.push(...assembly.problems);
    // The prelude runs first; each test cell ends by reporting its fresh token.
    const cells: Cell[] = [{ cell_type: 'code', id: 'genlab-grader-prelude', metadata: {}, source: PRELUDE, outputs: [], execution_count: null }, ...assembly.notebook.cells];
    tokens = new Map(assembly.tests.map((t) => [t.cell + 1, `genlab-pass-${randomBytes(16).toString('hex')}`]));
    for (const [index, token] of tokens) cells[index] = { ...cells[index], source: `${sourceOf(cells[index])}\n;(globalThis as any).__genlab_grader.pass(${JSON.stringify(token)});\n` };
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-grade-'));
    // The kernel runs in this empty folder; `genlab` (and its types) resolve through this link.
    fs.symlinkSync(path.join(projectRoot(), 'node_modules'), path.join(workDir, 'node_modules'));
    try {
      run = await execute({ ...assembly.notebook, cells }, opts, sandbox, workDir);
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
    if (run.failure) problems.push(run.failure);
    const prelude = run.cells[0];
    if (prelude && prelude.status !== 'ok') problems.push(`The grader's setup cell failed (${failureReason(prelude, opts.cellTimeoutS, undefined)}); no test could be trusted.`);
  }

  const preludeOk = run?.cells[0]?.status === 'ok';
  const diedAt = run?.cells.find((c) => c.status === 'died');
  const diedWhere = diedAt && assembly ? (gradeId(assembly.notebook.cells[diedAt.index - 1]) ? `cell '${gradeId(assembly.notebook.cells[diedAt.index - 1])}'` : `cell ${diedAt.index - 1}`) : undefined;
  // tslab keeps no declaration from a cell that failed; name the cell when a test then misses one.
  const failedDeclarations = new Map<string, string>();
  assembly?.notebook.cells.forEach((cell, i) => {
    const outcome = run?.cells[i + 1];
    if (cell.cell_type !== 'code' || !outcome || !['error', 'timeout'].includes(outcome.status)) return;
    const where = gradeId(cell) ? `cell '${gradeId(cell)}'` : `cell ${i}`;
    for (const name of topLevelDeclarations(sourceOf(cell))) failedDeclarations.set(name, `${where} ${outcome.status === 'timeout' ? 'ran past its time limit' : 'failed'}`);
  });
  const explainMissing = (reason: string) => {
    const missing = [...reason.matchAll(/Cannot find name '([\w$]+)'/g)].map((m) => m[1]).find((n) => failedDeclarations.has(n));
    return missing ? `${reason} (\`${missing}\` is missing because ${failedDeclarations.get(missing)}, and a cell that does not finish defines nothing.)` : reason;
  };
  const tests: TestResult[] = sourceTests.map((meta, i) => {
    const test = assembly?.tests.find((t) => t.gradeId === meta.grade_id);
    const outcome = test && run ? run.cells[test.cell + 1] : undefined;
    const token = test ? tokens.get(test.cell + 1) : undefined;
    const passed = Boolean(preludeOk && outcome?.status === 'ok' && token && (outcome.stdout ?? '').includes(token));
    const maxScore = Number(meta.points ?? 0);
    const cellLimit = (assembly?.notebook.cells[test?.cell ?? 0]?.metadata.genlab?.timeout as number | undefined) ?? opts.cellTimeoutS;
    return {
      name: testName(meta),
      number: String(i + 1),
      score: passed ? maxScore : 0,
      max_score: maxScore,
      status: passed ? 'passed' : 'failed',
      output: passed ? 'Passed.' : submitted.problem ? `Not graded: ${submitted.problem}` : run?.failure && !outcome ? `Not graded: ${run.failure}` : explainMissing(failureReason(outcome, cellLimit, diedWhere)),
      output_format: 'text',
      visibility: 'visible',
      tags: test?.hidden ? ['hidden-tests'] : [],
    };
  });
  const score = tests.reduce((s, t) => s + t.score, 0);
  const maxScore = tests.reduce((s, t) => s + t.max_score, 0);
  const manual = assembly?.manual ?? source.cells.filter((c) => c.metadata.nbgrader?.grade && c.metadata.nbgrader?.solution).map((c) => ({ gradeId: c.metadata.nbgrader!.grade_id!, points: Number(c.metadata.nbgrader!.points ?? 0) }));
  const lines = [
    `Score: ${score} / ${maxScore} points from ${tests.length} automatic tests (${tests.filter((t) => t.status === 'passed').length} passed).`,
    ...(manual.length ? [`${manual.length} written answer${manual.length > 1 ? 's' : ''} (${manual.reduce((s, m) => s + m.points, 0)} points) will be graded by hand.`] : []),
    ...problems.map((p) => `Problem: ${p}`),
  ];
  const results: Results = {
    score,
    max_score: maxScore,
    execution_time: Math.round((Date.now() - started) / 100) / 10,
    output: lines.join('\n'),
    output_format: 'text',
    visibility: 'visible',
    stdout_visibility: 'hidden',
    tests,
    extra_data: { sandbox: describeSandbox(sandbox), profile: opts.profile, problems, manual, submission: path.basename(submissionPath) },
  };
  fs.writeFileSync(path.join(options.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (run?.executed) {
    // Tokens are per-run secrets; strip them from what is kept.
    const executed = JSON.parse(JSON.stringify(run.executed).replace(/genlab-pass-[0-9a-f]{32}/g, 'genlab-pass-<token>')) as Notebook;
    writeNotebook(path.join(options.out, 'executed.ipynb'), executed);
  }
  // The runner's and kernel's own messages, for an instructor looking into a strange result.
  if (run?.log) fs.writeFileSync(path.join(options.out, 'grader-log.txt'), run.log);
  if (options.feedback !== false) await writeFeedback(options.out, source, assembly, results);
  return results;
}
