/**
 * Fair checks, graded for real through `genlab-grade batch`: every correct solution written differently earns full
 * marks (the hidden tests draw their inputs from 20 seeds), and every mistake a check names, submitted on its own
 * TODO, loses that test's points with that check's sentence while the other TODOs keep theirs.
 *
 * Each lab is graded once, as one batch: submission `correct-k` fills every TODO with its k-th correct solution;
 * submission `mistakes-r` fills every TODO with its first correct solution except the mistakes of round r. A round
 * holds at most one mistake per TODO and never a mistake in a TODO together with one in a TODO it calls (`uses`),
 * so each mistake meets only correct code, as it would in a student's otherwise right notebook.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { projectRoot } from '../../jupyter/environment';
import { clone, Notebook, readNotebook, toLines, writeNotebook } from '../../grading/notebook';
import { releaseNotebook } from '../../grading/release';
import type { Results } from '../../grading/results';
import { EXTENSIONS, EXTENSIONS_2 } from './fairness/extensions';
import { LAB1 } from './fairness/lab1';
import { LAB2 } from './fairness/lab2';
import { LAB3 } from './fairness/lab3';
import { LAB4 } from './fairness/lab4';
import { LAB5 } from './fairness/lab5';
import { LAB6 } from './fairness/lab6';
import { LAB7 } from './fairness/lab7';
import type { LabFairness, Mistake } from './fairness/types';

const ROOT = projectRoot();
const CORRECT_VARIANTS = 3;

/** A mistake's cell: its correct solution with the edits applied, each found exactly once. */
function mistakenSource(correct: string[], mistake: Mistake, todo: string): string {
  let source = correct[mistake.variant ?? 0];
  for (const [from, to] of [mistake.replace, ...(mistake.also ?? [])]) {
    const count = source.split(from).length - 1;
    if (count !== 1)
      throw new Error(`${todo}: the edit for ${mistake.says} finds its text ${count} times, not once: ${from}`);
    source = source.replace(from, to);
  }
  return source;
}

interface Placed {
  todo: string;
  mistake: Mistake;
}

/** Rounds of mistakes: one per TODO at most, and never one beside a mistake in a TODO it calls or that calls it. */
function mistakeRounds(lab: LabFairness): Placed[][] {
  const rounds: Placed[][] = [];
  const related = (a: string, b: string) =>
    a === b || (lab.todos[a].uses ?? []).includes(b) || (lab.todos[b].uses ?? []).includes(a);
  for (const [todo, spec] of Object.entries(lab.todos))
    for (const mistake of spec.mistakes) {
      let round = rounds.find((r) => r.every((p) => !related(p.todo, todo)));
      if (!round) rounds.push((round = []));
      round.push({ todo, mistake });
    }
  return rounds;
}

/** The lab's source as graded: the notebook itself, or for an ungraded lab a copy whose check cells are tests. */
function gradedSource(lab: LabFairness): Notebook {
  const nb = readNotebook(path.join(ROOT, 'notebooks', lab.lab));
  if (!lab.checksAsTests) return nb;
  const tests = new Set(Object.values(lab.todos).map((t) => t.test));
  for (const cell of nb.cells) {
    const meta = cell.metadata.nbgrader;
    if (meta?.grade_id && tests.has(meta.grade_id)) Object.assign(meta, { grade: true, points: 1 });
  }
  return nb;
}

/** The student version of the lab with each TODO's cell replaced by the given source. */
function submission(lab: LabFairness, source: Notebook, sources: Record<string, string>) {
  const nb = releaseNotebook(clone(source), lab.lab);
  const filled = new Set<string>();
  for (const cell of nb.cells) {
    const id = cell.metadata.nbgrader?.grade_id;
    if (id && sources[id] !== undefined && cell.metadata.nbgrader?.solution) {
      cell.source = toLines(sources[id]);
      filled.add(id);
    }
  }
  const missing = Object.keys(sources).filter((id) => !filled.has(id));
  if (missing.length) throw new Error(`${lab.lab}: no solution cell for ${missing.join(', ')}`);
  return nb;
}

/** How many correct-solution submissions a lab gets: as many as its TODO with the most solutions has. */
const variantsOf = (lab: LabFairness) => Math.max(...Object.values(lab.todos).map((t) => t.correct.length));

const LABS = [LAB1, LAB2, LAB3, LAB4, LAB5, EXTENSIONS, EXTENSIONS_2, LAB6, LAB7];

