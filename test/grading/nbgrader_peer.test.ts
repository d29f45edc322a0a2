/**
 * nbgrader itself (from PyPI, pinned in jupyter/requirements-tests.txt) as the peer of genlab's grader: its
 * generate_assignment on every lab gives the student notebook `genlab-grade release` gives, and its autograde, with
 * the genlab kernel, scores a lab's solutions full and its release zero.
 *
 * What an instructor's nbgrader needs for a TypeScript lab, and this test configures as they would
 * (README, "nbgrader"): a stub for TypeScript solutions (`ClearSolutions.code_stub`; nbgrader has none), and the
 * course folder inside the project, where the kernel finds `genlab`. The one difference left is the stub's text:
 * genlab's names what to implement ("not implemented: reparameterize"), nbgrader's is one fixed line.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { computeChecksum } from '../../grading/checksum';
import { releaseNotebook } from '../../grading/release';
import { jupyterEnv } from '../../jupyter/environment';
import { isGrade, isSolution } from '../../grading/notebook';
import { Cell, joined, Notebook, readNotebook, toLines, writeNotebook } from '../../jupyter/notebook';
import { venvDir } from '../../jupyter/python_env';
import { ARTIFACTS, LABS, NOTEBOOKS } from '../notebooks/labs';
import { md, miniLab } from './mini_lab';

const COURSE = path.join(ARTIFACTS, 'nbgrader');
const NBGRADER = path.join(venvDir(), 'bin', 'nbgrader');
/** The stub this course gives nbgrader for TypeScript. */
const STUB = "throw new Error('not implemented (replace this line with your code)');";
/** genlab's stub line, which names what to implement (grading/release.ts solutionStub). */
const GENLAB_STUB = /throw new Error\('not implemented: (?:[^'\\]|\\.)* \(replace this line with your code\)'\);/g;

