/**
 * The student's path, taken the way a student takes it, in JupyterLab 4 and in Notebook 7 (both from the project's
 * Python environment): the course started by the project's own `npm start` (headless, a free port, no token), the
 * live UI in Chromium, Run All on every lab in the smoke profile; each lab's student release run until its first
 * TODO stops it, then fixed by typing into the cell; a save through the UI, a reopen, a reopen after the cell that
 * carried plotly.js was re-run, and an untrusted reopen.
 *
 * Both UIs are built on JupyterLab's components (Lumino widgets, CodeMirror 6), so one page object drives both; the
 * server is asked to expose its application object (`expose_app_in_browser`) so that the test can read the
 * notebook's model as the page holds it. Each UI is a test file of its own (student_path_lab.test.ts,
 * student_path_notebook.test.ts), so that mocha's parallel workers can take them apart. Screenshots of every step go
 * to test-artifacts/ui-<app>/screenshots/.
 */
import * as assert from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { joined, Notebook, Output, readNotebook } from '../../jupyter/notebook';
import { releaseCommand } from '../../grading/release';
import { solutionName } from '../../grading/markers';
import { NO_PLOTLY_NOTE, UNTRUSTED_CHART_NOTE } from '../../lib/viz/plotly';
import { launchChromium, pageErrorsOfOurs } from '../browser';
import { checkGanExport, checkWelcomeExport, checkWelcomeOutputs } from './executed_checks';
import { ARTIFACTS, LABS, NOTEBOOKS, ROOT } from './labs';
import { APP_NAMES, JupyterApp } from '../../scripts/start';

/**
 * The mistake the test types into each lab's first TODO, and what the check below it must say. A lab with TODOs
 * needs an entry here (a test checks that), so that every release is walked through.
 */
const FIRST_TODO_MISTAKE: Record<string, { replace: [string, string]; says: RegExp }> = {
  '01-supervised-vs-unsupervised.ipynb': {
    replace: ['return tf.logSumExp(logits, 1).sub(picked);', 'return picked.sub(tf.logSumExp(logits, 1));'],
    says: /^CheckFailed: softmaxCrossEntropy: the sign is flipped/,
  },
  '02-autoencoders.ipynb': {
    replace: ['.mean(1);', '.sum(1);'],
    says: /^CheckFailed: mse: you summed the squared errors; take their mean over the pixels/,
  },
  '03-vae.ipynb': {
    replace: ['tf.exp(logvar.mul(0.5))', 'tf.exp(logvar)'],
    says: /^CheckFailed: reparameterize value: you multiplied ε by σ² \(exp\(logvar\)\)/,
  },
  '04-pixelcnn.ipynb': {
    replace: ["(col === c && type === 'B')", '(col === c)'],
    says: /^CheckFailed: mask A, k = 3: the centre tap is included/,
  },
  '05-gan.ipynb': {
    replace: [
      'tf.softplus(realLogits.neg()).mean().add(tf.softplus(fakeLogits).mean())',
      'tf.softplus(realLogits).mean().add(tf.softplus(fakeLogits.neg()).mean())',
    ],
    says: /^CheckFailed: discriminatorLoss: real and fake are swapped/,
  },
  '05-gan-extensions.ipynb': {
    replace: [
      'realScores.sub(1).square().mean().add(fakeScores.square().mean())',
      'fakeScores.sub(1).square().mean().add(realScores.square().mean())',
    ],
    says: /^CheckFailed: lsDiscriminatorLoss: real and fake are swapped/,
  },
  '05-gan-extensions-2.ipynb': {
    replace: ['return norms.sub(1).square().mean() as tf.Scalar;', 'return norms.sub(1).mean() as tf.Scalar;'],
    says: /^CheckFailed: gradientPenalty: square each \(‖∇f\(x̂\)‖ − 1\) before the mean/,
  },
  '06-flows.ipynb': {
    replace: ['x.mul(tf.exp(s))', 'x.mul(tf.exp(s.neg()))'],
    says: /^CheckFailed: couplingForward: y: you scaled by exp\(−s\)/,
  },
  '07-diffusion.ipynb': {
    replace: ['alphaBar.sqrt().mul(x0)', 'alphaBar.mul(x0)'],
    says: /^CheckFailed: qSample: the image is scaled by √ᾱ_t, not ᾱ_t/,
  },
};

