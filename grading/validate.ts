/**
 * `genlab-grade validate <source>`: the source must pass every test with its
 * solutions, with every cell the grader runs ending without an error (its answer keys
 * withheld, as in grading) and no flag; and its release must fail every graded test
 * without any other kind of breakage (a TypeScript compile error in the release
 * means a stub or a removed hidden test broke the code around it).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { summarizeError } from '../jupyter/cell_errors';
import { autograde, GradeOptions } from './autograde';
import { readNotebook, sourceOf, writeNotebook } from './notebook';
import { releaseNotebook } from './release';
import { notGradedReason } from './results';
import { topLevelDeclarations } from './shadowing';

/** `text` ending in one full stop, as a sentence inside a message. */
const sentence = (text: string) => `${text.replace(/[.\s]+$/, '')}.`;

export interface Validation {
  ok: boolean;
  messages: string[];
}

/**
 * The compile errors in an executed notebook's cells, as 'cell N: message' (N counts the
 * assembled cells). A cell that failed keeps none of its declarations, so a later
 * "Cannot find name" for one of them is the failure's echo, not a compile error of its own.
 */
function compileErrors(executedPath: string): string[] {
  if (!fs.existsSync(executedPath)) return [];
  const nb = readNotebook(executedPath);
  const found: string[] = [];
  const lost = new Set<string>();
  nb.cells.forEach((cell, i) => {
    const stderr = (cell.outputs ?? [])
      .map((o) => o as { name?: string; text?: string | string[] })
      .filter((o) => o.name === 'stderr')
      .map((o) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? '')))
      .join('');
    const e = summarizeError(stderr);
    if (!e) return;
    if (e.ename === 'TypeScriptError') {
      const own = e.evalue.split('; ').filter((m) => !lost.has(/Cannot find name '([\w$]+)'/.exec(m)?.[1] ?? ''));
      if (own.length) found.push(`cell ${i - 1}: ${own.join('; ')}`);
    }
    if (cell.cell_type === 'code') for (const n of topLevelDeclarations(sourceOf(cell))) lost.add(n);
  });
  return found;
}

export async function validate(sourcePath: string, options: Partial<GradeOptions> = {}): Promise<Validation> {
  const messages: string[] = [];
  const name = path.basename(sourcePath);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-validate-'));
  try {
    // The source and its release are graded side by side: each kernel runs on one core, as in a batch.
    const releasePath = path.join(work, name);
    writeNotebook(releasePath, releaseNotebook(readNotebook(sourcePath), name));
    const [asSource, asRelease] = await Promise.all([
      autograde(sourcePath, { ...options, source: sourcePath, out: path.join(work, 'source'), feedback: false }),
      autograde(releasePath, { ...options, source: sourcePath, out: path.join(work, 'release'), feedback: false }),
    ]);
    const notGraded = notGradedReason(asSource);
    if (notGraded)
      return { ok: false, messages: [`${name}: not validated: ${sentence(notGraded)} Validate it again.`] };
    const failed = asSource.tests.filter((t) => t.status !== 'passed');
    if (asSource.tests.length === 0) messages.push(`${name} has no graded tests.`);
    for (const t of failed) messages.push(`${name}: with the solutions, test '${t.name}' fails: ${t.output}`);
    for (const p of (asSource.extra_data.problems as string[]) ?? []) messages.push(`${name}: ${p}`);
    for (const f of (asSource.extra_data.flags as string[]) ?? []) messages.push(`${name}: with the solutions, ${f}`);
    // Every cell the grader runs must work with the lab's answer keys withheld: a lab
    // cell before a test that needs one would fail in every submission.
    for (const e of (asSource.extra_data.failed_cells as string[]) ?? [])
      messages.push(`${name}: with the solutions, a cell the grader runs fails: ${e}`);

    const releaseNotGraded = notGradedReason(asRelease);
    if (releaseNotGraded)
      return {
        ok: false,
        messages: [`${name}: the student version was not validated: ${sentence(releaseNotGraded)} Validate it again.`],
      };
    for (const t of asRelease.tests.filter((t) => t.status === 'passed'))
      messages.push(
        `${name}: the student version passes test '${t.name}' without any work; the test checks nothing the student writes.`,
      );
    for (const e of compileErrors(path.join(work, 'release', 'executed.ipynb')))
      messages.push(`${name}: the student version does not compile: ${e}`);
    const summary = `${name}: solutions pass ${asSource.tests.length - failed.length}/${asSource.tests.length} tests; the release fails ${asRelease.tests.filter((t) => t.status === 'failed').length}/${asRelease.tests.length} (${asSource.execution_time} s + ${asRelease.execution_time} s).`;
    return { ok: messages.length === 0, messages: [summary, ...messages] };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
