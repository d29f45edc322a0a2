/**
 * The notebook that grading executes, assembled from the instructor's source and a
 * student's submission.
 *
 * Cells are matched by nbgrader grade_id. The student's version is used only for
 * solution cells (and for cells the student added); every locked cell — test cells
 * with their hidden tests restored, instructions, the setup code — comes from the
 * source, so editing, deleting, duplicating or reordering cells cannot change what
 * the tests are. Each such change is reported in words.
 */
import { computeChecksum } from './checksum';
import { hasRegion } from './markers';
import { releaseNotebook } from './release';
import {
  Cell,
  clone,
  gradeId,
  isAutoTest,
  isLocked,
  isGradedByHand,
  isSolution,
  nbgraderOf,
  Notebook,
  sourceOf,
} from './notebook';

export type CellOrigin = 'instructor' | 'student' | 'student-added' | 'restored-stub';

export interface GradedTest {
  gradeId: string;
  points: number;
  /** Index of the test cell in the assembled notebook. */
  cell: number;
  /** Whether the test has hidden parts (its code is never shown to students). */
  hidden: boolean;
}

export interface Assembly {
  notebook: Notebook;
  origins: CellOrigin[];
  tests: GradedTest[];
  /** Written answers graded by hand: listed, not scored here. */
  manual: { gradeId: string; points: number }[];
  /** What was wrong with the submission's structure, in words. */
  problems: string[];
}

/** Whether a submitted locked cell is the released one (or the source's own, for an instructor's notebook). */
function unchanged(submitted: Cell, released: Cell, original: Cell): boolean {
  const checksum = computeChecksum({
    ...submitted,
    metadata: { ...submitted.metadata, nbgrader: nbgraderOf(released) },
  });
  return (
    checksum === nbgraderOf(released)?.checksum ||
    checksum === computeChecksum({ ...original, metadata: { ...original.metadata, nbgrader: nbgraderOf(released) } })
  );
}

export function assemble(source: Notebook, submission: Notebook): Assembly {
  const released = releaseNotebook(source, 'the source notebook');
  const problems: string[] = [];
  const expectedKernel = source.metadata.kernelspec?.name;
  const submittedKernel = submission.metadata.kernelspec?.name;
  if (expectedKernel && submittedKernel && submittedKernel !== expectedKernel) {
    problems.push(
      `The notebook was saved with the '${submittedKernel}' kernel (${submission.metadata.kernelspec?.display_name ?? 'another language'}), not '${expectedKernel}': it was graded with ${source.metadata.kernelspec?.display_name ?? expectedKernel}.`,
    );
  }

  // The submission's cells by grade_id, and the cells the student added after each one.
  const byId = new Map<string, Cell[]>();
  const addedAfter = new Map<string | undefined, Cell[]>();
  const submittedOrder: string[] = [];
  let previous: string | undefined;
  for (const cell of submission.cells) {
    const id = gradeId(cell);
    if (id) {
      if (!byId.has(id)) submittedOrder.push(id);
      byId.set(id, [...(byId.get(id) ?? []), cell]);
      previous = id;
    } else if (cell.cell_type === 'code' && sourceOf(cell).trim() !== '') {
      addedAfter.set(previous, [...(addedAfter.get(previous) ?? []), cell]);
    }
  }
  const sourceIds = source.cells.map(gradeId).filter((id): id is string => Boolean(id));
  const known = submittedOrder.filter((id) => sourceIds.includes(id));
  const expectedOrder = sourceIds.filter((id) => known.includes(id));
  if (known.join('\n') !== expectedOrder.join('\n'))
    problems.push('Cells were moved out of their original order; they were graded in the original order.');
  for (const id of submittedOrder)
    if (!sourceIds.includes(id))
      problems.push(
        `The submission has a cell with grade_id '${id}', which the assignment does not have; it was ignored.`,
      );

  const cells: Cell[] = [];
  const origins: CellOrigin[] = [];
  const push = (cell: Cell, origin: CellOrigin) => {
    const c = clone(cell);
    if (origin === 'student-added') delete c.metadata.genlab;
    if (c.cell_type === 'code') {
      c.outputs = [];
      c.execution_count = null;
    }
    cells.push(c);
    origins.push(origin);
  };
  for (const cell of addedAfter.get(undefined) ?? []) push(cell, 'student-added');

  source.cells.forEach((cell, i) => {
    const id = gradeId(cell);
    if (!id) {
      push(cell, 'instructor');
      return;
    }
    const submitted = byId.get(id) ?? [];
    if (submitted.length > 1)
      problems.push(`Cell '${id}' appears ${submitted.length} times; the first copy was graded.`);
    if (isSolution(cell)) {
      if (submitted.length === 0) {
        problems.push(
          `Cell '${id}' was deleted; it was restored from the assignment, so what it should implement is missing.`,
        );
        push(released.cells[i], 'restored-stub');
      } else {
        const answer = clone(submitted[0]);
        // Grading settings (nbgrader's, and genlab's per-cell time limit) come from the source only.
        answer.metadata = { ...answer.metadata, nbgrader: nbgraderOf(cell), genlab: cell.metadata.genlab };
        answer.cell_type = cell.cell_type;
        push(answer, 'student');
      }
    } else {
      if (isLocked(cell)) {
        if (submitted.length === 0)
          problems.push(`Locked cell '${id}' was deleted; it was restored from the assignment.`);
        else if (!unchanged(submitted[0], released.cells[i], cell)) {
          problems.push(`Locked cell '${id}' was edited; the original was graded and your changes were ignored.`);
        }
      }
      push(cell, 'instructor');
    }
    for (const added of addedAfter.get(id) ?? []) push(added, 'student-added');
  });

  const notebook: Notebook = { ...clone(source), cells };
  const tests: GradedTest[] = [];
  const manual: Assembly['manual'] = [];
  cells.forEach((cell, index) => {
    const meta = nbgraderOf(cell);
    if (origins[index] === 'instructor' && isAutoTest(cell)) {
      tests.push({
        gradeId: meta!.grade_id!,
        points: Number(meta!.points ?? 0),
        cell: index,
        hidden: hasRegion(sourceOf(cell), 'hidden'),
      });
    } else if (isGradedByHand(cell) && meta?.grade_id) {
      manual.push({ gradeId: meta.grade_id, points: Number(meta.points ?? 0) });
    }
  });
  return { notebook, origins, tests, manual, problems };
}
