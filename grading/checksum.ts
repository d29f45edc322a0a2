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
/**
 * `str(float(n))` in Python: the shortest digits that read back as n (as JavaScript's), in positional notation when
 * the decimal exponent is from −4 to 15 (with ".0" on a whole number) and otherwise as "1.5e+16" or "1e-05".
 */
export function pyFloat(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [digits, exp] = n.toExponential().split('e');
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 16)
    return `${digits}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  // Here JavaScript's String is positional too (it is from 1e-7 up to 1e21), with the same shortest digits.
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

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
