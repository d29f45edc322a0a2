/**
 * `genlab-grade autograde <submission.ipynb> --source <source.ipynb> --out <dir>`.
 *
 * Grades one submission in a fresh kernel inside the sandbox and writes
 * results.json (Gradescope's format), feedback.html (each test's outcome in words,
 * no hidden test code, no student output) and executed.ipynb (for the instructor).
 * Whatever the submission is — malformed, empty, hostile — it ends with a
 * results.json giving the points actually earned; the submitted file is only read.
 *
 * Grading is a list of named stages, like nbgrader's converters; each is a small
 * function of one `Grading` record, and a teaching assistant can swap one by passing
 * another list to `autograde`:
 *
 *   assemble   read the submission and rebuild the notebook from the source (assemble.ts)
 *   lock down  refuse cells that shadow the tests' names; add the prelude (lockdown.ts), strict
 *              mode and name locks to the instructor's cells, the tokens and the withheld-call
 *              report; drop the cells after the last test
 *   execute    run it in the sandbox, on the redacted library, one cell at a time (runner.ts)
 *   score      a test passes only if its cell ended "ok" and its token came back
 *   explain    each failed test's reason in words, the submission's text kept plain; flags for the instructor
 *   write      results.json, executed.ipynb, grader-log.txt, feedback.html
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { summarizeError } from '../jupyter/cell_errors';
import { GenlabError } from '../lib/errors';
import { assemble, Assembly } from './assemble';
import { writeFeedback } from './feedback';
import {
  Cell,
  gradeId,
  isAutoTest,
  isGradedByHand,
  Notebook,
  NotebookError,
  parseNotebook,
  readNotebook,
  sourceOf,
  toLines,
  withheldNames,
  writeNotebook,
} from './notebook';
import { lintSource } from './release';
import { Results, TestResult } from './results';
import { chooseSandbox, CellOutcome, RunLimits, RunResult, runGraded, SandboxChoice } from './runner';
import { containment, describeSandbox, SandboxKind } from './sandbox';
import { PROTECTED_GLOBALS, shadowedNames, topLevelDeclarations } from './shadowing';

export interface GradeOptions {
  /** The instructor's source notebook (solutions and hidden tests). */
  source: string;
  out: string;
  /** Seconds a cell may run unless its metadata (genlab.timeout) says otherwise (default 60). */
  cellTimeoutS?: number;
  /** Seconds the whole submission may run (default 600). */
  totalTimeoutS?: number;
  /** Seconds a kernel may take to start and answer, per try (default 120; three tries). */
  startupTimeoutS?: number;
  /** Memory for the sandbox, MiB (default 4096). */
  memoryMiB?: number;
  /** Output kept per cell, bytes (default 100,000). */
  outputCapBytes?: number;
  /** GENLAB_PROFILE for the kernel (default 'smoke': grading checks the code, not the training). */
  profile?: 'smoke' | 'full';
  /** Force a sandbox kind ('none' only for trusted notebooks); it is still proven to work first. */
  sandbox?: SandboxKind;
  /** Write feedback.html (default true). */
  feedback?: boolean;
}

/** One submission on its way through the stages. */
export interface Grading {
  submissionPath: string;
  options: GradeOptions;
  limits: RunLimits;
  source: Notebook;
  /** The lab's name, from the source file ('03-vae'). */
  lab: string;
  /** The answer keys the source withholds. */
  withheld: string[];
  sandbox: SandboxChoice;
  started: number;
  /** Why the submission could not be read at all. */
  unreadable?: string;
  /** What was wrong with it, in words, for the student and the instructor. */
  problems: string[];
  /** Things an instructor should look at (a call to a withheld answer key). */
  flags: string[];
  assembly?: Assembly;
  /** The cells the kernel runs: the prelude, the assembled cells up to the last test, the report. */
  cells: Cell[];
  /** Each test cell's index in `cells`, with its fresh token. */
  tokens: Map<number, string>;
  reportToken: string;
  run?: RunResult;
  /** How often each withheld answer key was called; undefined when the report never came back. */
  withheldCalls?: Record<string, number>;
  tests: TestResult[];
  results?: Results;
}

