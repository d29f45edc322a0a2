/**
 * The grading tests' mini lab: a small lab in the course's conventions (three functions to write, one withheld from
 * genlab, four graded tests, one written answer), the cell builders it is made of, and the student versions the
 * tests edit.
 */
import * as path from 'path';
import { Cell, Notebook, toLines } from '../../grading/notebook';
import { releaseNotebook } from '../../grading/release';
import { projectRoot } from '../../jupyter/environment';

export const ROOT = projectRoot();
export const WORK = path.join(ROOT, 'test-artifacts', 'grading');

export const md = (id: string, text: string, extra: object = {}): Cell => ({
  cell_type: 'markdown',
  id,
  metadata: { nbgrader: { grade: false, grade_id: id, locked: true, schema_version: 3, solution: false, ...extra } },
  source: toLines(text),
});
export const code = (id: string, text: string, nbgrader: object): Cell => ({
  cell_type: 'code',
  id,
  metadata: { nbgrader: { grade_id: id, schema_version: 3, ...nbgrader } },
  source: toLines(text),
  outputs: [],
  execution_count: null,
});
export const locked = { grade: false, locked: true, solution: false };
export const solution = { grade: false, locked: false, solution: true };
export const test = (points: number) => ({ grade: true, locked: true, solution: false, points });

export const KL_SIGNATURE = 'function klNormal(mu: tf.Tensor, logvar: tf.Tensor): tf.Tensor {';
export const KL_BODY = 'return tf.scalar(1).add(logvar).sub(mu.square()).sub(logvar.exp()).sum(-1).mul(-0.5);';
/** A klNormal whose body is `body` (the student's cell). */
export const klWith = (body: string) => `${KL_SIGNATURE}\n  ${body}\n}`;

/** A small lab in the course's conventions: three functions to write (one of them withheld from genlab), four graded tests, one written answer. */
export function miniLab(): Notebook {
  return {
    cells: [
      md('intro', '# Mini lab\nWrite `square` and `mean`.'),
      {
        // Loading genlab takes a few seconds on a busy machine: the source gives this cell its own limit.
        ...code(
          'imports',
          "import { tf, init, expectClose, expectTrue, losses } from 'genlab';\nawait init();",
          locked,
        ),
        metadata: { nbgrader: { grade_id: 'imports', schema_version: 3, ...locked }, genlab: { timeout: 60 } },
      },
      code(
        'square',
        'function square(x: number): number {\n  // BEGIN SOLUTION\n  return x * x;\n  // END SOLUTION\n}',
        solution,
      ),
      code(
        'square-check',
        "expectClose('square(3)', square(3), 9);\n// BEGIN HIDDEN TESTS\nexpectClose('square(-4)', square(-4), 16);\n// END HIDDEN TESTS",
        test(2),
      ),
      {
        ...code(
          'mean',
          'function mean(xs: number[]): number {\n  // BEGIN SOLUTION\n  return xs.reduce((a, b) => a + b, 0) / xs.length;\n  // END SOLUTION\n}',
          solution,
        ),
        metadata: { nbgrader: { grade_id: 'mean', schema_version: 3, ...solution }, genlab: { timeout: 30 } },
      },
      code(
        'mean-check',
        "expectClose('mean', mean([1, 2, 3, 6]), 3, { mistakes: [{ values: 12, says: 'you returned the sum, not the mean' }] });\n// BEGIN HIDDEN TESTS\nexpectClose('mean of one', mean([5]), 5);\n// END HIDDEN TESTS",
        test(3),
      ),
      code(
        'tf-check',
        "expectTrue('square agrees with tf', Math.abs(tf.scalar(1.5).square().dataSync()[0] - square(1.5)) < 1e-9, 'square(1.5) should be 2.25');",
        test(1),
      ),
      // genlab implements klNormal too (losses.klNormal): the lab withholds it.
      code('kl', `${KL_SIGNATURE}\n  // BEGIN SOLUTION\n  ${KL_BODY}\n  // END SOLUTION\n}`, solution),
      code(
        'kl-check',
        // By hand: μ = (1, 2), σ² = 1 gives ½(1 + 4) = 2.5; the hidden test's reference is plain JavaScript.
        "expectClose('klNormal', klNormal(tf.tensor2d([[1, 2]]), tf.zeros([1, 2])), [2.5]);\n// BEGIN HIDDEN TESTS\n{\n  const mu = [[0.5, -1], [2, 0]], lv = [[0.3, -0.2], [0, 1]];\n  const expected = mu.map((row, i) => -0.5 * row.reduce((s, m, j) => s + 1 + lv[i][j] - m * m - Math.exp(lv[i][j]), 0));\n  expectClose('klNormal, two rows', klNormal(tf.tensor2d(mu), tf.tensor2d(lv)), expected);\n}\n// END HIDDEN TESTS",
        test(3),
      ),
      md('q1', 'YOUR ANSWER HERE', { grade: true, solution: true, locked: false, points: 1 }),
    ],
    metadata: {
      kernelspec: { name: 'genlab', display_name: 'TypeScript (genlab)', language: 'typescript' },
      genlab: { withheld: ['klNormal'] },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** The student version with `edit` applied to the named cells' sources. */
export function studentWith(edits: Record<string, string>, base = releaseNotebook(miniLab(), 'mini')): Notebook {
  const nb = JSON.parse(JSON.stringify(base)) as Notebook;
  for (const cell of nb.cells) {
    const id = cell.metadata.nbgrader?.grade_id;
    if (id && edits[id] !== undefined) cell.source = toLines(edits[id]);
  }
  return nb;
}

export const SQUARE = 'function square(x: number): number {\n  return x * x;\n}';
export const MEAN = 'function mean(xs: number[]): number {\n  return xs.reduce((a, b) => a + b, 0) / xs.length;\n}';
export const WRONG_MEAN = 'function mean(xs: number[]): number {\n  return xs.reduce((a, b) => a + b, 0);\n}';
