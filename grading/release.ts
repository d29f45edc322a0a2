/**
 * The student version of an instructor's notebook.
 *
 * Solution regions become a stub that throws "not implemented: <what>" (markdown:
 * "YOUR ANSWER HERE"); hidden tests are removed; outputs and execution counts are
 * cleared. As nbgrader's own generate_assignment does (with its default settings), every
 * graded, solution or locked cell carries its nbgrader checksum and cell type, so edits can
 * be detected later, and the UI is told what the student may not change: locked and test
 * cells are neither editable nor deletable, solution cells not deletable. A test runs
 * nbgrader itself on the labs and finds the same notebook, the stubs' text aside
 * (test/grading/nbgrader_peer.test.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ANSWER_KEYS, isAnswerKey } from '../lib/answer_keys';
import { GenlabError } from '../lib/errors';
import { computeChecksum } from './checksum';
import { checkRegions, hasRegion, replaceRegions, solutionName } from './markers';
import {
  Cell,
  clone,
  gradeId,
  isAutoTest,
  isGrade,
  isLocked,
  isSolution,
  isTask,
  nbgraderOf,
  Notebook,
  readNotebook,
  sourceOf,
  toLines,
  withheldNames,
  writeNotebook,
} from './notebook';

/** The text that replaces a solution region in a code cell. */
export function solutionStub(indent: string, what: string): string {
  return `${indent}throw new Error('not implemented: ${what.replace(/'/g, "\\'")} (replace this line with your code)');`;
}

export const ANSWER_PLACEHOLDER = 'YOUR ANSWER HERE';

/** Checks the instructor's metadata and markers; returns the problems found (empty when sound). */
export function lintSource(nb: Notebook, name: string): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const withheld = withheldNames(nb);
  nb.cells.forEach((cell, i) => {
    const where = `${name}, cell ${i}${gradeId(cell) ? ` ('${gradeId(cell)}')` : ''}`;
    try {
      checkRegions(sourceOf(cell), where);
    } catch (err) {
      problems.push((err as Error).message);
    }
    // A region where nbgrader would not clear it would reach the students: nbgrader refuses these, and so does genlab.
    const source = sourceOf(cell);
    if (hasRegion(source, 'solution') && !isSolution(cell))
      problems.push(`${where} has a solution region but is not a solution cell: mark it as one (nbgrader.solution).`);
    if (hasRegion(source, 'hidden') && !isGrade(cell))
      problems.push(`${where} has a hidden-test region but is not a graded cell: mark it as one (nbgrader.grade).`);
    if (hasRegion(source, 'markScheme') && !isTask(cell))
      problems.push(`${where} has a mark-scheme region but is not a task cell: mark it as one (nbgrader.task).`);
    const meta = nbgraderOf(cell);
    if (!meta) return;
    // nbgrader's metadata rules (nbgraderformat v3): what its own generate_assignment refuses.
    if (isTask(cell) && cell.cell_type !== 'markdown') problems.push(`${where} is a task cell but not markdown.`);
    if (!isTask(cell) && cell.cell_type === 'markdown' && isGrade(cell) !== isSolution(cell))
      problems.push(
        `${where} is a markdown cell marked ${isGrade(cell) ? 'graded but not a solution' : 'a solution but not graded'}: a written answer is both.`,
      );
    const id = meta.grade_id;
    if (!id) problems.push(`${where} has nbgrader metadata without a grade_id.`);
    else if (seen.has(id)) problems.push(`${where} reuses grade_id '${id}' (first used by cell ${seen.get(id)}).`);
    else seen.set(id, i);
    if (meta.schema_version !== undefined && meta.schema_version !== 3)
      problems.push(`${where} has nbgrader schema_version ${meta.schema_version}; genlab reads 3.`);
    if (isGrade(cell) && !(typeof meta.points === 'number' && meta.points >= 0))
      problems.push(`${where} is graded but has no points.`);
    if (isAutoTest(cell) && hasRegion(sourceOf(cell), 'solution'))
      problems.push(`${where} is a test cell with a solution region.`);
    // A function the student writes that genlab also implements must be withheld, or the library is its answer.
    if (cell.cell_type === 'code' && isSolution(cell) && hasRegion(sourceOf(cell), 'solution')) {
      const asked = solutionName(sourceOf(cell), '');
      if (isAnswerKey(asked) && !withheld.includes(asked)) {
        problems.push(
          `${where} asks for \`${asked}\`, which genlab implements (${ANSWER_KEYS[asked]}), but the notebook does not withhold it: add "${asked}" to metadata.genlab.withheld.`,
        );
      }
    }
  });
  const declared = (nb.metadata.genlab as { withheld?: unknown } | undefined)?.withheld;
  if (declared !== undefined && !(Array.isArray(declared) && declared.every((n) => typeof n === 'string'))) {
    problems.push(`${name}: metadata.genlab.withheld must be a list of names, got ${JSON.stringify(declared)}.`);
  }
  for (const n of withheld) {
    if (!isAnswerKey(n))
      problems.push(
        `${name}: metadata.genlab.withheld names '${n}', which is not one of genlab's answer keys (${Object.keys(ANSWER_KEYS).join(', ')}).`,
      );
  }
  return problems;
}

