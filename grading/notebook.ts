/**
 * Notebooks as the grader sees them: nbgrader's cell metadata (schema version 3) on the notebook type of
 * jupyter/notebook.ts, which this module re-exports so that the grader imports one place.
 */
import { Cell, NbgraderMeta, Notebook } from '../jupyter/notebook';

export * from '../jupyter/notebook';

export function nbgraderOf(cell: Cell): NbgraderMeta | undefined {
  const meta = cell.metadata?.nbgrader;
  return meta && typeof meta === 'object' ? meta : undefined;
}

export const isGrade = (cell: Cell) => Boolean(nbgraderOf(cell)?.grade);
export const isSolution = (cell: Cell) => Boolean(nbgraderOf(cell)?.solution);
/** nbgrader's is_locked: a solution cell never is, a grade cell that is not a solution always is, whatever the flag says. */
export const isLocked = (cell: Cell) => !isSolution(cell) && (isGrade(cell) || Boolean(nbgraderOf(cell)?.locked));
/** nbgrader's task cell: a markdown cell graded by hand, whose mark scheme the release removes. */
export const isTask = (cell: Cell) => Boolean(nbgraderOf(cell)?.task);
export const gradeId = (cell: Cell) => nbgraderOf(cell)?.grade_id;

/** An auto-graded test: a code cell with grade = true and solution = false. */
export const isAutoTest = (cell: Cell) => cell.cell_type === 'code' && isGrade(cell) && !isSolution(cell);
/** A written answer graded by hand: grade = true and solution = true. */
export const isManualAnswer = (cell: Cell) => isGrade(cell) && isSolution(cell);
/** Points a person awards: a written answer's, or a task cell's (nbgrader counts both as manual grading). */
export const isGradedByHand = (cell: Cell) => isManualAnswer(cell) || isTask(cell);

/** The library answer keys a source notebook withholds while it is graded (`metadata.genlab.withheld`). */
export function withheldNames(nb: Notebook): string[] {
  const genlab = nb.metadata.genlab as { withheld?: unknown } | undefined;
  const list = genlab?.withheld;
  return Array.isArray(list) ? list.filter((n): n is string => typeof n === 'string') : [];
}