describe('fairness: correct work earns its points, named mistakes lose them, graded by genlab-grade', function () {
  for (const lab of LABS) {
    describe(lab.lab, function () {
      this.timeout(20 * 60 * 1000);
      const rounds = mistakeRounds(lab);
      let out = '';
      const results = (name: string) =>
        JSON.parse(fs.readFileSync(path.join(out, name, 'results.json'), 'utf8')) as Results;
      const failedCells = (r: Results) => (r.extra_data.failed_cells as string[] | undefined) ?? [];

      before(function () {
        const work = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-fairness-'));
        const submissions = path.join(work, 'submissions');
        out = path.join(work, 'out');
        fs.mkdirSync(submissions);
        const graded = gradedSource(lab);
        const source = path.join(work, lab.lab);
        writeNotebook(source, graded);
        for (let k = 0; k < variantsOf(lab); k++) {
          // A TODO with fewer solutions than the lab's most gives its first one.
          const sources = Object.fromEntries(
            Object.entries(lab.todos).map(([id, t]) => [id, t.correct[k] ?? t.correct[0]]),
          );
          writeNotebook(path.join(submissions, `correct-${k}.ipynb`), submission(lab, graded, sources));
        }
        rounds.forEach((round, r) => {
          const sources = Object.fromEntries(Object.entries(lab.todos).map(([id, t]) => [id, t.correct[0]]));
          for (const { todo, mistake } of round) sources[todo] = mistakenSource(lab.todos[todo].correct, mistake, todo);
          writeNotebook(path.join(submissions, `mistakes-${r}.ipynb`), submission(lab, graded, sources));
        });
        const cli = path.join(ROOT, 'dist', 'grading', 'cli.js');
        const run = spawnSync(
          process.execPath,
          [cli, 'batch', submissions, '--source', source, '--jobs', '2', '--out', out],
          {
            encoding: 'utf8',
            timeout: 19 * 60 * 1000,
          },
        );
        assert.strictEqual(run.status, 0, `genlab-grade batch failed:\n${run.stdout}\n${run.stderr}`);
      });

      it('has at least three correct solutions of every TODO, each different', () => {
        for (const [id, t] of Object.entries(lab.todos)) {
          assert.ok(t.correct.length >= CORRECT_VARIANTS, `${id}: ${t.correct.length} correct solutions`);
          assert.strictEqual(new Set(t.correct).size, t.correct.length, `${id}: two correct solutions are the same`);
        }
      });

      for (let k = 0; k < variantsOf(lab); k++)
        it(`correct solutions #${k + 1}: full marks on every test, every cell runs`, () => {
          const r = results(`correct-${k}`);
          const lost = r.tests.filter((t) => t.score !== t.max_score).map((t) => `${t.name}: ${t.output}`);
          assert.deepStrictEqual(lost, [], `correct solutions #${k + 1} lost points`);
          assert.strictEqual(
            r.tests.length,
            new Set(Object.values(lab.todos).map((t) => t.test)).size,
            'not every TODO was graded',
          );
          assert.deepStrictEqual(failedCells(r), [], 'a cell failed with correct solutions');
          assert.deepStrictEqual((r.extra_data.flags as string[] | undefined) ?? [], []);
        });

      rounds.forEach((round, r) =>
        it(`named mistakes, round ${r + 1}: ${round.map((p) => p.todo).join(', ')}`, () => {
          const res = results(`mistakes-${r}`);
          for (const { todo, mistake } of round) {
            const test = lab.todos[todo].test;
            if (test) {
              const t = res.tests.find((x) => x.name === test);
              assert.ok(t, `no test '${test}' in the results`);
              assert.strictEqual(
                t.score,
                0,
                `${todo}: the mistake ${mistake.says} kept ${t.score} of ${t.max_score} points`,
              );
              assert.match(t.output, mistake.says, `${todo}: the test does not name the mistake`);
            } else {
              const failures = failedCells(res).join('\n');
              assert.match(failures, mistake.says, `${todo}: no check cell names the mistake`);
            }
          }
          // Every TODO this round leaves alone, and that calls none it touched, keeps its points.
          const touched = new Set(round.map((p) => p.todo));
          for (const [todo, spec] of Object.entries(lab.todos)) {
            if (touched.has(todo) || (spec.uses ?? []).some((u) => touched.has(u))) continue;
            const t = res.tests.find((x) => x.name === spec.test)!;
            assert.strictEqual(t.score, t.max_score, `${todo} lost points beside another TODO's mistake: ${t.output}`);
          }
        }),
      );
    });
  }
});
