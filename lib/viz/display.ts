/**
 * The one place that talks to the notebook kernel's display.
 *
 * Inside tslab, outputs go to the notebook (`display_data`, or
 * `update_display_data` for live outputs). Outside a kernel (tests, scripts, the
 * grader's CLI) the same calls write files into the output folder
 * (`GENLAB_OUTPUT_DIR`, default `./genlab-output`) and print where they went.
 */
import * as fs from 'fs';
import * as path from 'path';

interface TslabDisplay {
  html(s: string): void;
  png(b: Uint8Array): void;
  markdown(s: string): void;
  text(s: string): void;
}
interface TslabModule {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
}

/**
 * The kernel's tslab module, if this process is a tslab kernel running a cell.
 * Looked up in the require cache rather than required, so that scripts and tests
 * never load tslab (and its TypeScript compiler) just to find out it is absent.
 */
function kernelTslab(): TslabModule | undefined {
  let jupyterPath: string;
  try {
    jupyterPath = require.resolve('tslab/dist/jupyter');
  } catch {
    return undefined;
  }
  const jupyter = require.cache[jupyterPath]?.exports as { lastWriteDisplayData?: unknown } | undefined;
  if (!jupyter || typeof jupyter.lastWriteDisplayData !== 'function') return undefined;
  return require('tslab') as TslabModule;
}

/** True inside a notebook cell run by the tslab kernel. */
export function inKernel(): boolean {
  return kernelTslab() !== undefined;
}

/** Where outputs go outside a kernel. */
export function outputDir(): string {
  return path.resolve(process.env.GENLAB_OUTPUT_DIR ?? 'genlab-output');
}

let fileCounter = 0;

/** Writes `data` to a new file in the output folder; returns its path. */
export function writeOutputFile(stem: string, extension: string, data: string | Uint8Array): string {
  const dir = outputDir();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${stem}-${process.pid}-${++fileCounter}.${extension}`);
  fs.writeFileSync(file, data);
  return file;
}

/**
 * In a kernel, `show` displays the output; outside one, it is written to a file under the output folder,
 * whose path is printed and returned.
 */
function showOrWrite(
  show: (tslab: TslabModule) => void,
  stem: string,
  extension: string,
  data: string | Uint8Array,
): string | undefined {
  const tslab = kernelTslab();
  if (tslab) {
    show(tslab);
    return undefined;
  }
  const file = writeOutputFile(stem, extension, data);
  console.log(`(not in a notebook: wrote ${file})`);
  return file;
}

/** Shows HTML in the notebook, or writes it to a file outside a kernel; returns the file path then. */
export function showHtml(html: string, stem = 'output'): string | undefined {
  return showOrWrite(
    (tslab) => tslab.display.html(html),
    stem,
    'html',
    `<!doctype html>\n<meta charset="utf-8">\n${html}\n`,
  );
}

/** Shows a PNG in the notebook, or writes it to a file outside a kernel. */
export function showPng(png: Uint8Array, stem = 'image'): string | undefined {
  return showOrWrite((tslab) => tslab.display.png(png), stem, 'png', png);
}

/** Shows markdown in the notebook, or prints it. */
export function showMarkdown(markdown: string): void {
  const tslab = kernelTslab();
  if (tslab) tslab.display.markdown(markdown);
  else console.log(markdown);
}

/**
 * An output that can be replaced in place: in a notebook, one display that each
 * `update` overwrites; outside, undefined (callers fall back to the terminal).
 */
export interface LiveOutput {
  html(html: string): void;
  png(png: Uint8Array): void;
}

export function newLiveOutput(): LiveOutput | undefined {
  const tslab = kernelTslab();
  if (!tslab) return undefined;
  const display = tslab.newDisplay();
  return { html: (s) => display.html(s), png: (b) => display.png(b) };
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
