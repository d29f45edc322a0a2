/**
 * Every notebook runs top to bottom through the real kernel (smoke profile), and
 * the welcome notebook's HTML export is drawn in headless Chromium.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { findJupyter, jupyterEnv, projectRoot } from '../../jupyter/environment';
import { joined, Output, readNotebook } from '../../jupyter/notebook';
import { describeFailure, runNotebook, RunResult } from '../../jupyter/notebook_runner';
import { launchChromium, pageErrorsOfOurs } from '../browser';

const ROOT = projectRoot();
const NOTEBOOKS = path.join(ROOT, 'notebooks');
/** Kept for CI: executed notebooks, HTML exports and screenshots (git-ignored). */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');

function outputsOf(file: string): Output[] {
  return readNotebook(file).cells.flatMap((c) => c.outputs ?? []);
}

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
 * Exports an executed notebook from test-artifacts/ to HTML with nbconvert and opens it in
 * headless Chromium; `inspect` gets the tab and the page errors seen so far.
 */
async function withHtmlExport(
  context: Mocha.Context,
  executed: string,
  inspect: (tab: import('playwright-core').Page, errors: string[]) => Promise<void>,
): Promise<void> {
  const browser = await launchChromium(context);
  try {
    execFileSync(findJupyter()!, ['nbconvert', '--to', 'html', '--output-dir', ARTIFACTS, executed], {
      env: jupyterEnv(),
      stdio: 'pipe',
    });
    const page = path.join(ARTIFACTS, path.basename(executed).replace(/\.ipynb$/, '.html'));
    const tab = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`file://${page}`, { waitUntil: 'load' });
    await inspect(tab, errors);
  } finally {
    await browser.close();
  }
}

const LABS = fs
  .readdirSync(NOTEBOOKS)
  .filter((f) => /^\d\d-.*\.ipynb$/.test(f) && !f.includes('.executed.'))
  .sort();

async function runOrFail(notebook: string, env: NodeJS.ProcessEnv = {}, artifacts = ARTIFACTS): Promise<RunResult> {
  const result = await runNotebook(notebook, {
    output: path.join(artifacts, path.basename(notebook)),
    profile: 'smoke',
    env,
  });
  if (!result.ok) assert.fail(describeFailure(notebook, result));
  return result;
}

describe('notebooks (smoke profile, real kernel)', function () {
  this.timeout(15 * 60 * 1000);

  for (const file of LABS) {
    it(`${file} runs top to bottom`, async () => {
      const result = await runOrFail(path.join(NOTEBOOKS, file));
      assert.ok(result.seconds > 0);
    });
  }

  it('00-welcome shows the backend line, an MNIST grid, plotly charts and a progress bar', () => {
    const outputs = outputsOf(path.join(ARTIFACTS, '00-welcome.ipynb'));
    const text = outputs.map((o) => joined(o.text)).join('');
    assert.match(text, /genlab: backend \w+ \(.*\) · tfjs 4\.22\.0 · node v\d+.* · profile smoke · seed 0/);
    const html = outputs.map((o) => joined(o.data?.['text/html'])).filter(Boolean);
    assert.ok(outputs.filter((o) => o.data?.['image/png']).length >= 2, 'two PNG grids');
    assert.strictEqual(html.filter((h) => h.includes('plotly.js v')).length, 1, 'plotly.js is sent once per kernel');
    assert.ok(html.filter((h) => h.includes('class="genlab-chart"')).length >= 3, 'three charts');
    assert.ok(
      html.some((h) => /softmax regression<\/b> 20\/20/.test(h)),
      'the progress bar ends at 20/20',
    );
  });

  it('the HTML export draws the plotly charts and images in headless Chromium', async function () {
    await withHtmlExport(this, path.join(ARTIFACTS, '00-welcome.ipynb'), async (tab, errors) => {
      // Page-side code is passed as strings: this project compiles without DOM types.
      await tab.waitForFunction("document.querySelectorAll('.genlab-chart .main-svg').length >= 3", null, {
        timeout: 30000,
      });
      const drawn = (await tab.evaluate(`({
        charts: document.querySelectorAll('.genlab-chart').length,
        plotted: [...document.querySelectorAll('.genlab-chart')].filter((c) => c.querySelector('.scatterlayer path.js-line, .heatmaplayer .hm image')).length,
        images: [...document.querySelectorAll('img')].filter((i) => i.naturalWidth > 0).map((i) => i.naturalWidth),
      })`)) as { charts: number; plotted: number; images: number[] };
      await tab.screenshot({ path: path.join(ARTIFACTS, '00-welcome.png'), fullPage: true });
      assert.strictEqual(drawn.charts, 3);
      assert.strictEqual(drawn.plotted, 3, `every chart has drawn data: ${JSON.stringify(drawn)}`);
      assert.ok(drawn.images.length >= 2 && drawn.images.every((w) => w > 100), `images drawn: ${drawn.images}`);
      assert.deepStrictEqual(pageErrorsOfOurs(errors), []);
    });
  });
});