/** The cell as nbgrader's generate_assignment leaves it, line for line (a final newline included), but for the stub's words. */
function releaseCell(cell: Cell): Cell {
  const out = clone(cell);
  let source = sourceOf(cell);
  if (isSolution(cell)) {
    const stub = (indent: string) =>
      cell.cell_type === 'code'
        ? solutionStub(indent, solutionName(source, gradeId(cell) ?? 'this cell'))
        : ANSWER_PLACEHOLDER;
    // A solution cell without a region is all solution, and becomes the stub as a whole (nbgrader's ClearSolutions).
    source = hasRegion(source, 'solution') ? replaceRegions(source, 'solution', stub) : stub('');
  }
  source = replaceRegions(source, 'hidden', () => undefined);
  source = replaceRegions(source, 'markScheme', () => undefined);
  out.source = toLines(source);
  if (out.cell_type === 'code') {
    out.outputs = [];
    out.execution_count = null;
  }
  if (isLocked(out) || isGrade(out) || isSolution(out)) {
    out.metadata.nbgrader = { ...nbgraderOf(out), schema_version: 3, cell_type: out.cell_type };
    out.metadata.nbgrader.checksum = computeChecksum(out);
    // nbgrader's LockCells: what the student must not change is locked in the UI as well.
    if (isLocked(out) || (isGrade(out) && !isSolution(out))) out.metadata.editable = false;
    out.metadata.deletable = false;
  }
  return out;
}

/** The student version of `source`. Throws a GenlabError listing every problem in the source. */
export function releaseNotebook(source: Notebook, name: string): Notebook {
  const problems = lintSource(source, name);
  if (problems.length > 0) throw new GenlabError(`${name} cannot be released:\n- ${problems.join('\n- ')}`);
  const out = clone(source);
  out.cells = source.cells.map(releaseCell);
  return out;
}

/** The notebooks a path names: itself, or the numbered labs in a folder. */
export function notebooksIn(target: string): string[] {
  if (!fs.existsSync(target)) throw new GenlabError(`${target} does not exist.`);
  if (fs.statSync(target).isFile()) return [target];
  return fs
    .readdirSync(target)
    .filter((f) => f.endsWith('.ipynb') && !f.includes('.executed.') && !f.startsWith('.'))
    .sort()
    .map((f) => path.join(target, f));
}

/** `genlab-grade release <source notebook or folder> --out <dir>`: writes the student versions. */
export function releaseCommand(target: string, outDir: string): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  return notebooksIn(target).map((file) => {
    const released = releaseNotebook(readNotebook(file), path.basename(file));
    const dest = path.join(outDir, path.basename(file));
    writeNotebook(dest, released);
    return dest;
  });
}
