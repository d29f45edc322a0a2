/**
 * Grading speed (issue: the autograder). Grades the same set of submissions of a lab
 * with 1 and then 2 parallel jobs, in one run, and reports the time per submission
 * and the throughput. Writes bench/results/grading.json.
 *
 *   npm run bench:grading                         # 03-vae, 6 submissions
 *   node dist/bench/grading.js --lab notebooks/03-vae.ipynb --count 4
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { batch } from '../grading/batch';
import { readNotebook, writeNotebook } from '../grading/notebook';
import { releaseNotebook } from '../grading/release';
import { chooseSandbox } from '../grading/runner';
import { projectRoot } from '../jupyter/environment';
import { flag, numberFlag, runBench, writeResult } from './common';
import type { FlagSpec } from '../lib/command_line';

/** The flags this benchmark accepts; any other stops it with a sentence. */
const FLAGS: Record<string, FlagSpec> = { lab: { kind: 'string', value: '<source.ipynb>' }, count: { kind: 'number' } };

async function main(): Promise<void> {
  const root = projectRoot();
  const lab = path.resolve(flag('lab', path.join(root, 'notebooks', '03-vae.ipynb')));
  const count = numberFlag('count', 6);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-bench-grading-'));
  const source = readNotebook(lab);
  fs.mkdirSync(path.join(dir, 'in'), { recursive: true });
  // Half complete solutions, half untouched releases: both paths of the grader.
  for (let i = 0; i < count; i++)
    writeNotebook(
      path.join(dir, 'in', `student-${i}.ipynb`),
      i % 2 === 0 ? source : releaseNotebook(source, path.basename(lab)),
    );
  const runs: Record<string, unknown>[] = [];
  for (const jobs of [1, 2]) {
    const { results, seconds } = await batch(path.join(dir, 'in'), {
      source: lab,
      out: path.join(dir, `out-${jobs}`),
      jobs,
    });
    const perSubmission = [...results.values()].map((r) => r.execution_time);
    const mean = perSubmission.reduce((a, b) => a + b, 0) / perSubmission.length;
    runs.push({
      jobs,
      submissions: results.size,
      wallSeconds: seconds,
      meanSecondsPerSubmission: mean,
      submissionsPerMinute: (60 * results.size) / seconds,
    });
    console.log(
      `jobs ${jobs}: ${results.size} submissions in ${seconds.toFixed(1)} s — ${mean.toFixed(1)} s each on average, ${((60 * results.size) / seconds).toFixed(1)} per minute`,
    );
  }
  const speedup = (runs[0].wallSeconds as number) / (runs[1].wallSeconds as number);
  const { kind: sandbox } = await chooseSandbox();
  console.log(`2 jobs vs 1: ${speedup.toFixed(2)}× the throughput (${os.cpus().length} cores; sandbox ${sandbox})`);
  writeResult('grading', { lab: path.basename(lab), sandbox, cores: os.cpus().length, runs, speedup });
  fs.rmSync(dir, { recursive: true, force: true });
}

runBench('npm run bench:grading', FLAGS, main);