export type Stage = (g: Grading) => void | Promise<void>;

const PRELUDE = (options: { lab: string; withheld: string[] }) =>
  `void require('genlab/dist/grading/lockdown').lockdown(${JSON.stringify(options)});`;
const codeCell = (id: string, source: string): Cell => ({
  cell_type: 'code',
  id,
  metadata: {},
  source,
  outputs: [],
  execution_count: null,
});

/** Reads the submission and rebuilds the notebook to run from the source. */
export function assembleStage(g: Grading): void {
  try {
    const stat = fs.statSync(g.submissionPath);
    if (stat.size > 50 * 1024 * 1024) {
      g.unreadable = `The submission is ${(stat.size / 2 ** 20).toFixed(0)} MiB, larger than the 50 MiB a notebook may be: clear its outputs and submit again.`;
      return;
    }
    const notebook = parseNotebook(fs.readFileSync(g.submissionPath, 'utf8'), path.basename(g.submissionPath));
    if (notebook.cells.length === 0) g.unreadable = 'The submission has no cells: did you submit an empty notebook?';
    else g.assembly = assemble(g.source, notebook);
  } catch (err) {
    g.unreadable =
      err instanceof NotebookError ? err.message : `The submission cannot be read: ${(err as Error).message}`;
  }
  if (g.unreadable) g.problems.push(g.unreadable);
  if (g.assembly) g.problems.push(...g.assembly.problems);
}

/** Refuses to run student cells that redeclare names the tests use. */
function guardShadowing(assembly: Assembly, problems: string[]): void {
  const protectedNames = new Set(PROTECTED_GLOBALS);
  assembly.notebook.cells.forEach((cell, i) => {
    if (assembly.origins[i] === 'instructor' && cell.cell_type === 'code')
      for (const n of topLevelDeclarations(sourceOf(cell))) protectedNames.add(n);
  });
  assembly.notebook.cells.forEach((cell, i) => {
    if (assembly.origins[i] === 'instructor' || cell.cell_type !== 'code') return;
    const names = shadowedNames(sourceOf(cell), protectedNames);
    if (names.length === 0) return;
    const which = gradeId(cell) ? `Cell '${gradeId(cell)}'` : `A cell you added (cell ${i})`;
    const message = `${which} was not run: it redeclares ${names.map((n) => `\`${n}\``).join(', ')}, which the assignment's own code uses; rename ${names.length > 1 ? 'them' : 'it'}.`;
    problems.push(message);
    cell.source = toLines(`throw new Error(${JSON.stringify(message)});`);
  });
}

/**
 * Adds the prelude (lockdown, withheld answer keys) before every other cell, a lock on the
 * names each instructor cell defines at its end (so that no student code rebinds them through
 * tslab's exports), a fresh token to the end of each test cell, and the report cell after the
 * last test. Cells after the last test are not run: nothing there can change a score.
 */
export function lockDownStage(g: Grading): void {
  if (!g.assembly) return;
  guardShadowing(g.assembly, g.problems);
  const lastTest = Math.max(-1, ...g.assembly.tests.map((t) => t.cell));
  const assembled = g.assembly.notebook.cells.slice(0, lastTest + 1);
  const cells = [codeCell('genlab-grader-prelude', PRELUDE({ lab: g.lab, withheld: g.withheld })), ...assembled];
  const append = (index: number, code: string) =>
    (cells[index] = { ...cells[index], source: `${sourceOf(cells[index])}\n;${code}\n` });
  assembled.forEach((cell, i) => {
    if (g.assembly!.origins[i] !== 'instructor' || cell.cell_type !== 'code') return;
    // Strict mode: a student function called from here cannot reach this cell's code through
    // `caller` or a stack frame's function (tslab runs cells in sloppy mode otherwise).
    cells[i + 1] = { ...cell, source: `'use strict';\n${sourceOf(cell)}` };
    const names = topLevelDeclarations(sourceOf(cell));
    if (names.length) append(i + 1, `(globalThis as any).__genlab_grader.lock(${JSON.stringify(names)});`);
  });
  g.tokens = new Map(g.assembly.tests.map((t) => [t.cell + 1, `genlab-pass-${randomBytes(16).toString('hex')}`]));
  for (const [index, token] of g.tokens)
    append(index, `(globalThis as any).__genlab_grader.pass(${JSON.stringify(token)});`);
  g.reportToken = `genlab-report-${randomBytes(16).toString('hex')}`;
  cells.push(
    codeCell('genlab-grader-report', `(globalThis as any).__genlab_grader.report(${JSON.stringify(g.reportToken)});`),
  );
  g.cells = cells;
}