/** The backend a forced GENLAB_BACKEND=webgpu gets on this machine (in a child: the suite's own process stays on its backend). */
function webgpuHere(): { backend: string; fellBack?: string } {
  const script = `require(${JSON.stringify(path.join(ROOT, 'dist', 'lib'))}).init({ backend: 'webgpu', quiet: true }).then((i) => console.log(JSON.stringify({ backend: i.backend, fellBack: i.fellBack })))`;
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.trim().split('\n').pop()!) as { backend: string; fellBack?: string };
}

// The whole course on the webgpu backend: in CI, Dawn's OpenGL ES on Mesa's software renderer (setup installs it),
// which checks that every lab's kernels and reads work there; a laptop's GPU runs the same code faster.
describe('notebooks on the webgpu backend (smoke profile, real kernel)', function () {
  this.timeout(15 * 60 * 1000);
  const artifacts = path.join(ARTIFACTS, 'webgpu');
  before(function () {
    const here = webgpuHere();
    if (here.backend === 'webgpu') return;
    if (process.env.CI) assert.fail(`${here.fellBack} (run \`npm run setup -- --for-tests\` as root on Debian)`);
    console.log(`    (skipped: ${here.fellBack})`);
    this.skip();
  });

  for (const file of LABS) {
    it(`${file} runs top to bottom on webgpu`, async () => {
      await runOrFail(path.join(NOTEBOOKS, file), { GENLAB_BACKEND: 'webgpu' }, artifacts);
      // It ran on webgpu itself, not on the wasm it falls back to.
      const text = outputsOf(path.join(artifacts, file))
        .map((o) => joined(o.text))
        .join('');
      assert.match(text, /genlab: backend webgpu \(@tensorflow\/tfjs-backend-webgpu on /);
      assert.doesNotMatch(text, /cannot start here/);
    });
  }
});

describe('the GAN lab in a browser', function () {
  this.timeout(5 * 60 * 1000);

  it("05-gan's HTML export draws the 1-D animation with its slider and play button", async function () {
    const executed = path.join(ARTIFACTS, '05-gan.ipynb');
    if (!fs.existsSync(executed)) await runOrFail(path.join(NOTEBOOKS, '05-gan.ipynb'));
    await withHtmlExport(this, executed, async (tab, errors) => {
      await tab.waitForFunction(
        "[...document.querySelectorAll('.genlab-chart')].some((c) => c.querySelector('.slider-container'))",
        null,
        { timeout: 30000 },
      );
      const animation = (await tab.evaluate(`(() => {
        const chart = [...document.querySelectorAll('.genlab-chart')].find((c) => c.querySelector('.slider-container'));
        return { lines: chart.querySelectorAll('.scatterlayer path.js-line').length, buttons: [...chart.querySelectorAll('.updatemenu-button')].map((b) => b.textContent.trim()), frames: (chart._transitionData && chart._transitionData._frames || []).length };
      })()`)) as { lines: number; buttons: string[]; frames: number };
      const charts = (await tab.$$('.genlab-chart .main-svg')).length;
      assert.ok(charts >= 5, `charts drawn: ${charts}`);
      assert.strictEqual(animation.lines, 3, 'p_data, p_G and D(x)');
      assert.deepStrictEqual(animation.buttons, ['▶ play', '❚❚ pause']);
      assert.ok(animation.frames >= 2, `animation frames: ${animation.frames}`);
      await tab.screenshot({ path: path.join(ARTIFACTS, '05-gan.png'), fullPage: true });
      assert.deepStrictEqual(pageErrorsOfOurs(errors), []);
    });
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
