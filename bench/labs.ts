/**
 * Lab quality benchmark (any lab; by default labs 1 and 2): runs each notebook top to bottom in the
 * full profile through the real kernel (what a student runs), and reports the wall
 * time, the time of each cell, the figures the notebook reports with `reportFigure`,
 * and whether the lab's quality targets hold. Writes bench/results/labs.json.
 *
 *   npm run bench:labs                          # 01 and 02, full profile
 *   npm run bench:labs -- --notebooks 02        # one of them
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Figure, readFigures } from '../lib/report';
import { projectRoot } from '../jupyter/environment';
import { describeFailure, runNotebook } from '../jupyter/notebook_runner';
import { flag, runBench, writeResult } from './common';
import { readNotebook } from '../jupyter/notebook';
import type { FlagSpec } from '../lib/command_line';

/** A lab's full profile must finish within a class period on a 2-core laptop (wasm). */
const MAX_SECONDS = 15 * 60;

interface Target {
  says: string;
  holds: (figure: (name: string) => number) => boolean;
}

const TARGETS: Record<string, Target[]> = {
  '01-supervised-vs-unsupervised.ipynb': [
    { says: 'CNN test accuracy ≥ 98%', holds: (f) => f('CNN test accuracy') >= 98 },
  ],
  '02-autoencoders.ipynb': [
    {
      says: 'the pretrained encoder beats training from scratch with 100 labels',
      holds: (f) => f('100 labels, pretrained encoder: test accuracy') > f('100 labels, from scratch: test accuracy'),
    },
    {
      says: 'a larger bottleneck reconstructs better (d = 2 > 8 > 32 in test MSE)',
      holds: (f) =>
        f('conv autoencoder (d = 2) test MSE') > f('conv autoencoder (d = 8) test MSE') &&
        f('conv autoencoder (d = 8) test MSE') > f('conv autoencoder (d = 32) test MSE'),
    },
  ],
  '03-vae.ipynb': [{ says: 'MLP VAE test −ELBO ≤ 95 nats', holds: (f) => f('MLP VAE: test −ELBO') <= 95 }],
  '04-pixelcnn.ipynb': [{ says: 'PixelCNN test NLL ≤ 90 nats', holds: (f) => f('PixelCNN: test NLL') <= 90 }],
  '05-gan.ipynb': [
    {
      // The conditional DCGAN is asked for each digit in turn, so its coverage only shows that it obeys; the
      // judge's confidence says whether its digits are clear. (The unconditional DCGAN's figures are reported too.)
      says: 'conditional DCGAN: 10 of 10 digits at mean judge confidence ≥ 0.9',
      holds: (f) =>
        f('conditional DCGAN: digits covered') === 10 && f('conditional DCGAN: mean classifier confidence') >= 0.9,
    },
  ],
  '06-flows.ipynb': [{ says: 'RealNVP test bits/dim ≤ 1.4', holds: (f) => f('RealNVP: test bits/dim') <= 1.4 }],
  '07-diffusion.ipynb': [
    {
      says: 'diffusion: 10 of 10 digits at judge confidence ≥ 0.9 (1,000 guided samples)',
      holds: (f) => f('diffusion: digits the judge finds') === 10 && f('diffusion: judge confidence') >= 0.9,
    },
  ],
};

/** Seconds each code cell took: from the kernel's "busy" to its "idle", as nbclient records them in the executed notebook. */
function cellSeconds(executed: string): { cell: string; seconds: number }[] {
  return readNotebook(executed)
    .cells.filter(
      (c) =>
        c.cell_type === 'code' &&
        c.metadata.execution?.['iopub.status.busy'] &&
        c.metadata.execution?.['iopub.status.idle'],
    )
    .map((c) => ({
      cell: c.metadata.nbgrader?.grade_id ?? c.id ?? '?',
      seconds:
        (Date.parse(c.metadata.execution!['iopub.status.idle']) -
          Date.parse(c.metadata.execution!['iopub.status.busy'])) /
        1000,
    }));
}

/** The flags this benchmark accepts; any other stops it with a sentence. */
const FLAGS: Record<string, FlagSpec> = { notebooks: { kind: 'string', value: '01,02,…' } };

async function main(): Promise<void> {
  const wanted = flag('notebooks', '01,02')
    .split(',')
    .map((s) => s.trim());
  const dir = path.join(projectRoot(), 'notebooks');
  const notebooks = fs
    .readdirSync(dir)
    .filter((f) => wanted.some((w) => f.startsWith(w)) && f.endsWith('.ipynb') && !f.includes('.executed.'))
    .sort();
  if (notebooks.length === 0) throw new Error(`No notebook in notebooks/ starts with ${wanted.join(' or ')}.`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-bench-labs-'));
  const results = [];
  let allHeld = true;
  for (const name of notebooks) {
    const figuresFile = path.join(work, `${name}.figures.jsonl`);
    const output = path.join(projectRoot(), 'bench', 'results', name.replace('.ipynb', '.full.ipynb'));
    console.log(`${name}: running the full profile through the kernel …`);
    const run = await runNotebook(path.join(dir, name), {
      profile: 'full',
      output,
      cellTimeoutS: MAX_SECONDS,
      env: { GENLAB_FIGURES: figuresFile },
    });
    if (!run.ok) throw new Error(describeFailure(name, run));
    const figures: Figure[] = readFigures(figuresFile);
    const figure = (n: string) => {
      const found = figures.find((f) => f.name === n);
      if (!found)
        throw new Error(`${name} reported no figure '${n}'; it reported: ${figures.map((f) => f.name).join(', ')}.`);
      return found.value;
    };
    const targets = [
      { says: `the full profile finishes within ${MAX_SECONDS / 60} minutes`, held: run.seconds <= MAX_SECONDS },
      ...(TARGETS[name] ?? []).map((t) => ({ says: t.says, held: t.holds(figure) })),
    ];
    allHeld &&= targets.every((t) => t.held);
    const cells = cellSeconds(output);
    console.log(`${name}: ${(run.seconds / 60).toFixed(1)} min`);
    for (const f of figures)
      console.log(
        `  ${f.name}: ${Number.isInteger(f.value) ? f.value : f.value.toFixed(4)}${f.unit ? ` ${f.unit}` : ''}`,
      );
    console.log(
      `  slowest cells: ${[...cells]
        .sort((a, b) => b.seconds - a.seconds)
        .slice(0, 5)
        .map((c) => `${c.cell} ${c.seconds.toFixed(0)} s`)
        .join(', ')}`,
    );
    for (const t of targets) console.log(`  ${t.held ? 'met   ' : 'MISSED'} ${t.says}`);
    results.push({
      notebook: name,
      seconds: run.seconds,
      figures,
      targets,
      cells,
      executed: path.relative(projectRoot(), output),
    });
  }
  const file = writeResult('labs', {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`,
    results,
  });
  console.log(
    `${allHeld ? 'every target met' : 'some targets missed'}; results in ${path.relative(projectRoot(), file)}`,
  );
  fs.rmSync(work, { recursive: true, force: true });
}

runBench('npm run bench:labs', FLAGS, main);