export async function executeStage(g: Grading): Promise<void> {
  if (!g.assembly) return;
  g.run = await runGraded({ ...g.assembly.notebook, cells: g.cells }, g.limits, g.sandbox.kind);
  // A grader fault is reported as "not graded", not as a problem of the submission.
  if (g.run.failure && !g.run.graderFault) g.problems.push(g.run.failure);
  const prelude = g.run.cells[0];
  if (prelude && prelude.status !== 'ok')
    g.problems.push(
      `The grader's setup cell failed (${failureReason(prelude, g.limits.cellTimeoutS, undefined)}); no test could be trusted.`,
    );
}

/** A test passes only if the prelude ran, the cell ended "ok", and its token arrived. */
export function scoreStage(g: Grading): void {
  const preludeOk = g.run?.cells[0]?.status === 'ok';
  g.tests = g.source.cells.filter(isAutoTest).map((cell, i) => {
    const meta = cell.metadata.nbgrader!;
    const test = g.assembly?.tests.find((t) => t.gradeId === meta.grade_id);
    const outcome = test && g.run ? g.run.cells[test.cell + 1] : undefined;
    const token = test ? g.tokens.get(test.cell + 1) : undefined;
    const passed = Boolean(preludeOk && outcome?.status === 'ok' && token && (outcome.stdout ?? '').includes(token));
    const maxScore = Number(meta.points ?? 0);
    return {
      name: meta.grade_id ?? 'test',
      number: String(i + 1),
      score: passed ? maxScore : 0,
      max_score: maxScore,
      status: passed ? 'passed' : 'failed',
      output: passed ? 'Passed.' : '',
      output_format: 'text',
      visibility: 'visible',
      tags: test?.hidden ? ['hidden-tests'] : [],
    };
  });
  const report = g.run?.cells[g.cells.length - 1];
  const line = (report?.stdout ?? '').split('\n').find((l) => l.startsWith(`${g.reportToken} `));
  if (line) g.withheldCalls = JSON.parse(line.slice(g.reportToken.length + 1)) as Record<string, number>;
}

/**
 * `text` without terminal control sequences and other control characters (a submission's error
 * message could carry ANSI escapes to the instructor's terminal); newlines and tabs stay.
 */
export function plainText(text: string): string {
  return text
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?/g, '')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

