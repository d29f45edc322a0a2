/**
 * Checks of an executed lab's saved notebook, wherever it ran (the live UI, or the notebook runner where there is no
 * browser): the welcome lab's outputs, and the HTML exports of the welcome and GAN labs drawn in headless Chromium.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { findJupyter, jupyterEnv } from '../../jupyter/environment';
import { joined } from '../../jupyter/notebook';
import { launchChromium, pageErrorsOfOurs } from '../browser';
import { ARTIFACTS, outputsOf } from './labs';

/** 00-welcome shows the backend line, two MNIST grids, plotly.js once, three charts and a progress bar at its end. */
export function checkWelcomeOutputs(executed: string): void {
  const outputs = outputsOf(executed);
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
}

/**
 * Exports an executed notebook to HTML with nbconvert (into test-artifacts/) and opens it in headless Chromium;
 * `inspect` gets the tab and the page errors seen so far.
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

/** The welcome lab's HTML export draws its three plotly charts and its images. */
export async function checkWelcomeExport(context: Mocha.Context, executed: string): Promise<void> {
  await withHtmlExport(context, executed, async (tab, errors) => {
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
}

/** The GAN lab's HTML export draws the 1-D game's animation with its slider and play button, and its other charts. */
export async function checkGanExport(context: Mocha.Context, executed: string): Promise<void> {
  await withHtmlExport(context, executed, async (tab, errors) => {
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
}
