/**
 * The autograder on every kind of broken or hostile submission of the mini lab, graded for real (sandbox, kernel,
 * Jupyter) in one batch under bubblewrap, then the same batch under unshare and with no sandbox.
 */
import * as assert from 'assert';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { batch } from '../../grading/batch';
import { Notebook, readNotebook, writeNotebook } from '../../grading/notebook';
import { releaseNotebook } from '../../grading/release';
import { Results, validateResults } from '../../grading/results';
import { probeSandbox } from '../../grading/runner';
import { SandboxKind } from '../../grading/sandbox';

import { KL_BODY, klWith, MEAN, miniLab, ROOT, SQUARE, studentWith, WORK, WRONG_MEAN } from './mini_lab';

/**
 * The hostile batch's default per-cell limit, in seconds. The mini lab's cells take a fraction of a second (its
 * imports cell, which loads genlab, has a limit of its own in the source); the hangs and slow cells below are
 * measured in it, so a shorter limit grades the batch sooner without any case meaning less.
 */
const CELL_LIMIT_S = 4;

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
    // 80 MB of JS heap a step, in the 'mean' cell, which the source gives 30 s: the heap (half the batch's 2 GiB)
    // is full in a few seconds even on a busy machine, long before the interrupt. (In the 'square' cell, at the
    // batch's 4-s limit, the interrupt sometimes came first under CI's load and saved the kernel: a fair grade,
    // but not the case this one is meant to test.)
    'memory-bomb': studentWith({
      square: SQUARE,
      mean: `${MEAN}\nconst hog: number[][] = [];\nfor (;;) hog.push(new Array(1e7).fill(Math.random()));`,
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
    for (const n of ['process-exit', 'exits-after-interrupt']) {
      assert.strictEqual(scoreOf(n), 0, n);
      assert.match(test(n, 'square-check').output, /kernel died/);
      assert.match(test(n, 'mean-check').output, /^Not run: the kernel died earlier, in cell 'square'/);
    }
    assert.match(test('process-exit', 'square-check').output, /^Not run: the kernel died earlier, in cell 'square' \(/);
    assert.match(
      (results.get('exits-after-interrupt')!.extra_data.failed_cells as string[]).join('\n'),
      /cell \d+ \('square'\): the kernel died/,
    );
    // The bomb is in 'mean': what ran before it keeps its points, what comes after gets none.
    assert.strictEqual(test('memory-bomb', 'square-check').status, 'passed');
    assert.strictEqual(scoreOf('memory-bomb'), 2);
    assert.match(test('memory-bomb', 'mean-check').output, /^Not run: the kernel died earlier, in cell 'mean' \(/);
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