/** Runs nbgrader in the course folder; fails the test with its output when it fails. */
function nbgrader(args: string[]): string {
  const r = spawnSync(NBGRADER, args, {
    cwd: COURSE,
    encoding: 'utf8',
    // nbgrader starts alembic by name, so the environment's bin/ goes first on PATH.
    env: jupyterEnv({ PATH: `${path.dirname(NBGRADER)}:${process.env.PATH}`, GENLAB_PROFILE: 'smoke' }),
    timeout: 600000,
  });
  assert.strictEqual(r.status, 0, `nbgrader ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

/** A lab's assignment name in nbgrader's folders: its stem. */
const assignment = (lab: string) => lab.replace(/\.ipynb$/, '');

/** A cell as genlab released it, with its stub in nbgrader's words (and its checksum recomputed for that text). */
function withNbgraderStub(cell: Cell): Cell {
  const source = joined(cell.source);
  const stubbed = source.replace(GENLAB_STUB, STUB);
  if (stubbed === source) return cell;
  const out = JSON.parse(JSON.stringify(cell)) as Cell;
  out.source = stubbed;
  out.metadata.nbgrader!.checksum = computeChecksum(out);
  return out;
}

/**
 * The mini lab with what the course's labs do not hold, each a place where a release could part from nbgrader's:
 * sources that end in newlines (after a hidden region too), a solution cell with no region (all of it is
 * solution), a task cell with a mark scheme, and points that Python prints in its own way.
 */
function edgeCases(): Notebook {
  const nb = miniLab();
  const cell = (id: string) => nb.cells.find((c) => c.metadata.nbgrader?.grade_id === id)!;
  cell('intro').source = toLines('# Mini lab\n\nWrite `square` and `mean`.\n');
  cell('square').source = toLines('function square(x: number): number {\n  return x * x;\n}\n');
  const check = cell('square-check');
  check.source = toLines(`${joined(check.source)}\n`);
  check.metadata.nbgrader!.points = 0.5;
  cell('mean-check').metadata.nbgrader!.points = 1e-5;
  cell('tf-check').metadata.nbgrader!.points = 2.5e16;
  cell('q1').source = toLines('The answer, which the release must not show.\n');
  nb.cells.push(
    md('task', 'Explain why.\n=== BEGIN MARK SCHEME ===\nFull marks for the reason.\n=== END MARK SCHEME ===\n', {
      task: true,
      points: 2,
    }),
  );
  return nb;
}

/** What nbformat compares: every field, sources as one string. */
const comparable = (cell: Cell) => ({ ...cell, source: joined(cell.source) });

describe('nbgrader as a peer: its own generate_assignment and autograde on the labs', function () {
  this.timeout(15 * 60 * 1000);

  before(function () {
    if (!fs.existsSync(NBGRADER)) {
      if (process.env.CI) assert.fail('nbgrader is missing: `npm run setup -- --for-tests` installs it');
      this.skip();
    }
    fs.rmSync(COURSE, { recursive: true, force: true });
    for (const lab of LABS) {
      fs.mkdirSync(path.join(COURSE, 'source', assignment(lab)), { recursive: true });
      fs.copyFileSync(path.join(NOTEBOOKS, lab), path.join(COURSE, 'source', assignment(lab), lab));
    }
    fs.writeFileSync(
      path.join(COURSE, 'nbgrader_config.py'),
      [
        'c = get_config()',
        `c.CourseDirectory.root = ${JSON.stringify(COURSE)}`,
        `c.ClearSolutions.code_stub = {'typescript': ${JSON.stringify(STUB)}}`,
        // A lab's training cells take longer than nbgrader's default 30 s on a busy machine.
        'c.Execute.timeout = 300',
        '',
      ].join('\n'),
    );
  });

  /** nbgrader's generate_assignment on `file` (in its assignment folder) against `genlab-grade release`, cell for cell. */
  function compareReleases(name: string, file: string, source: Notebook): void {
    nbgrader(['generate_assignment', name, '--force']);
    const theirs = readNotebook(path.join(COURSE, 'release', name, file));
    const ours = releaseNotebook(source, file);
    assert.deepStrictEqual(theirs.metadata, ours.metadata);
    assert.strictEqual(theirs.cells.length, ours.cells.length);
    let stubs = 0;
    ours.cells.forEach((cell, i) => {
      const translated = withNbgraderStub(cell);
      if (translated !== cell) stubs++;
      assert.deepStrictEqual(comparable(theirs.cells[i]), comparable(translated), `cell ${i} of ${file}`);
    });
    // Every code solution was compared through its stub; no hidden test or mark scheme is left in either.
    const solutions = ours.cells.filter((c) => c.cell_type === 'code' && isSolution(c) && !isGrade(c)).length;
    assert.strictEqual(stubs, solutions, `${file}: every code solution is stubbed`);
    assert.ok(!/BEGIN (HIDDEN TESTS|MARK SCHEME)/.test(JSON.stringify(theirs)));
  }

  for (const lab of LABS) {
    it(`generate_assignment on ${lab} gives genlab's release: stubs, hidden tests removed, checksums, locks`, () => {
      compareReleases(assignment(lab), lab, readNotebook(path.join(NOTEBOOKS, lab)));
    });
  }

  it("and on what the labs do not hold: final newlines, a solution cell without a region, a task's mark scheme, points that are not whole", () => {
    const nb = edgeCases();
    fs.mkdirSync(path.join(COURSE, 'source', 'edges'), { recursive: true });
    writeNotebook(path.join(COURSE, 'source', 'edges', 'edges.ipynb'), nb);
    compareReleases('edges', 'edges.ipynb', nb);
  });

  it("autograde, with the genlab kernel, gives a lab's solutions every automatic point and its release none", () => {
    const lab = '03-vae.ipynb';
    const name = assignment(lab);
    nbgrader(['generate_assignment', name, '--force']);
    const submissions: Record<string, Notebook> = {
      solutions: readNotebook(path.join(NOTEBOOKS, lab)),
      release: readNotebook(path.join(COURSE, 'release', name, lab)),
    };
    for (const [student, nb] of Object.entries(submissions)) {
      fs.mkdirSync(path.join(COURSE, 'submitted', student, name), { recursive: true });
      fs.writeFileSync(path.join(COURSE, 'submitted', student, name, lab), JSON.stringify(nb));
    }
    nbgrader(['autograde', name, '--force']);
    const csv = path.join(COURSE, 'grades.csv');
    nbgrader(['export', '--to', csv]);
    const [header, ...rows] = fs.readFileSync(csv, 'utf8').trim().split('\n');
    const columns = header.split(',');
    const scores = new Map(
      rows
        .map((r) => r.split(','))
        .filter((r) => r[columns.indexOf('assignment')] === name)
        .map((r) => [r[columns.indexOf('student_id')], Number(r[columns.indexOf('raw_score')])]),
    );
    // The automatic points, read from the source: its test cells (graded code cells that are not solutions).
    const source = submissions.solutions.cells.filter((c) => c.cell_type === 'code' && isGrade(c) && !isSolution(c));
    const automatic = source.reduce((sum, c) => sum + Number(c.metadata.nbgrader!.points), 0);
    assert.ok(automatic > 0);
    assert.deepStrictEqual(Object.fromEntries(scores), { solutions: automatic, release: 0 });
    // Each test of the release failed for what the release lacks, and nbgrader recorded why.
    const graded = readNotebook(path.join(COURSE, 'autograded', 'release', name, lab));
    const tests = graded.cells.filter((c) => c.cell_type === 'code' && isGrade(c) && !isSolution(c));
    for (const t of tests) {
      const error = (t.outputs ?? []).find((o) => o.output_type === 'error');
      assert.ok(error, `${t.metadata.nbgrader!.grade_id} has an error output`);
      assert.match(String(error.evalue), /not implemented/);
    }
  });
});