const stderrOf = (outputs: Output[]) =>
  outputs
    .filter((o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr'))
    .map((o) => joined(o.text) || JSON.stringify(o))
    .join('');

/** What a notebook's outputs should draw: PNG images, and genlab's plotly charts (one div each). */
function expectedDrawing(nb: Notebook): { images: number; charts: number } {
  const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
  return {
    images: outputs.filter((o) => o.data?.['image/png']).length,
    charts: outputs.reduce(
      (n, o) => n + (joined(o.data?.['text/html']).match(/class="genlab-chart"/g)?.length ?? 0),
      0,
    ),
  };
}

/** The first TODO of a lab: its cell, the function asked for, and the check cell after it. */
function firstTodo(nb: Notebook): { index: number; name: string; solution: string } | undefined {
  const index = nb.cells.findIndex(
    (c) => c.cell_type === 'code' && c.metadata.nbgrader?.solution && joined(c.source).includes('BEGIN SOLUTION'),
  );
  if (index < 0) return undefined;
  const source = joined(nb.cells[index].source);
  const solution = source
    .split('\n')
    .filter((l) => !/(BEGIN|END) SOLUTION/.test(l))
    .join('\n');
  return { index, name: solutionName(source, ''), solution };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** npm's own CLI, run by this Node (the `npm` on PATH is a script that does the same). */
function npmCli(): string {
  const candidates = [
    process.env.npm_execpath,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ];
  const found = candidates.find((c) => c && /npm-cli\.js$/.test(c) && fs.existsSync(c));
  if (!found) throw new Error(`npm's CLI not found (looked at ${candidates.filter(Boolean).join(', ')})`);
  return found;
}

interface Course {
  url: string;
  log: () => string;
  /** Shuts a kernel down through the server's API (as File → Close and Halt does). */
  shutDownKernel: (id: string) => Promise<void>;
  stop: () => Promise<void>;
}

/** A pause that does not keep Node running on its own account. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** The pids of live processes whose command line names one of these kernels' connection files. */
function kernelProcesses(ids: string[]): number[] {
  const pids: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (ids.some((id) => cmdline.includes(`kernel-${id}.json`))) pids.push(Number(pid));
  }
  return pids;
}

/**
 * `GENLAB_JUPYTER_APP=app npm start -- --headless --port=P --notebook-dir=DIR`, in the smoke profile, with the app
 * object exposed to the page; resolves once the server answers.
 */
async function startCourse(app: JupyterApp, dir: string): Promise<Course> {
  const port = await freePort();
  // The server's output goes to a file, not a pipe: a kernel inherits it, and a kernel that outlived the server
  // would hold a pipe open and keep mocha waiting for its end forever.
  const logFile = path.join(dir, 'npm-start.log');
  const logFd = fs.openSync(logFile, 'w');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      npmCli(),
      'start',
      '--',
      '--headless',
      `--port=${port}`,
      '--port-retries=0',
      `--notebook-dir=${dir}`,
      `--${app === 'lab' ? 'LabApp' : 'JupyterNotebookApp'}.expose_app_in_browser=True`,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, GENLAB_PROFILE: 'smoke', GENLAB_JUPYTER_APP: app },
      detached: true,
      stdio: ['ignore', logFd, logFd],
    },
  );
  fs.closeSync(logFd);
  const log = () => fs.readFileSync(logFile, 'utf8');
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (child.exitCode !== null) assert.fail(`npm start exited with ${child.exitCode}:\n${log()}`);
    try {
      if ((await fetch(`${url}api/status`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) assert.fail(`npm start did not answer on ${url} within 60 s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  // The server's API refuses a change without its XSRF cookie echoed in a header, as its pages send it.
  const page = await fetch(`${url}${app === 'lab' ? 'lab' : 'tree'}`);
  const xsrf = /_xsrf=([^;]+)/.exec(page.headers.getSetCookie().join(';'))?.[1] ?? '';
  const xsrfHeaders = { Cookie: `_xsrf=${xsrf}`, 'X-XSRFToken': xsrf };
  const started = new Set<string>();
  const shutDownKernel = async (id: string) => {
    started.add(id);
    const r = await fetch(`${url}api/kernels/${id}`, { method: 'DELETE', headers: xsrfHeaders });
    assert.ok(r.status === 204 || r.status === 404, `shutting kernel ${id} down: HTTP ${r.status}`);
  };
  return {
    url,
    log,
    shutDownKernel,
    stop: async () => {
      if (child.exitCode !== null) return;
      // Kernels run in sessions of their own, so nothing but the server's API takes them down.
      const kernels = (await (await fetch(`${url}api/kernels`)).json()) as { id: string }[];
      for (const k of kernels) await shutDownKernel(k.id);
      assert.deepStrictEqual(await (await fetch(`${url}api/kernels`)).json(), [], 'every kernel is shut down');
      // Then File → Quit's request: the server stops, and npm start with it.
      const quit = await fetch(`${url}api/shutdown`, { method: 'POST', headers: xsrfHeaders });
      const stopped = await Promise.race([exited.then(() => true), sleep(30000).then(() => false)]);
      if (!stopped) process.kill(-child.pid!, 'SIGKILL');
      assert.ok(quit.ok && stopped, `npm start did not end on File → Quit's request (HTTP ${quit.status})`);
      const leaked = kernelProcesses([...started]);
      for (const pid of leaked) process.kill(pid, 'SIGKILL');
      assert.deepStrictEqual(leaked, [], 'no kernel outlives the server');
    },
  };
}

/** What the page draws, read off the DOM (not the notebook's JSON). */
interface Drawn {
  images: number;
  imagesDrawn: number;
  charts: number;
  chartsDrawn: number;
  notes: string[];
}
// Page-side code is passed as strings: this project compiles without DOM types.
const READ_DRAWN = `(() => {
  const imgs = [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output img')];
  const charts = [...document.querySelectorAll('.jp-Notebook .genlab-chart')];
  const svgMarks = '.scatterlayer path.js-line, .scatterlayer path.point, .heatmaplayer .hm image, .barlayer path';
  // WebGL traces (scattergl) paint a canvas: copy it to a 2-D canvas and look for painted pixels.
  const painted = (canvas) => {
    if (!canvas.width || !canvas.height) return false;
    const copy = document.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const ctx = copy.getContext('2d');
    ctx.drawImage(canvas, 0, 0);
    const alpha = ctx.getImageData(0, 0, copy.width, copy.height).data;
    for (let i = 3; i < alpha.length; i += 4) if (alpha[i] > 0) return true;
    return false;
  };
  const hasMarks = (c) => !!c.querySelector(svgMarks) || [...c.querySelectorAll('canvas.gl-canvas-context')].some(painted);
  return {
    images: imgs.length,
    imagesDrawn: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
    charts: charts.length,
    chartsDrawn: charts.filter((c) => c.querySelector('.main-svg') && hasMarks(c)).length,
    notes: charts.filter((c) => !c.querySelector('.main-svg')).map((c) => c.textContent.trim()),
  };
})()`;

/** Screenshots taken so far of each notebook, to number them in order. */
const SHOTS = new Map<string, number>();

/**
 * Page-side helpers, defined once per page: the notebook panel open at `path` (a NotebookPanel: its `content` is the
 * notebook widget, its `context` the document, its `sessionContext` the kernel's session).
 */
const PAGE_HELPERS = `(() => {
  window.genlabPanel = (path) => [...jupyterapp.shell.widgets('main')].find((w) => w.context && w.context.path === path && w.content && w.content.model);
})()`;

/** One notebook open in JupyterLab 4 or Notebook 7. */
class NotebookTab {
  readonly errors: string[] = [];

  private constructor(
    readonly tab: Page,
    readonly app: JupyterApp,
    readonly relative: string,
    readonly shots: string,
  ) {
    tab.on('pageerror', (e) => this.errors.push(e.message));
  }

  /** `panel` in page-side code: this notebook's panel. */
  private get panel(): string {
    return `genlabPanel(${JSON.stringify(this.relative)})`;
  }

  private get name(): string {
    return this.relative.replace(/[/\\]/g, '_').replace(/\.ipynb$/, '');
  }

  static async open(browser: Browser, course: Course, app: JupyterApp, relative: string): Promise<NotebookTab> {
    const tab = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
    const nt = new NotebookTab(tab, app, relative, path.join(uiDir(app), 'screenshots'));
    // JupyterLab reopens the notebooks of its last session (each with a kernel); `reset` opens only this one.
    const where = app === 'lab' ? `lab/tree/${relative}?reset` : `notebooks/${relative}`;
    await tab.goto(`${course.url}${where}`, { waitUntil: 'load' });
    await nt.waitForKernel();
    return nt;
  }

  async waitForKernel(): Promise<void> {
    await this.tab.waitForFunction('!!window.jupyterapp && !!jupyterapp.shell', null, { timeout: 60000 });
    await this.tab.evaluate(PAGE_HELPERS);
    await this.tab.waitForFunction(
      `(() => { const p = ${this.panel}; return !!p && p.context.isReady && p.sessionContext.isReady && !!p.sessionContext.session && !!p.sessionContext.session.kernel && p.sessionContext.session.kernel.status === 'idle'; })()`,
      null,
      { timeout: 60000 },
    );
  }

  /** The kernel's name as the UI shows it. */
  kernelName(): Promise<string> {
    return this.tab.evaluate(`${this.panel}.sessionContext.kernelDisplayName`) as Promise<string>;
  }

  /** Waits until no cell runs or waits to run and the kernel is idle, twice in a row half a second apart. */
  async waitUntilDone(timeoutMs: number): Promise<void> {
    const idle = `(() => { const p = ${this.panel}; return p.sessionContext.session.kernel.status === 'idle' && ![...p.content.node.querySelectorAll('.jp-InputPrompt')].some((e) => e.textContent.includes('[*]')); })()`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.tab.waitForFunction(idle, null, { timeout: Math.max(1000, deadline - Date.now()), polling: 200 });
      await this.tab.waitForTimeout(500);
      if (await this.tab.evaluate(idle)) return;
    }
  }

  /** Records every distinct state of every progress output (by cell and output position) as the page changes. */
  async watchProgress(): Promise<void> {
    await this.tab.evaluate(`(() => {
      window.genlabProgressSeen = {};
      const notebook = ${this.panel}.content.node;
      const record = () => {
        notebook.querySelectorAll('.jp-Cell').forEach((cell, c) => {
          const areas = [...cell.querySelectorAll('.jp-OutputArea-child')];
          areas.forEach((area, o) => {
            const p = area.querySelector('.genlab-progress');
            if (!p) return;
            const key = c + ':' + o, seen = (window.genlabProgressSeen[key] = window.genlabProgressSeen[key] || []);
            const text = p.textContent;
            if (seen[seen.length - 1] !== text) seen.push(text);
          });
        });
      };
      new MutationObserver(record).observe(notebook, { childList: true, subtree: true, characterData: true });
    })()`);
  }

  progressSeen(): Promise<Record<string, string[]>> {
    return this.tab.evaluate('window.genlabProgressSeen') as Promise<Record<string, string[]>>;
  }

  /** An entry of the menu bar's `menu` (Run, File, …), clicked as a student does. */
  async menu(menu: string, item: string): Promise<void> {
    await this.tab.locator('.lm-MenuBar-itemLabel', { hasText: new RegExp(`^${menu}$`) }).click();
    await this.tab.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${item}$`) }).click();
  }

  /** Run → Run All Cells. */
  async runAll(): Promise<void> {
    await this.menu('Run', 'Run All Cells');
  }

  /** Selects cell `index` (a click on its prompt). */
  async select(index: number): Promise<void> {
    await this.tab.locator('.jp-Notebook .jp-Cell').nth(index).locator('.jp-InputPrompt').click();
    await this.tab.waitForFunction(`${this.panel}.content.activeCellIndex === ${index}`, null, { timeout: 10000 });
  }

  /** Selects cell `index` and runs Run → Run All Above Selected Cell (what it needs, in a new kernel). */
  async runAllAbove(index: number): Promise<void> {
    await this.select(index);
    await this.menu('Run', 'Run All Above Selected Cell');
    await this.waitUntilDone(120000);
  }

  /** Ctrl+S; resolves once the server has written the file and the page knows it (the document is clean). */
  async save(file: string): Promise<void> {
    const before = fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0;
    await this.tab.locator('.jp-Notebook .jp-Cell').first().locator('.jp-InputPrompt').click();
    await this.tab.keyboard.press('Control+S');
    await this.tab
      .waitForFunction(`!${this.panel}.context.model.dirty`, null, { timeout: 30000 })
      .catch(() => assert.fail(`${file} was not saved within 30 s`));
    assert.notStrictEqual(fs.statSync(file).mtimeMs, before, `${file} changed on disk`);
  }

  /** The notebook as the page holds it (nbformat JSON). */
  model(): Promise<Notebook> {
    return this.tab.evaluate(`${this.panel}.context.model.toJSON()`) as Promise<Notebook>;
  }

  /** Whether the page trusts the notebook's outputs (every code cell's). */
  trusted(): Promise<boolean> {
    return this.tab.evaluate(
      `${this.panel}.content.widgets.filter((c) => c.model.type === 'code').every((c) => c.model.trusted)`,
    ) as Promise<boolean>;
  }

  /**
   * Waits until the page shows every image and chart the notebook's outputs hold, each loaded or drawn, or
   * `timeoutMs` passed; returns what is drawn. (Right after a load the page may show no cell yet, which would
   * look drawn.)
   */
  async drawn(timeoutMs = 30000): Promise<Drawn> {
    const done = `(() => {
      const nb = ${this.panel}.context.model.toJSON();
      const outputs = nb.cells.flatMap((c) => c.outputs || []);
      const html = (o) => [].concat((o.data && o.data['text/html']) || []).join('');
      const images = outputs.filter((o) => o.data && o.data['image/png']).length;
      const charts = outputs.reduce((n, o) => n + (html(o).match(/class="genlab-chart"/g) || []).length, 0);
      const d = ${READ_DRAWN};
      return d.images === images && d.charts === charts && d.imagesDrawn === d.images && d.chartsDrawn === d.charts;
    })()`;
    await this.tab.waitForFunction(done, null, { timeout: timeoutMs, polling: 250 }).catch(() => undefined);
    return (await this.tab.evaluate(READ_DRAWN)) as Drawn;
  }

  /** Types `text` over the whole source of cell `index` (clicking into its editor, as a student does). */
  async typeInto(index: number, text: string): Promise<void> {
    await this.tab.locator('.jp-Notebook .jp-Cell').nth(index).locator('.cm-content').click();
    await this.tab.keyboard.press('Control+A');
    await this.tab.keyboard.insertText(text);
    const typed = (await this.tab.evaluate(
      `${this.panel}.content.widgets[${index}].model.sharedModel.getSource()`,
    )) as string;
    // The editor may re-indent a line as it is typed; what runs must be the same code.
    const words = (t: string) => t.replace(/\s+/g, ' ').trim();
    assert.strictEqual(words(typed), words(text), `what was typed into cell ${index} is what the cell holds`);
  }

  /** Selects cell `index` (a click on its prompt) and runs it with Shift+Enter. */
  async runCell(index: number): Promise<void> {
    await this.select(index);
    await this.runSelectedAndAdvance();
  }

  /** Shift+Enter, as a student runs the selected cell and moves to the next. */
  async runSelectedAndAdvance(): Promise<void> {
    await this.tab.keyboard.press('Shift+Enter');
    await this.waitUntilDone(120000);
  }

  cellOutputs(index: number): Promise<Output[]> {
    return this.tab.evaluate(`${this.panel}.content.model.cells.get(${index}).toJSON().outputs`) as Promise<Output[]>;
  }

  /** The text cell `index`'s outputs show in the page. */
  outputText(index: number): Promise<string> {
    return this.tab.locator('.jp-Notebook .jp-Cell').nth(index).locator('.jp-OutputArea').innerText();
  }

  /**
   * A screenshot into the UI's screenshots folder: the window, or cells `from`…`to` (scrolled into view; both UIs
   * scroll the notebook inside its panel, not the page).
   */
  async screenshot(step: string, cells?: [number, number]): Promise<void> {
    const count = (SHOTS.get(this.shots + this.name) ?? 0) + 1;
    SHOTS.set(this.shots + this.name, count);
    const file = path.join(this.shots, `${this.name}-${String(count).padStart(2, '0')}-${step}.png`);
    if (!cells) {
      await this.tab.screenshot({ path: file });
      return;
    }
    const all = this.tab.locator('.jp-Notebook .jp-Cell');
    // A chart above may still be drawing and move the cells after they were scrolled to (lab 7's schedule plot did):
    // measure again after each scroll, and fall back to the whole tab rather than fail on a picture.
    for (let attempt = 0; attempt < 5; attempt++) {
      await all.nth(cells[0]).scrollIntoViewIfNeeded();
      await this.tab.waitForTimeout(200);
      const first = await all.nth(cells[0]).boundingBox();
      const last = await all.nth(cells[1]).boundingBox();
      const viewport = this.tab.viewportSize()!;
      if (!first || !last) continue;
      const y = Math.max(0, first.y);
      const height = Math.min(viewport.height - y, last.y + last.height - y);
      if (height > 0) {
        await this.tab.screenshot({ path: file, clip: { x: first.x, y, width: first.width, height } });
        return;
      }
    }
    await this.tab.screenshot({ path: file });
  }

  async reload(): Promise<void> {
    await this.tab.reload({ waitUntil: 'load' });
    await this.waitForKernel();
  }

  /** Closes the tab; with `halt`, shuts its kernel down too (as File → Close and Shut Down does), freeing its memory. */
  async close(course: Course, halt = true): Promise<void> {
    const id = (await this.tab
      .evaluate(
        `(() => { const p = ${this.panel}; return p && p.sessionContext.session && p.sessionContext.session.kernel ? p.sessionContext.session.kernel.id : null; })()`,
      )
      .catch(() => null)) as string | null;
    await this.tab.close();
    if (halt && id) await course.shutDownKernel(id);
  }
}

/** The server's root for `app`: copies of the labs (so a save never touches the sources) and their releases. */
function uiDir(app: JupyterApp): string {
  return path.join(ARTIFACTS, `ui-${app}`);
}

/**
 * The student's path in `app`. The welcome lab's and the GAN lab's saved notebooks also serve the checks of their
 * outputs and HTML exports (executed_checks.ts), once: from JupyterLab, the UI `npm start` opens.
 */
export function describeStudentPath(app: JupyterApp): void {
  describe(`the student path in ${APP_NAMES[app]}: npm start, the live UI in Chromium, Run All`, function () {
    this.timeout(20 * 60 * 1000);
    let course: Course;
    let browser: Browser;
    const UI = uiDir(app);
    const open = (relative: string) => NotebookTab.open(browser, course, app, relative);

    before(async function () {
      browser = await launchChromium(this);
      fs.rmSync(UI, { recursive: true, force: true });
      fs.mkdirSync(path.join(UI, 'source'), { recursive: true });
      fs.mkdirSync(path.join(UI, 'screenshots'), { recursive: true });
      for (const lab of LABS) fs.copyFileSync(path.join(NOTEBOOKS, lab), path.join(UI, 'source', lab));
      releaseCommand(NOTEBOOKS, path.join(UI, 'release'));
      course = await startCourse(app, UI);
    });

    after(async () => {
      await browser?.close();
      await course?.stop(); // the server's output stays in test-artifacts/ui-<app>/npm-start.log
    });

    it(`npm start opened ${APP_NAMES[app]} headless on loopback, without a token, serving plotly.js`, async () => {
      assert.match(
        course.log(),
        new RegExp(`start: jupyter ${app} .*--no-browser --ip=127\\.0\\.0\\.1 --ServerApp\\.token= `),
      );
      const page = await fetch(`${course.url}${app === 'lab' ? 'lab' : 'tree'}`);
      assert.strictEqual(page.status, 200, 'no token is asked for');
      // The page is the app asked for: JupyterLab's or Notebook 7's (each names itself in its page config).
      const config = /<script id="jupyter-config-data" type="application\/json">([^]*?)<\/script>/.exec(
        await page.text(),
      );
      assert.ok(config, 'the page has its config');
      assert.strictEqual(JSON.parse(config[1]).appName, app === 'lab' ? 'JupyterLab' : 'Jupyter Notebook');
      const plotly = await fetch(`${course.url}static/plotly.min.js`);
      assert.strictEqual(plotly.status, 200);
      assert.match((await plotly.text()).slice(0, 200), /plotly\.js v\d/);
    });

    for (const lab of LABS) {
      it(`${lab}: Run All draws every image and chart with no error output, progress updates in place, and a saved notebook reopens drawn`, async function () {
        const file = path.join(UI, 'source', lab);
        const nt = await open(`source/${lab}`);
        try {
          assert.strictEqual(await nt.kernelName(), 'TypeScript (genlab)');
          await nt.watchProgress();
          await nt.runAll();
          await nt.waitUntilDone(10 * 60 * 1000);
          const model = await nt.model();
          const failed = model.cells.map((c, i) => ({ i, err: stderrOf(c.outputs ?? []) })).filter((c) => c.err);
          assert.deepStrictEqual(failed, [], 'no cell wrote to stderr or failed');
          const unrun = model.cells.filter(
            (c) =>
              c.cell_type === 'code' && joined(c.source).trim() && !(c as { execution_count?: number }).execution_count,
          );
          assert.strictEqual(unrun.length, 0, 'every code cell ran');
          assert.match(
            joined(model.cells.flatMap((c) => c.outputs ?? []).map((o) => joined(o.text))),
            /genlab: backend \w+ .* profile smoke/,
          );

          const expected = expectedDrawing(model);
          const drawn = await nt.drawn();
          await nt.screenshot('run-all');
          assert.ok(expected.images + expected.charts > 0, 'the lab shows something');
          assert.deepStrictEqual(
            { images: drawn.imagesDrawn, charts: drawn.chartsDrawn },
            { images: expected.images, charts: expected.charts },
            `every image and chart in the outputs is drawn in the page (${JSON.stringify(drawn)})`,
          );

          const seen = await nt.progressSeen();
          fs.writeFileSync(
            path.join(UI, 'screenshots', `${lab.replace(/\.ipynb$/, '')}-progress-states.json`),
            JSON.stringify(seen, null, 1),
          );
          const progress = Object.entries(seen);
          assert.ok(progress.length > 0, 'a live progress output was seen');
          const steps = (states: string[]) => new Set(states.map((s) => /(\d+)\/\d+ ·/.exec(s)?.[1]));
          const live = progress.filter(([, states]) => states.length >= 3 && steps(states).size >= 2);
          assert.ok(live.length > 0, `one output went through several states in place: ${JSON.stringify(progress)}`);
          assert.deepStrictEqual(pageErrorsOfOurs(nt.errors), []);

          await nt.save(file);
          const saved = readNotebook(file);
          assert.deepStrictEqual(expectedDrawing(saved), expected, 'the file on disk holds the outputs');
          // This run is the lab's one run in this configuration: its saved notebook serves the checks of its outputs.
          if (app === 'lab' && lab === '00-welcome.ipynb') {
            checkWelcomeOutputs(file);
            await checkWelcomeExport(this, file);
          }
          if (app === 'lab' && lab === '05-gan.ipynb') await checkGanExport(this, file);
          await nt.reload();
          const reopened = await nt.drawn();
          await nt.screenshot('reopened');
          assert.deepStrictEqual(
            { images: reopened.imagesDrawn, charts: reopened.chartsDrawn },
            { images: expected.images, charts: expected.charts },
            `the reopened notebook draws its images and charts (${JSON.stringify(reopened)})`,
          );
        } finally {
          await nt.close(course, lab !== '00-welcome.ipynb');
        }
      });

      // The welcome lab's kernel stays up for these two: it has sent plotly.js, as a student's kernel would have.
      if (lab !== '00-welcome.ipynb') continue;
      it('00-welcome: with the cell that carried plotly.js re-run, saved and reopened, the charts draw with plotly.js from the server', async () => {
        const file = path.join(UI, 'source', '00-welcome.ipynb');
        const nt = await open('source/00-welcome.ipynb');
        try {
          const carrier = (await nt.model()).cells.findIndex((c) =>
            (c.outputs ?? []).some((o) => joined(o.data?.['text/html']).includes('plotly.js v')),
          );
          assert.ok(
            carrier >= 0,
            'the saved notebook carries plotly.js in one output (the previous test ran and saved it)',
          );
          await nt.runCell(carrier);
          await nt.save(file);
          assert.ok(
            !fs.readFileSync(file, 'utf8').includes('plotly.js v'),
            'no output of the saved notebook carries plotly.js now',
          );
          await nt.reload();
          const drawn = await nt.drawn();
          await nt.screenshot('plotly-from-server');
          assert.ok(drawn.charts >= 3 && drawn.chartsDrawn === drawn.charts, JSON.stringify(drawn));
          assert.strictEqual(
            await nt.tab.evaluate('!!window.genlabPlotlyFromServer'),
            true,
            'plotly.js came from the server',
          );
        } finally {
          await nt.close(course);
        }
      });

      it('00-welcome: reopened untrusted, each chart says why it is blank, the images still show, and re-running a cell draws its chart', async () => {
        const file = path.join(UI, 'source', '00-welcome.ipynb');
        const nb = readNotebook(file);
        nb.metadata.edited_elsewhere = true; // any change outside Jupyter voids the notebook's signature
        fs.writeFileSync(file, JSON.stringify(nb, null, 1));
        const nt = await open('source/00-welcome.ipynb');
        try {
          assert.strictEqual(await nt.trusted(), false, 'the page does not trust the notebook');
          const blank = await nt.drawn(3000);
          await nt.screenshot('untrusted');
          assert.strictEqual(blank.chartsDrawn, 0);
          assert.ok(blank.charts >= 3);
          assert.deepStrictEqual(new Set(blank.notes), new Set([UNTRUSTED_CHART_NOTE]));
          assert.ok(
            blank.images >= 2 && blank.imagesDrawn === blank.images,
            `PNG images need no trust: ${JSON.stringify(blank)}`,
          );
          const chartCell = (await nt.model()).cells.findIndex((c) =>
            (c.outputs ?? []).some((o) => joined(o.data?.['text/html']).includes('genlab-chart')),
          );
          // The reopened notebook has a new kernel: the cells above define what the chart's cell uses.
          await nt.runAllAbove(chartCell);
          await nt.runCell(chartCell);
          const rerun = await nt.cellOutputs(chartCell);
          assert.ok(!rerun.some((o) => o.output_type === 'error'), `the re-run cell failed: ${JSON.stringify(rerun)}`);
          const after = await nt.drawn(3000);
          await nt.screenshot('untrusted-rerun');
          assert.strictEqual(after.chartsDrawn, 1, `the re-run cell's chart is drawn: ${JSON.stringify(after)}`);
          assert.ok(!after.notes.includes(NO_PLOTLY_NOTE), JSON.stringify(after.notes));
        } finally {
          await nt.close(course);
        }
      });
    }

    it('every lab with TODOs has a mistake for the walk through its release', () => {
      const withTodos = LABS.filter((lab) => firstTodo(readNotebook(path.join(NOTEBOOKS, lab))));
      assert.deepStrictEqual(withTodos, Object.keys(FIRST_TODO_MISTAKE).sort());
    });

    for (const lab of Object.keys(FIRST_TODO_MISTAKE).sort()) {
      it(`${lab} (student release): Run All stops at the first TODO with one sentence; a wrong solution typed in gets the named mistake, the right one passes`, async () => {
        const todo = firstTodo(readNotebook(path.join(NOTEBOOKS, lab)))!;
        const mistake = FIRST_TODO_MISTAKE[lab];
        const check = todo.index + 1;
        const nt = await open(`release/${lab}`);
        try {
          await nt.runAll();
          await nt.waitUntilDone(5 * 60 * 1000);
          const model = await nt.model();
          const failing = model.cells.findIndex((c) => stderrOf(c.outputs ?? []));
          assert.strictEqual(failing, check, `the check after the first TODO (${todo.name}) is where Run All stops`);
          assert.strictEqual(
            stderrOf(model.cells[check].outputs ?? []),
            `Error: not implemented: ${todo.name} (replace this line with your code)\n`,
          );
          const later = model.cells.slice(check + 1).filter((c) => (c as { execution_count?: number }).execution_count);
          assert.strictEqual(later.length, 0, 'nothing after the failing check ran');
          await nt.screenshot('stopped-at-todo', [todo.index, check]);
          const seen = await nt.outputText(check);
          assert.doesNotMatch(seen, /evalmachine|\^|\n\s+at /, 'no compiled-code frames in what the student sees');

          assert.ok(
            todo.solution.includes(mistake.replace[0]),
            `the solution of ${todo.name} contains '${mistake.replace[0]}'`,
          );
          await nt.typeInto(todo.index, todo.solution.replace(mistake.replace[0], mistake.replace[1]));
          await nt.runSelectedAndAdvance();
          await nt.runSelectedAndAdvance();
          const wrong = stderrOf(await nt.cellOutputs(check));
          await nt.screenshot('wrong-solution', [todo.index, check]);
          assert.match(wrong, mistake.says);
          assert.strictEqual(wrong.trim().split('\n').length, 1, `one sentence: ${wrong}`);

          await nt.typeInto(todo.index, todo.solution);
          await nt.runSelectedAndAdvance();
          await nt.runSelectedAndAdvance();
          const right = await nt.cellOutputs(check);
          await nt.screenshot('right-solution', [todo.index, check]);
          assert.strictEqual(stderrOf(right), '');
          assert.match(right.map((o) => joined(o.text)).join(''), /✓ /);
          assert.deepStrictEqual(pageErrorsOfOurs(nt.errors), []);
        } finally {
          await nt.close(course);
        }
      });
    }
  });
}
