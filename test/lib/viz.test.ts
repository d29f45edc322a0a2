import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../lib/engine/backend';
import { imageGridPng, showImages } from '../../lib/viz/images';
import { chartHtml, heatmap, lineChart, scatterChart } from '../../lib/viz/plotly';
import { formatDuration, progress } from '../../lib/viz/progress';
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
