/**
 * Checksums of locked cells, computed as nbgrader computes them
 * (nbgrader/utils.py compute_checksum): MD5 over the source, the cell type, the
 * grade/solution/locked flags as Python prints booleans, the grade_id, and for
 * grade cells the points as a Python float. An instructor's nbgrader tooling and
 * genlab therefore agree on whether a locked cell was edited.
 */
import { createHash } from 'crypto';
import { Cell, gradeId, isGrade, isLocked, isSolution, nbgraderOf, sourceOf } from './notebook';

const py = (b: boolean) => (b ? 'True' : 'False');
const pyFloat = (n: number) => (Number.isInteger(n) ? `${n}.0` : String(n));

export function computeChecksum(cell: Cell): string {
  const m = createHash('md5');
  m.update(sourceOf(cell));
  m.update(cell.cell_type);
  m.update(py(isGrade(cell)));
  m.update(py(isSolution(cell)));
  m.update(py(isLocked(cell)));
  m.update(gradeId(cell) ?? '');
  if (isGrade(cell)) m.update(pyFloat(Number(nbgraderOf(cell)?.points ?? 0)));
  return m.digest('hex');
}