/** Why a test failed, in one sentence, from the grader's own view of the cell. */
function failureReason(outcome: CellOutcome | undefined, limitS: number, death: KernelDeath | undefined): string {
  if (!outcome) return 'The test was not run.';
  switch (outcome.status) {
    case 'timeout':
      return `The test ran past its time limit of ${limitS} s and was interrupted (an infinite loop, or a very slow implementation?).`;
    case 'died':
      return `The kernel died while running this test${death?.after ? `, ${death.after}` : ''} (process.exit(), a crash, or running out of memory).`;
    case 'not-run':
      return outcome.reason === 'the kernel died in an earlier cell'
        ? `Not run: the kernel died earlier, in ${death ? [death.cell, death.after].filter(Boolean).join(', ') : 'an earlier cell'} (process.exit(), a crash, or running out of memory).`
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

const cellLimit = (cell: Cell | undefined, defaultS: number) =>
  (cell?.metadata.genlab?.timeout as number | undefined) ?? defaultS;
const cellName = (cell: Cell, index: number) =>
  gradeId(cell) ? `its cell '${gradeId(cell)}'` : `the cell you added (cell ${index})`;

/**
 * Why each name a failed or interrupted cell declared is missing, in words: tslab keeps
 * no declaration from a cell that does not finish, so a later test only sees the
 * compiler's "Cannot find name".
 */
function missingNames(g: Grading): Map<string, string> {
  const why = new Map<string, string>();
  g.assembly?.notebook.cells.forEach((cell, i) => {
    const outcome = g.run?.cells[i + 1];
    if (cell.cell_type !== 'code' || !outcome || !['error', 'timeout'].includes(outcome.status)) return;
    const error = summarizeError(outcome.stderr ?? '');
    const because =
      outcome.status === 'timeout'
        ? `${cellName(cell, i)} ran past the ${cellLimit(cell, g.limits.cellTimeoutS)}-s limit, and a cell that does not finish defines nothing`
        : `${cellName(cell, i)} failed${error ? ` (${error.ename}: ${error.evalue})` : ''}, and a cell that does not finish defines nothing`;
    for (const name of topLevelDeclarations(sourceOf(cell))) why.set(name, because);
  });
  return why;
}

/** Every cell the kernel ran that did not end "ok", in words, for the instructor. */
function failedCells(g: Grading): string[] {
  if (!g.assembly || !g.run) return [];
  return g.run.cells.slice(1, g.cells.length - 1).flatMap((outcome) => {
    if (!['error', 'timeout', 'died'].includes(outcome.status)) return [];
    const cell = g.assembly!.notebook.cells[outcome.index - 1];
    const error = summarizeError(outcome.stderr ?? '');
    const what =
      outcome.status === 'error'
        ? error
          ? `${error.ename}: ${error.evalue}`
          : (outcome.reason ?? 'an error')
        : outcome.status === 'timeout'
          ? 'ran past its time limit'
          : 'the kernel died';
    return [`cell ${outcome.index - 1}${gradeId(cell) ? ` ('${gradeId(cell)}')` : ''}: ${what}`];
  });
}

/** A cell of the run, by its grade id or its number, for the feedback: "cell 'square'" or "cell 4". */
function cellCalled(g: Grading, outcome: CellOutcome): string {
  const cell = g.assembly!.notebook.cells[outcome.index - 1];
  return cell && gradeId(cell) ? `cell '${gradeId(cell)}'` : `cell ${outcome.index - 1}`;
}

/** The cell the kernel died in, and (when the one before it was interrupted) that one. */
interface KernelDeath {
  cell: string;
  after?: string;
}

/**
 * Where the kernel died, in words. A kernel can outlive the interrupt of a cell that ran past its time limit by
 * a few seconds and then die in the next one (a cell filling the memory leaves the heap full, and a slow machine
 * takes longer to exhaust it): then the cell that was interrupted is named too, since it is the likelier cause.
 */
function whereTheKernelDied(g: Grading): KernelDeath | undefined {
  if (!g.run || !g.assembly) return undefined;
  const cells = g.run.cells;
  const died = cells.findIndex((c) => c.status === 'died');
  if (died < 0) return undefined;
  const before = [...cells.slice(0, died)].reverse().find((c) => c.status !== 'skipped');
  const interrupted = before?.status === 'timeout' && before.index > 0 ? cellCalled(g, before) : undefined;
  return {
    cell: cellCalled(g, cells[died]),
    after: interrupted && `just after ${interrupted} ran past its time limit`,
  };
}

/** Each failed test's reason, in words: not graded, the cell's error, or the names a failed cell left undefined. */
function explainFailedTests(g: Grading): void {
  const diedWhere = whereTheKernelDied(g);
  const missing = missingNames(g);
  for (const t of g.tests) {
    if (t.status === 'passed') continue;
    const test = g.assembly?.tests.find((a) => a.gradeId === t.name);
    const outcome = test && g.run ? g.run.cells[test.cell + 1] : undefined;
    if (g.unreadable) t.output = `Not graded: ${g.unreadable}`;
    else if (g.run?.graderFault)
      t.output = `Not graded: ${g.run.failure?.replace(/\.?$/, '.')} This is the grading machine's fault, not the submission's.`;
    else if (g.run?.failure && !outcome) t.output = `Not graded: ${g.run.failure}`;
    else {
      const reason = failureReason(
        outcome,
        cellLimit(test ? g.assembly!.notebook.cells[test.cell] : undefined, g.limits.cellTimeoutS),
        diedWhere,
      );
      const names = [...reason.matchAll(/Cannot find name '([\w$]+)'|\b([\w$]+) is not defined\b/g)]
        .map((m) => m[1] ?? m[2])
        .filter((n) => missing.has(n));
      const sentences = [...new Set(names)].map((n) => `\`${n}\` is not defined because ${missing.get(n)}.`);
      t.output = sentences.length ? `${sentences.join(' ')} (${reason})` : reason;
    }
  }
}

/** The instructor's flag for calls to the lab's withheld answer keys, or for a count that never came back. */
function flagWithheldCalls(g: Grading): void {
  const calls = Object.entries(g.withheldCalls ?? {}).filter(([, n]) => n > 0);
  if (calls.length) {
    g.flags.push(
      `The submission called genlab's own ${calls.map(([name, n]) => `\`${name}\` (${n} time${n > 1 ? 's' : ''})`).join(', ')}, which ${g.lab} withholds while it is graded: those calls failed and earned nothing.`,
    );
  } else if (g.withheld.length && g.run && !g.run.graderFault && !g.run.failure && g.withheldCalls === undefined) {
    g.flags.push(
      `The grader's count of calls to the functions ${g.lab} withholds did not come back (the kernel died or was stopped before its last cell), so such calls cannot be ruled out; they earned nothing either way.`,
    );
  }
}

