/**
 * Every notebook runs top to bottom through the real kernel (smoke profile), here where the live UI cannot run them;
 * and the notebook runner's own behaviour: a failing cell named, a compile error, a GenlabError as its sentence.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { joined, readNotebook } from '../../jupyter/notebook';
import { describeFailure, runNotebook } from '../../jupyter/notebook_runner';
import { CHROMIUM } from '../browser';
import { checkWelcomeOutputs } from './executed_checks';
import { ARTIFACTS, LABS, NOTEBOOKS, outputsOf, runOrFail } from './labs';

/** Writes a throwaway notebook inside the project (so `genlab` resolves) and returns its path. */
function scratchNotebook(name: string, cells: string[]): string {
  const dir = path.join(ARTIFACTS, 'scratch');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  const nb = {
    cells: cells.map((source, i) => ({
      cell_type: 'code',
      id: `c${i}`,
      metadata: {},
      execution_count: null,
      outputs: [],
      source,
    })),
    metadata: { kernelspec: { name: 'genlab', display_name: 'TypeScript (genlab)', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  fs.writeFileSync(file, JSON.stringify(nb));
  return file;
}

/**
 * Each lab runs once in this configuration (smoke profile, wasm, the real kernel): in the live UI where Chromium is
 * (student_path.ts, in JupyterLab 4 and in Notebook 7: Run All, no error output, every cell run, the saved notebook's outputs and HTML export
 * checked), else here through the notebook runner, with the same checks of its outputs.
 */
const LIVE_UI = fs.existsSync(CHROMIUM);

describe('notebooks (smoke profile, real kernel)', function () {
  this.timeout(15 * 60 * 1000);

  if (LIVE_UI) return;

  for (const file of LABS) {
    it(`${file} runs top to bottom`, async () => {
      const result = await runOrFail(path.join(NOTEBOOKS, file));
      assert.ok(result.seconds > 0);
    });
  }

  it('00-welcome shows the backend line, an MNIST grid, plotly charts and a progress bar', () => {
    checkWelcomeOutputs(path.join(ARTIFACTS, '00-welcome.ipynb'));
  });
});

describe('the notebook runner', function () {
  this.timeout(5 * 60 * 1000);

  it('names the failing cell, its source and the error; a GenlabError shows as its sentence', async () => {
    const file = scratchNotebook('failing.ipynb', [
      "import { loadFashionMnist } from 'genlab';\nconsole.log('first cell ran');",
      "const data = loadFashionMnist({ dir: '/nonexistent/fashion' });",
      "console.log('never runs');",
    ]);
    const result = await runNotebook(file, { output: path.join(ARTIFACTS, 'scratch', 'failing.out.ipynb') });
    assert.strictEqual(result.ok, false);
    assert.strictEqual(result.cell, 1);
    assert.match(result.source!, /loadFashionMnist\(\{ dir: '\/nonexistent\/fashion' \}\)/);
    assert.strictEqual(result.ename, 'GenlabError');
    assert.match(result.evalue!, /The Fashion-MNIST folder '\/nonexistent\/fashion' does not exist/);
    assert.ok(!/\n\s+at /.test(result.traceback!), `no stack trace, got:\n${result.traceback}`);
    const message = describeFailure(file, result);
    assert.match(message, /failing\.ipynb failed in cell 1: GenlabError: The Fashion-MNIST folder/);
    assert.match(message, /--- cell source ---\nconst data = loadFashionMnist/);
  });

  it('after init() (wasm), the kernel survives a stray promise rejection and a burst of output', async () => {
    const file = scratchNotebook('survives.ipynb', [
      "import { init } from 'genlab';\nawait init();",
      "Promise.reject(new Error('stray rejection'));\nfor (let i = 0; i < 3000; i++) console.log('line ' + i);",
      "console.log('still alive');",
    ]);
    const result = await runNotebook(file, { output: path.join(ARTIFACTS, 'scratch', 'survives.out.ipynb') });
    assert.ok(result.ok, describeFailure(file, result));
    assert.match(joined(outputsOf(result.output).pop()?.text), /still alive/);
  });

  it('shows every output of cells that display hundreds of times back to back, in order (zeromq delays every 513th send)', async () => {
    // Without kernel.js's queue, the display after a delayed send threw "Socket is busy writing" into its cell.
    const file = scratchNotebook('displays.ipynb', [
      "import { showHtml } from 'genlab';\nfor (let i = 0; i < 900; i++) showHtml(`<b>${i}</b>`);",
      'for (let i = 900; i < 1800; i++) showHtml(`<b>${i}</b>`);',
    ]);
    const result = await runNotebook(file, { output: path.join(ARTIFACTS, 'scratch', 'displays.out.ipynb') });
    assert.ok(result.ok, describeFailure(file, result));
    const shown = outputsOf(result.output).map((o) => joined(o.data?.['text/html'] as string | string[] | undefined));
    assert.deepStrictEqual(
      shown,
      Array.from({ length: 1800 }, (_, i) => `<b>${i}</b>`),
    );
  });

  it('reports a TypeScript compile error in a cell', async () => {
    const file = scratchNotebook('typeerror.ipynb', ['const n: number = "not a number";']);
    const result = await runNotebook(file, { output: path.join(ARTIFACTS, 'scratch', 'typeerror.out.ipynb') });
    assert.strictEqual(result.ok, false);
    assert.strictEqual(result.cell, 0);
    assert.match(`${result.evalue}\n${result.traceback}`, /Type 'string' is not assignable to type 'number'/);
  });

  describe('with genlab loaded, a cell that throws shows its sentence', () => {
    const cells = [
      "import { init } from 'genlab';\nawait init({ quiet: true });",
      // The student's own console.log of an error keeps Node's form, stack and all.
      "function square(x: number): number {\n  throw new Error('not implemented: square (replace this line with your code)');\n}\nconsole.log(new Error('logged, not thrown'));",
      'square(3);',
    ];
    const stderrOfCell = (file: string, cell: number) =>
      (readNotebook(file).cells[cell].outputs ?? [])
        .filter((o) => (o as { name?: string }).name === 'stderr')
        .map((o) => joined(o.text))
        .join('');

    it('as a student sees it: one line, no compiled code, no frames', async () => {
      const file = scratchNotebook('sentence.ipynb', cells);
      const out = path.join(ARTIFACTS, 'scratch', 'sentence.out.ipynb');
      const result = await runNotebook(file, { output: out, env: { GENLAB_TRACEBACK: '0' } });
      assert.strictEqual(result.ok, false);
      assert.strictEqual(result.cell, 2);
      assert.strictEqual(stderrOfCell(out, 2), 'Error: not implemented: square (replace this line with your code)\n');
      const logged = outputsOf(out)
        .map((o) => joined(o.text))
        .join('');
      assert.match(logged, /Error: logged, not thrown\n\s+at /, 'a logged error keeps its stack');
    });

    it("with GENLAB_TRACEBACK=1 (the developers' runner), with Node's trace", async () => {
      const file = scratchNotebook('trace.ipynb', cells);
      const out = path.join(ARTIFACTS, 'scratch', 'trace.out.ipynb');
      const result = await runNotebook(file, { output: out });
      assert.strictEqual(result.cell, 2);
      assert.match(
        stderrOfCell(out, 2),
        /evalmachine\.<anonymous>:\d+[\s\S]*Error: not implemented: square[\s\S]*\n\s+at (Proxy\.)?square /,
      );
    });
  });
});
