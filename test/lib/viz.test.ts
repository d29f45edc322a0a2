import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import type { Browser } from 'playwright-core';
import * as util from 'util';
import * as zlib from 'zlib';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../lib/backend';
import { imageGridPng, showImages } from '../../lib/viz/images';
import { errorSentence, showCellErrorsAsSentences } from '../../lib/viz/cell_error_sentences';
import {
  chartHtml,
  heatmap,
  lineChart,
  NO_PLOTLY_NOTE,
  PLOTLY_STATIC_FILE,
  plotlyDir,
  plotlyLibraryScript,
  scatterChart,
} from '../../lib/viz/plotly';
import { formatDuration, progress } from '../../lib/viz/progress';
import { launchChromium } from '../browser';
import { assertGenlabError, tempDir, withEnv } from '../helpers';

/** A PNG decoder written for the test (no filters but 0, no interlace): checks each chunk's CRC. */
function decodePng(png: Buffer): { width: number; height: number; channels: number; pixels: Buffer } {
  assert.deepStrictEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  let width = 0,
    height = 0,
    channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    const crc = png.readUInt32BE(offset + 8 + length);
    assert.strictEqual(
      crc,
      (zlib as unknown as { crc32(b: Uint8Array): number }).crc32(png.subarray(offset + 4, offset + 8 + length)),
      `CRC of ${type}`,
    );
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      channels = { 0: 1, 2: 3 }[data[9]]!;
      assert.strictEqual(data[8], 8);
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    assert.strictEqual(raw[y * (stride + 1)], 0, 'filter byte');
    raw.copy(pixels, y * stride, y * (stride + 1) + 1, (y + 1) * (stride + 1));
  }
  return { width, height, channels, pixels };
}

describe('image grids', () => {
  before(() => init({ quiet: true }));

  it('lays images out on a padded, scaled grid in a valid PNG', () => {
    // Two 2×2 images: a black one and a white one with a grey pixel.
    const images = tf.tensor4d([0, 0, 0, 0, 1, 1, 0.5, 1], [2, 2, 2, 1]);
    const { width, height, channels, pixels } = decodePng(
      imageGridPng(images, { cols: 2, scale: 2, padding: 1, padValue: 0 }),
    );
    // cols·(w + pad) + pad = 2·3 + 1 = 7 columns of 2 pixels; 1·3 + 1 = 4 rows of 2 pixels.
    assert.deepStrictEqual([width, height, channels], [14, 8, 1]);
    const at = (x: number, y: number) => pixels[y * width + x];
    assert.strictEqual(at(2, 2), 0); // first image
    assert.strictEqual(at(8, 2), 255); // second image, top-left
    assert.strictEqual(at(8, 4), 128); // its grey pixel (0.5 → 128), scaled to rows 4–5
    assert.strictEqual(at(9, 5), 128);
    assert.strictEqual(at(0, 0), 0); // padding
  });

  it('accepts [N,H,W], [H,W] and RGB, and rejects other shapes in one sentence', () => {
    assert.strictEqual(decodePng(imageGridPng(tf.zeros([3, 4, 4]))).channels, 1);
    assert.strictEqual(decodePng(imageGridPng(tf.zeros([4, 4]))).width, (4 + 2) * 2);
    assert.strictEqual(decodePng(imageGridPng(tf.zeros([1, 4, 4, 3]))).channels, 3);
    assertGenlabError(
      () => imageGridPng(tf.zeros([2, 784, 1, 1, 1])),
      /showImages expects images shaped \[N, H, W, C\]/,
      /got shape \[2, 784, 1, 1, 1\]/,
      /reshape/,
    );
    assertGenlabError(() => imageGridPng(tf.zeros([2, 4, 4, 2])), /1 \(gray\) or 3 \(RGB\) channels/);
    assertGenlabError(() => imageGridPng(tf.zeros([0, 4, 4, 1])), /empty batch/);
  });

  it('writes a PNG file outside a notebook', async () => {
    const dir = tempDir();
    await withEnv({ GENLAB_OUTPUT_DIR: dir }, () => showImages(tf.ones([4, 28, 28, 1])));
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.png'));
    assert.strictEqual(files.length, 1);
    assert.strictEqual(decodePng(fs.readFileSync(path.join(dir, files[0]))).width, (2 * 29 + 1) * 2);
  });
});

describe('charts', () => {
  it('embeds the traces and layout as JSON and draws when plotly.js is present', () => {
    const html = chartHtml([{ type: 'scatter', y: [1, 2, 3], name: '</script><b>' }], { title: { text: 'T' } });
    assert.match(html, /<div id="genlab-chart-[^"]+" class="genlab-chart"/);
    assert.ok(html.includes('"y":[1,2,3]'));
    assert.ok(!html.includes('</script><b>'), 'a trace name cannot close the script');
    assert.ok(html.includes('window.Plotly.newPlot'));
  });

  it('writes charts as HTML files beside one copy of plotly.js outside a notebook', async () => {
    const dir = tempDir();
    await withEnv({ GENLAB_OUTPUT_DIR: dir }, () => {
      lineChart({ a: [1, 2], b: [2, 1] }, { title: 'lines' });
      scatterChart([0, 1, 2], [1, 0, 1], { labels: [0, 1, 0] });
      heatmap(
        [
          [1, 2],
          [3, 4],
        ],
        { annotate: true },
      );
    });
    const files = fs.readdirSync(dir);
    assert.strictEqual(files.filter((f) => f.endsWith('.html')).length, 3);
    assert.ok(files.includes('plotly.min.js'));
    const scatter = fs.readFileSync(
      path.join(
        dir,
        files.find((f) => f.startsWith('chart') && fs.readFileSync(path.join(dir, f), 'utf8').includes('scattergl'))!,
      ),
      'utf8',
    );
    assert.ok(scatter.includes('"name":"0","x":[0,2]'), 'one trace per label');
  });

  it('rejects mismatched inputs in one sentence', () => {
    assertGenlabError(() => scatterChart([1, 2], [1]), /x has 2 points but y has 1/);
    assertGenlabError(() => lineChart({}), /at least one named series/);
    assertGenlabError(() => heatmap([[1], [1, 2]]), /rows all have the same length/);
  });
});