/** Text from the submission (its error messages, its cells' names) reaches every report: keep it plain. */
function keepPlain(g: Grading): void {
  for (const t of g.tests) t.output = plainText(t.output);
  g.problems = g.problems.map(plainText);
  g.flags = g.flags.map(plainText);
}

/** The written answers and tasks graded by hand, from the assembly, or from the source when nothing was assembled. */
function manualAnswers(g: Grading): { gradeId: string; points: number }[] {
  return (
    g.assembly?.manual ??
    g.source.cells
      .filter(isGradedByHand)
      .map((c) => ({ gradeId: c.metadata.nbgrader!.grade_id!, points: Number(c.metadata.nbgrader!.points ?? 0) }))
  );
}

/** The summary's lines: not graded, the score, what is graded by hand, the sandbox's warnings, flags and problems. */
function summaryLines(
  g: Grading,
  score: number,
  maxScore: number,
  manual: { points: number }[],
  notGraded: string | undefined,
): string[] {
  return [
    ...(notGraded
      ? [
          `NOT GRADED: the grading machine failed before any of this submission's code ran (${notGraded}). The 0 below is not a grade: grade this submission again.`,
        ]
      : []),
    `Score: ${score} / ${maxScore} points from ${g.tests.length} automatic tests (${g.tests.filter((t) => t.status === 'passed').length} passed).`,
    ...(manual.length
      ? [
          `${manual.length} written answer${manual.length > 1 ? 's' : ''} (${manual.reduce((s, m) => s + m.points, 0)} points) will be graded by hand.`,
        ]
      : []),
    ...(g.sandbox.kind === 'none'
      ? [
          'Warning: this submission was graded WITHOUT a sandbox (install bubblewrap): its code could reach the network and every file the grader can.',
        ]
      : []),
    ...(g.sandbox.kind === 'unshare'
      ? ['Note: this submission was graded without file isolation (unshare; install bubblewrap for that).']
      : []),
    ...g.flags.map((f) => `Flag for the instructor: ${f}`),
    ...g.problems.map((p) => `Problem: ${p}`),
  ];
}

