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
import { detectSandbox } from '../grading/sandbox';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const root = path.join(__dirname, '..', '..');
  const lab = path.resolve(arg('lab', path.join(root, 'notebooks', '03-vae.ipynb')));
  const count = Number(arg('count', '6'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-bench-grading-'));
  const source = readNotebook(lab);
  fs.mkdirSync(path.join(dir, 'in'), { recursive: true });
  // Half complete solutions, half untouched releases: both paths of the grader.
  for (let i = 0; i < count; i++) writeNotebook(path.join(dir, 'in', `student-${i}.ipynb`), i % 2 === 0 ? source : releaseNotebook(source, path.basename(lab)));
  const runs: Record<string, unknown>[] = [];
  for (const jobs of [1, 2]) {
    const { results, seconds } = await batch(path.join(dir, 'in'), { source: lab, out: path.join(dir, `out-${jobs}`), jobs });
    const perSubmission = [...results.values()].map((r) => r.execution_time);
    const mean = perSubmission.reduce((a, b) => a + b, 0) / perSubmission.length;
    runs.push({ jobs, submissions: results.size, wallSeconds: seconds, meanSecondsPerSubmission: mean, submissionsPerMinute: (60 * results.size) / seconds });
    console.log(`jobs ${jobs}: ${results.size} submissions in ${seconds.toFixed(1)} s — ${mean.toFixed(1)} s each on average, ${((60 * results.size) / seconds).toFixed(1)} per minute`);
  }
  const speedup = (runs[0].wallSeconds as number) / (runs[1].wallSeconds as number);
  console.log(`2 jobs vs 1: ${speedup.toFixed(2)}× the throughput (${os.cpus().length} cores; sandbox ${detectSandbox()})`);
  const out = path.join(root, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'grading.json'), `${JSON.stringify({ lab: path.basename(lab), sandbox: detectSandbox(), cores: os.cpus().length, runs, speedup }, null, 2)}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
