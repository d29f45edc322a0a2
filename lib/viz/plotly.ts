/**
 * Charts with plotly.js, rendered as `text/html` with plotly.js inlined.
 *
 * Why inlined: students may be offline, and nbconvert's HTML export keeps
 * `text/html` (with scripts) but drops plotly's own mime type. The library is
 * sent once per kernel (the first chart carries it); later charts wait for
 * `window.Plotly`. Outside a kernel a chart is written as an HTML file next to
 * one copy of plotly.min.js.
 *
 * A page can lack the library although the kernel sent it: the student re-ran the
 * cell that carried it (its output, and so the saved notebook, no longer holds it),
 * then reopened the notebook. So a chart that finds no `window.Plotly` asks the
 * Jupyter server for it (`npm start` serves plotly.min.js at `<base>static/`, see
 * scripts/start.ts) before it gives up with a sentence. And since Jupyter runs an
 * output's scripts only in a trusted notebook, the chart's div holds a sentence
 * saying so until the script replaces it with the chart.
 */
import * as fs from 'fs';
import * as path from 'path';
import { GenlabError } from '../errors';
import { escapeHtml, inKernel, outputDir, showHtml } from './display';

export type Trace = Record<string, unknown>;
export type Layout = Record<string, unknown>;

let plotlySource: string | undefined;
let plotlySentToKernel = false;
let chartCounter = 0;

function plotlyPath(): string {
  return require.resolve('plotly.js-dist-min/plotly.min.js');
}

/**
 * plotly.js wrapped so that it always defines `window.Plotly`: with require.js on
 * the page (the classic Notebook, nbconvert's templates) its UMD header would
 * otherwise register an AMD module instead. The wrapper hides define/module/exports.
 */
export function plotlyLibraryScript(): string {
  plotlySource ??= fs.readFileSync(plotlyPath(), 'utf8');
  return `<script type="text/javascript">(function (define, module, exports) {\n${plotlySource.replace(/<\/script/gi, '<\\/script')}\n}).call(window);</script>`;
}

/** The file name under which `npm start` serves plotly.js from the Jupyter server's `static/` folder. */
export const PLOTLY_STATIC_FILE = 'plotly.min.js';

/** The folder holding plotly.min.js (`npm start` adds it to the server's static paths). */
export function plotlyDir(): string {
  return path.dirname(plotlyPath());
}

/** What an untrusted notebook shows where a chart would be (the script that replaces it did not run). */
export const UNTRUSTED_CHART_NOTE =
  'This chart is drawn by a script, and Jupyter runs the scripts in a notebook only once you trust it: run this cell again, or trust the notebook (File → Trust Notebook).';

/** What a chart says when plotly.js is nowhere to be had. */
export const NO_PLOTLY_NOTE =
  'This chart needs plotly.js, which genlab sends with the first chart a kernel draws, and this page has not got it: restart the kernel and run all cells (or open the notebook from `npm start`, whose server provides plotly.js).';

/**
 * The HTML of one chart: a div and a script that draws it once plotly.js is there.
 * `frames` (plotly animation frames, each `{ name, data }`) make it an animation,
 * played by the layout's buttons and scrubbed by its slider.
 */
export function chartHtml(traces: Trace[], layout: Layout = {}, height = 420, frames?: Trace[]): string {
  const id = `genlab-chart-${process.pid}-${Date.now().toString(36)}-${++chartCounter}`;
  const fullLayout = { margin: { t: 48, r: 24, b: 56, l: 64 }, template: undefined, ...layout };
  const json = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');
  // Page-side, in ES5: plotly.js sent earlier in this page may still be running, so wait a second for it; then ask
  // the Jupyter server (its base URL is in the classic Notebook's <body>, or in JupyterLab's page config), once per page.
  return `<div id="${id}" class="genlab-chart" style="width:100%;max-width:900px;height:${height}px"><p class="genlab-chart-note" style="font:13px sans-serif;color:#6b7280;padding:12px">${escapeHtml(UNTRUSTED_CHART_NOTE)}</p></div>
<script type="text/javascript">(function () {
  var tries = 0;
  function serverPlotly() {
    if (window.genlabPlotlyFromServer) return window.genlabPlotlyFromServer;
    var base = document.body && document.body.getAttribute('data-base-url');
    var config = document.getElementById('jupyter-config-data');
    if (!base && config) { try { base = JSON.parse(config.textContent).baseUrl; } catch (e) { base = null; } }
    if (!base || !window.fetch) return null;
    window.genlabPlotlyFromServer = fetch(base.replace(/\\/?$/, '/') + 'static/${PLOTLY_STATIC_FILE}').then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.text();
    }).then(function (source) { new Function('define', 'module', 'exports', source).call(window); });
    return window.genlabPlotlyFromServer;
  }
  function draw() {
    var el = document.getElementById(${json(id)});
    if (!el) return;
    if (window.Plotly) {
      el.textContent = '';
      window.Plotly.newPlot(el, {data: ${json(traces)}, layout: ${json(fullLayout)}, frames: ${json(frames ?? [])}, config: {responsive: true, displaylogo: false}});
      return;
    }
    if (++tries < 10) { setTimeout(draw, 100); return; }
    var loading = serverPlotly();
    var giveUp = function () { el.textContent = ${json(NO_PLOTLY_NOTE)}; };
    if (loading) loading.then(function () { if (window.Plotly) draw(); else giveUp(); }, giveUp); else giveUp();
  }
  draw();
})();</script>`;
}