describe('progress', () => {
  it('formats durations', () => {
    assert.deepStrictEqual(
      [formatDuration(5), formatDuration(75), formatDuration(3720), formatDuration(Infinity)],
      ['5s', '1m 15s', '1h 02m', '?'],
    );
  });

  it('logs a line every tenth of the way outside a terminal, with terms, speed and ETA', () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => lines.push(a.join(' '));
    try {
      const bar = progress(20, { label: 'demo', intervalMs: 0 });
      for (let i = 1; i <= 20; i++) bar.update(i, { loss: 1 / i });
      bar.done();
    } finally {
      console.log = log;
    }
    assert.ok(lines.length >= 10 && lines.length <= 12, `${lines.length} lines`);
    assert.match(lines[lines.length - 2], /^demo: 20\/20 loss 0\.05000 · \d+ steps\/s · ETA 0s$/);
    assert.match(lines[lines.length - 1], /total$/);
  });
});

describe('cell errors as sentences', () => {
  it('an error reads as its name and message, with its causes one per line', () => {
    const inner = new RangeError('the inner reason');
    const outer = new Error('the outer reason', { cause: inner });
    assert.strictEqual(errorSentence(outer), 'Error: the outer reason\n  caused by RangeError: the inner reason');
    assert.strictEqual(errorSentence(new TypeError('x is undefined')), 'TypeError: x is undefined');
    assert.strictEqual(errorSentence(new Error('a', { cause: 'a string' })), 'Error: a\n  caused by a string');
  });

  it('outside a kernel nothing is changed: errors inspect as Node prints them', () => {
    showCellErrorsAsSentences();
    assert.ok(!Object.prototype.hasOwnProperty.call(Error.prototype, Symbol.for('nodejs.util.inspect.custom')));
    assert.match(util.inspect(new Error('plain')), /^Error: plain\n\s+at /);
  });
});

describe('a chart in a browser', function () {
  this.timeout(60000);
  let browser: Browser;
  let server: http.Server;
  let base: string;
  let plotlyRequests = 0;

  before(async function () {
    browser = await launchChromium(this);
    // A stand-in for the Jupyter server: serves plotly.js where `npm start` has Jupyter serve it.
    server = http.createServer((req, res) => {
      if (req.url === `/base/static/${PLOTLY_STATIC_FILE}`) {
        plotlyRequests++;
        res.writeHead(200, { 'content-type': 'application/javascript' });
        fs.createReadStream(path.join(plotlyDir(), 'plotly.min.js')).pipe(res);
      } else {
        const page = pages.get(req.url ?? '');
        res.writeHead(page ? 200 : 404, { 'content-type': 'text/html' });
        res.end(page ?? 'no such page');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  const pages = new Map<string, string>();
  const chart = () => chartHtml([{ type: 'scatter', mode: 'lines', y: [1, 3, 2] }]);
  async function open(url: string, html: string): Promise<{ text: string; drawn: boolean }> {
    pages.set(url, html);
    const tab = await browser.newPage();
    await tab.goto(`${base}${url}`);
    await tab.waitForFunction(
      "document.querySelector('.genlab-chart .main-svg') || !document.querySelector('.genlab-chart-note')",
      null,
      { timeout: 20000 },
    );
    const result = (await tab.evaluate(
      "({ text: document.querySelector('.genlab-chart').textContent, drawn: !!document.querySelector('.genlab-chart .scatterlayer path.js-line') })",
    )) as { text: string; drawn: boolean };
    await tab.close();
    return result;
  }

  it('before its script runs (an untrusted notebook), it says why it is blank and what to do', () => {
    assert.ok(chart().includes(`<p class="genlab-chart-note"`));
    assert.ok(chart().includes('run this cell again, or trust the notebook (File → Trust Notebook)'));
  });

  it('draws with plotly.js sent earlier in the page', async () => {
    const result = await open('/inline', `<body>${plotlyLibraryScript()}${chart()}</body>`);
    assert.strictEqual(result.drawn, true);
    assert.ok(!result.text.includes('trust'), 'the note is gone');
  });

  it('without it, fetches plotly.js from the Jupyter server named by the page (classic Notebook, JupyterLab)', async () => {
    const before = plotlyRequests;
    assert.strictEqual((await open('/classic', `<body data-base-url="/base/">${chart()}</body>`)).drawn, true);
    const config = `<script id="jupyter-config-data" type="application/json">{"baseUrl": "/base/"}</script>`;
    assert.strictEqual((await open('/lab', `<body>${config}${chart()}</body>`)).drawn, true);
    assert.strictEqual(plotlyRequests - before, 2, 'one request per page');
  });

  it('with no plotly.js anywhere (an HTML file on its own), says so in a sentence', async () => {
    const result = await open('/bare', `<body>${chart()}</body>`);
    assert.deepStrictEqual(result, { text: NO_PLOTLY_NOTE, drawn: false });
    const missing = await open('/missing', `<body data-base-url="/nowhere/">${chart()}</body>`);
    assert.deepStrictEqual(missing, { text: NO_PLOTLY_NOTE, drawn: false });
  });
});