/** Puts each failed test's reason in words, the flags, and the results with their summary lines. */
export function explainStage(g: Grading): void {
  explainFailedTests(g);
  flagWithheldCalls(g);
  keepPlain(g);
  const score = g.tests.reduce((s, t) => s + t.score, 0);
  const maxScore = g.tests.reduce((s, t) => s + t.max_score, 0);
  const manual = manualAnswers(g);
  // The grading machine's own failure: the score then says nothing about the submission.
  const notGraded = g.run?.graderFault ? g.run.failure : undefined;
  g.results = {
    score,
    max_score: maxScore,
    execution_time: Math.round((Date.now() - g.started) / 100) / 10,
    output: summaryLines(g, score, maxScore, manual, notGraded).join('\n'),
    output_format: 'text',
    visibility: 'visible',
    stdout_visibility: 'hidden',
    tests: g.tests,
    extra_data: {
      sandbox: describeSandbox(g.sandbox.kind),
      sandbox_kind: g.sandbox.kind,
      not_contained: containment(g.sandbox.kind).notContained,
      sandboxes_passed_over: g.sandbox.passedOver,
      profile: g.limits.profile,
      withheld: g.withheld,
      withheld_calls: g.withheldCalls ?? null,
      flags: g.flags,
      problems: g.problems,
      failed_cells: failedCells(g),
      // Set when the score says nothing about the submission and it must be graded again.
      not_graded: notGraded ?? null,
      kernel_start_retries: g.run?.startupFailures ?? [],
      manual,
      submission: path.basename(g.submissionPath),
    },
  };
}

export async function writeStage(g: Grading): Promise<void> {
  const out = g.options.out;
  fs.writeFileSync(path.join(out, 'results.json'), `${JSON.stringify(g.results, null, 2)}\n`);
  if (g.run?.executed && g.assembly) {
    // The cells after the last test were not run; keep them, unexecuted, for the instructor.
    const executed = {
      ...g.run.executed,
      cells: [...g.run.executed.cells, ...g.assembly.notebook.cells.slice(g.cells.length - 2)],
    };
    // Tokens are per-run secrets; strip them from what is kept.
    const text = JSON.stringify(executed).replace(/genlab-(pass|report)-[0-9a-f]{32}/g, 'genlab-$1-<token>');
    writeNotebook(path.join(out, 'executed.ipynb'), JSON.parse(text) as Notebook);
  }
  // The runner's and kernel's own messages, for an instructor looking into a strange result.
  if (g.run?.log) fs.writeFileSync(path.join(out, 'grader-log.txt'), g.run.log);
  if (g.options.feedback !== false) await writeFeedback(out, g.source, g.assembly, g.results!);
}

export const STAGES: readonly { name: string; run: Stage }[] = [
  { name: 'assemble', run: assembleStage },
  { name: 'lock down', run: lockDownStage },
  { name: 'execute', run: executeStage },
  { name: 'score', run: scoreStage },
  { name: 'explain', run: explainStage },
  { name: 'write', run: writeStage },
];

/** Grades one submission; always resolves with results (and writes them to options.out). */
export async function autograde(
  submissionPath: string,
  options: GradeOptions,
  stages: readonly { name: string; run: Stage }[] = STAGES,
): Promise<Results> {
  fs.mkdirSync(options.out, { recursive: true });
  // The instructor's file: an error here is the instructor's to fix, and stops grading.
  const source = readNotebook(options.source);
  const lint = lintSource(source, path.basename(options.source));
  if (lint.length) throw new GenlabError(`${options.source} cannot be graded:\n- ${lint.join('\n- ')}`);
  const g: Grading = {
    submissionPath,
    options,
    limits: {
      cellTimeoutS: options.cellTimeoutS ?? 60,
      totalTimeoutS: options.totalTimeoutS ?? 600,
      startupTimeoutS: options.startupTimeoutS ?? 120,
      memoryMiB: options.memoryMiB ?? 4096,
      outputCapBytes: options.outputCapBytes ?? 100_000,
      profile: options.profile ?? 'smoke',
      withheld: withheldNames(source),
    },
    source,
    lab: path.basename(options.source).replace(/\.ipynb$/, ''),
    withheld: withheldNames(source),
    sandbox: await chooseSandbox(options.sandbox),
    started: Date.now(),
    problems: [],
    flags: [],
    cells: [],
    tokens: new Map(),
    reportToken: '',
    tests: [],
  };
  for (const stage of stages) await stage.run(g);
  return g.results!;
}