/** Shows a plotly chart in the notebook (an HTML file outside a kernel). */
export function plot(traces: Trace[], layout: Layout = {}, options: { height?: number; frames?: Trace[] } = {}): void {
  const chart = chartHtml(traces, layout, options.height, options.frames);
  if (inKernel()) {
    const withLibrary = plotlySentToKernel ? chart : `${plotlyLibraryScript()}\n${chart}`;
    plotlySentToKernel = true;
    showHtml(withLibrary);
    return;
  }
  const dir = outputDir();
  fs.mkdirSync(dir, { recursive: true });
  const lib = path.join(dir, 'plotly.min.js');
  if (!fs.existsSync(lib)) fs.copyFileSync(plotlyPath(), lib);
  showHtml(`<script src="plotly.min.js"></script>\n${chart}`, 'chart');
}

function title(text?: string): Layout {
  return text ? { title: { text } } : {};
}

function axes(xLabel?: string, yLabel?: string, extra: { xaxis?: Layout; yaxis?: Layout } = {}): Layout {
  return {
    xaxis: { title: { text: xLabel ?? '' }, ...extra.xaxis },
    yaxis: { title: { text: yLabel ?? '' }, ...extra.yaxis },
  };
}

export interface LineChartOptions {
  /** Shared x values; default 0, 1, 2, … */
  x?: ArrayLike<number>;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logY?: boolean;
}

/** One line per named series: `lineChart({ train: [...], test: [...] }, { xLabel: 'step' })`. */
export function lineChart(series: Record<string, ArrayLike<number>>, options: LineChartOptions = {}): void {
  const names = Object.keys(series);
  if (names.length === 0)
    throw new GenlabError('lineChart needs at least one named series, e.g. lineChart({ loss: [3, 2, 1] }).');
  const traces = names.map((name) => {
    const y = Array.from(series[name]);
    const x = options.x ? Array.from(options.x) : y.map((_, i) => i);
    if (x.length !== y.length)
      throw new GenlabError(`lineChart: series '${name}' has ${y.length} values but x has ${x.length}.`);
    return { type: 'scatter', mode: 'lines', name, x, y };
  });
  plot(traces, {
    ...title(options.title),
    ...axes(options.xLabel, options.yLabel, { yaxis: options.logY ? { type: 'log' } : {} }),
  });
}

