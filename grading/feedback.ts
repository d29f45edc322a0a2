/**
 * The student's feedback page: each test's outcome in words next to the test's
 * visible code, and the student's own cells — no hidden test code and no outputs
 * (a student's cell could print anything the kernel holds). Rendered to HTML by
 * nbconvert; a plain HTML summary if nbconvert is missing.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { escapeHtml } from '../lib/viz/display';
import { findJupyter, jupyterEnv } from '../jupyter/environment';
import { Assembly } from './assemble';
import { Cell, gradeId, isAutoTest, Notebook, sourceOf, toLines, writeNotebook } from './notebook';
import { releaseNotebook } from './release';
import { Results } from './results';

const markdown = (text: string): Cell => ({ cell_type: 'markdown', metadata: {}, source: toLines(text) });

/**
 * `text` as literal characters in markdown: nbconvert renders markdown without sanitizing it, so
 * text from a submission (an error message, a cell name, a written answer) must not become HTML,
 * a link or formatting. Markup characters become HTML entities, and the punctuation markdown
 * gives a meaning is backslash-escaped (those nbconvert's mistune unescapes: not `:` or `=`).
 */
export function literalMarkdown(text: string): string {
  return text
    .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)
    .replace(/[\\`*_{}[\]()#+\-.!|~]/g, (c) => `\\${c}`)
    .replace(/\n/g, '  \n');
}
const code = (cell: Cell): Cell => ({
  cell_type: 'code',
  metadata: {},
  source: cell.source,
  outputs: [],
  execution_count: null,
});

export function feedbackNotebook(source: Notebook, assembly: Assembly | undefined, results: Results): Notebook {
  const released = releaseNotebook(source, 'the source notebook');
  const byId = new Map(released.cells.filter((c) => gradeId(c)).map((c) => [gradeId(c)!, c]));
  const cells: Cell[] = [
    markdown(
      `# Feedback: ${literalMarkdown(results.extra_data.submission as string)}\n\n${results.output
        .split('\n')
        .map((l) => `- ${literalMarkdown(l)}`)
        .join('\n')}`,
    ),
  ];
  const testsByName = new Map(results.tests.map((t) => [t.name, t]));
  const assembled = assembly?.notebook.cells ?? [];
  assembled.forEach((cell, i) => {
    const origin = assembly!.origins[i];
    if (origin === 'instructor' && isAutoTest(cell)) {
      const visible = byId.get(gradeId(cell)!) ?? cell;
      const t = testsByName.get(gradeId(cell)!);
      cells.push(code(visible));
      if (t)
        cells.push(
          markdown(
            `**${t.status === 'passed' ? '✅' : '❌'} Test \`${t.name}\` — ${t.score} / ${t.max_score} points.** ${literalMarkdown(t.output)}`,
          ),
        );
    } else if (origin === 'instructor') {
      const visible = gradeId(cell) ? (byId.get(gradeId(cell)!) ?? cell) : cell;
      cells.push(
        visible.cell_type === 'code'
          ? code(visible)
          : markdown(Array.isArray(visible.source) ? visible.source.join('') : visible.source),
      );
    } else {
      const label =
        origin === 'student-added'
          ? '*(a cell you added)*'
          : origin === 'restored-stub'
            ? '*(this cell was missing from your submission; restored)*'
            : '';
      if (label) cells.push(markdown(label));
      // The student's own markdown (a written answer) is shown as the text it is, never rendered.
      cells.push(cell.cell_type === 'code' ? code(cell) : markdown(literalMarkdown(sourceOf(cell))));
    }
  });
  if (!assembly)
    for (const t of results.tests)
      cells.push(markdown(`**❌ Test \`${t.name}\` — 0 / ${t.max_score} points.** ${literalMarkdown(t.output)}`));
  return {
    cells,
    metadata: { kernelspec: source.metadata.kernelspec, language_info: source.metadata.language_info },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

export async function writeFeedback(
  outDir: string,
  source: Notebook,
  assembly: Assembly | undefined,
  results: Results,
): Promise<string> {
  const nbPath = path.join(outDir, 'feedback.ipynb');
  writeNotebook(nbPath, feedbackNotebook(source, assembly, results));
  const html = path.join(outDir, 'feedback.html');
  const jupyter = findJupyter();
  const converted = jupyter
    ? await new Promise<boolean>((resolve) =>
        execFile(
          jupyter,
          ['nbconvert', '--to', 'html', '--log-level=ERROR', '--output', 'feedback', '--output-dir', outDir, nbPath],
          { env: jupyterEnv(), timeout: 120000 },
          (err) => resolve(!err),
        ),
      )
    : false;
  if (!converted) {
    const rows = results.tests
      .map(
        (t) =>
          `<tr><td>${escapeHtml(t.name)}</td><td>${t.score} / ${t.max_score}</td><td>${escapeHtml(t.output)}</td></tr>`,
      )
      .join('');
    fs.writeFileSync(
      html,
      `<!doctype html><meta charset="utf-8"><title>Feedback</title><pre>${escapeHtml(results.output)}</pre><table>${rows}</table>\n`,
    );
  }
  fs.rmSync(nbPath, { force: true });
  return html;
}