export interface ScatterOptions {
  /** A class per point: one colour (and legend entry) per distinct label. */
  labels?: ArrayLike<number>;
  /** Names for the label values, e.g. ['0', …, '9'] or Fashion-MNIST's classes. */
  classNames?: readonly string[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  markerSize?: number;
}

/** A 2-D scatter, coloured by label when labels are given. */
export function scatterChart(x: ArrayLike<number>, y: ArrayLike<number>, options: ScatterOptions = {}): void {
  if (x.length !== y.length) throw new GenlabError(`scatterChart: x has ${x.length} points but y has ${y.length}.`);
  const marker = { size: options.markerSize ?? 4, opacity: 0.7 };
  let traces: Trace[];
  if (options.labels) {
    if (options.labels.length !== x.length)
      throw new GenlabError(`scatterChart: ${x.length} points but ${options.labels.length} labels.`);
    const groups = new Map<number, { x: number[]; y: number[] }>();
    for (let i = 0; i < x.length; i++) {
      const label = options.labels[i];
      if (!groups.has(label)) groups.set(label, { x: [], y: [] });
      groups.get(label)!.x.push(x[i]);
      groups.get(label)!.y.push(y[i]);
    }
    traces = [...groups.entries()]
      .sort(([a], [b]) => a - b)
      .map(([label, g]) => ({
        type: 'scattergl',
        mode: 'markers',
        name: options.classNames?.[label] ?? String(label),
        x: g.x,
        y: g.y,
        marker,
      }));
  } else {
    traces = [{ type: 'scattergl', mode: 'markers', x: Array.from(x), y: Array.from(y), marker }];
  }
  plot(traces, { ...title(options.title), ...axes(options.xLabel, options.yLabel) });
}

export interface HeatmapOptions {
  xLabels?: readonly (string | number)[];
  yLabels?: readonly (string | number)[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  colorscale?: string;
  /** Write each cell's value on it (good for confusion matrices). */
  annotate?: boolean;
  /** Square cells (for images and other pixel grids). */
  square?: boolean;
}

/** A heatmap of a matrix given as rows: z[row][col]. Row 0 is drawn at the top. */
export function heatmap(z: number[][], options: HeatmapOptions = {}): void {
  if (z.length === 0 || z.some((row) => row.length !== z[0].length)) {
    throw new GenlabError('heatmap needs a non-empty matrix whose rows all have the same length.');
  }
  const x = options.xLabels ? options.xLabels.map(String) : z[0].map((_, i) => String(i));
  const y = options.yLabels ? options.yLabels.map(String) : z.map((_, i) => String(i));
  const trace: Trace = { type: 'heatmap', z, x, y, colorscale: options.colorscale ?? 'Blues' };
  if (options.annotate) {
    trace.text = z.map((row) => row.map((v) => (Number.isInteger(v) ? String(v) : v.toFixed(2))));
    trace.texttemplate = '%{text}';
  }
  plot(
    [trace],
    {
      ...title(options.title),
      ...axes(options.xLabel, options.yLabel, {
        xaxis: { type: 'category' },
        yaxis: { type: 'category', autorange: 'reversed', ...(options.square ? { scaleanchor: 'x' } : {}) },
      }),
    },
    options.square ? { height: 560 } : {},
  );
}

/** Plain HTML table, for small results next to charts. */
export function tableHtml(rows: (string | number)[][], header?: (string | number)[]): string {
  const cell = (tag: string, v: string | number) =>
    `<${tag} style="padding:2px 10px;text-align:right">${escapeHtml(String(v))}</${tag}>`;
  const head = header ? `<tr>${header.map((h) => cell('th', h)).join('')}</tr>` : '';
  return `<table>${head}${rows.map((r) => `<tr>${r.map((v) => cell('td', v)).join('')}</tr>`).join('')}</table>`;
}

/**
 * An animation of line charts over time, with a play button and a slider: one frame
 * per snapshot, each a set of named series over a shared x. (The lecture's 1-D GAN
 * figure: the data density, the generator's density and D(x) as training goes on.)
 */
export function animatedLineChart(
  x: ArrayLike<number>,
  snapshots: { label: string; series: Record<string, ArrayLike<number>> }[],
  options: { title?: string; xLabel?: string; yLabel?: string; yRange?: [number, number] } = {},
): void {
  if (snapshots.length === 0) throw new GenlabError('animatedLineChart needs at least one snapshot.');
  const xs = Array.from(x);
  const traces = (series: Record<string, ArrayLike<number>>) =>
    Object.entries(series).map(([name, y]) => ({ type: 'scatter', mode: 'lines', name, x: xs, y: Array.from(y) }));
  const frames = snapshots.map((s) => ({ name: s.label, data: traces(s.series) }));
  const play = {
    label: '▶ play',
    method: 'animate',
    args: [null, { frame: { duration: 300, redraw: false }, transition: { duration: 0 }, fromcurrent: true }],
  };
  const pause = {
    label: '❚❚ pause',
    method: 'animate',
    args: [[null], { mode: 'immediate', frame: { duration: 0, redraw: false } }],
  };
  plot(
    traces(snapshots[snapshots.length - 1].series),
    {
      ...title(options.title),
      ...axes(options.xLabel, options.yLabel, { yaxis: options.yRange ? { range: options.yRange } : {} }),
      updatemenus: [{ type: 'buttons', showactive: false, x: 0, y: -0.18, xanchor: 'left', buttons: [play, pause] }],
      sliders: [
        {
          active: snapshots.length - 1,
          x: 0.18,
          len: 0.82,
          y: -0.08,
          currentvalue: { prefix: '' },
          steps: snapshots.map((s) => ({
            label: s.label,
            method: 'animate',
            args: [
              [s.label],
              { mode: 'immediate', frame: { duration: 0, redraw: false }, transition: { duration: 0 } },
            ],
          })),
        },
      ],
    },
    { height: 480, frames },
  );
}
