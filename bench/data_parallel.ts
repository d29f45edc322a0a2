/**
 * Two ways to put both cores to work on one training step, measured side by side:
 *
 * - threads: one process, tfjs-backend-wasm's threaded build (what genlab does), each
 *   kernel split over the cores;
 * - data parallelism: one single-threaded process per core, each stepping on its share
 *   of the batch, their gradients averaged.
 *
 * Data parallelism is not built; this measures what it could at best give. Its step
 * cannot be faster than the slowest share's step taken while the other shares run on
 * the other cores, so that is what is timed (gradient exchange not counted, which
 * favours it). Against the threaded step at the full batch, it says whether building
 * it would pay.
 *
 *   npm run bench:data-parallel
 *   npm run bench:data-parallel -- --models dcgan,mlp-vae --seconds 20
 *
 * Writes bench/results/data-parallel.json.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { init } from '../lib/index';
import { flag, median, numberFlag, runBench, timeRuns, writeResult } from './common';
import type { FlagSpec } from '../lib/command_line';
import { BATCH_SIZE, createWorkload, WorkloadName } from './workloads';

const TRAINING: WorkloadName[] = ['dcgan', 'conv-vae', 'mlp-vae', 'pixelcnn'];

/** The child process: times one workload at one batch size, on the wasm threads its environment asks for. */
async function measure(name: WorkloadName, batch: number, seconds: number, out: string): Promise<void> {
  await init({ backend: 'wasm', quiet: true });
  const workload = createWorkload(name, batch);
  const ms = median(await timeRuns(() => workload.run(), seconds, 2, 3));
  workload.dispose();
  fs.writeFileSync(out, JSON.stringify(ms));
}

/** Starts `copies` processes at once, each timing `name` at `batch` with `threads` wasm threads; their medians in ms. */
async function timeTogether(
  name: WorkloadName,
  batch: number,
  threads: number,
  copies: number,
  seconds: number,
): Promise<number[]> {
  const runs = Array.from({ length: copies }, (_, i) => {
    const out = path.join(os.tmpdir(), `genlab-dp-${process.pid}-${name}-${i}.json`);
    const child = spawn(
      process.execPath,
      [__filename, '--worker', name, '--batch', String(batch), '--seconds', String(seconds), '--out', out],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, GENLAB_WASM_THREADS: String(threads) },
      },
    );
    return new Promise<number>((resolve, reject) =>
      child.on('exit', (code) => {
        if (code !== 0 || !fs.existsSync(out))
          return reject(new Error(`timing ${name} at batch ${batch} failed (exit ${code}).`));
        const ms = JSON.parse(fs.readFileSync(out, 'utf8')) as number;
        fs.rmSync(out);
        resolve(ms);
      }),
    );
  });
  return Promise.all(runs);
}

/** The flags this benchmark accepts; any other stops it with a sentence. */
const FLAGS: Record<string, FlagSpec> = {
  seconds: { kind: 'number', value: 'S' },
  models: { kind: 'string', value: 'a,b,…' },
  batch: { kind: 'number' },
  worker: { kind: 'string', value: '<workload>' },
  out: { kind: 'string', value: '<file>' },
};

async function main(): Promise<void> {
  const seconds = numberFlag('seconds', 15);
  const worker = flag('worker', '');
  if (worker) return measure(worker as WorkloadName, numberFlag('batch', BATCH_SIZE), seconds, flag('out', ''));

  const models = flag('models', TRAINING.join(',')).split(',') as WorkloadName[];
  for (const m of models)
    if (!TRAINING.includes(m))
      throw new Error(`--models: '${m}' is not a training step; choose from ${TRAINING.join(', ')}.`);
  const cores = os.cpus().length;
  if (cores < 2) throw new Error('This machine has one core: there is nothing to split between threads or processes.');
  if (BATCH_SIZE % cores) throw new Error(`The batch of ${BATCH_SIZE} does not split evenly over ${cores} cores.`);
  const share = BATCH_SIZE / cores;

  const rows = [];
  console.log(`batch ${BATCH_SIZE}, ${cores} cores; ms per step (median)`);
  console.log(
    'workload     1 thread   threaded   data-parallel bound   threads gain   data-parallel gain over threads',
  );
  for (const name of models) {
    const [single] = await timeTogether(name, BATCH_SIZE, 1, 1, seconds);
    const [threaded] = await timeTogether(name, BATCH_SIZE, cores, 1, seconds);
    const shares = await timeTogether(name, share, 1, cores, seconds);
    const bound = Math.max(...shares);
    const row = {
      workload: name,
      batch: BATCH_SIZE,
      cores,
      singleThreadMs: single,
      threadedMs: threaded,
      shareMs: shares,
      dataParallelBoundMs: bound,
    };
    rows.push(row);
    console.log(
      `${name.padEnd(12)} ${single.toFixed(0).padStart(6)} ms ${threaded.toFixed(0).padStart(7)} ms ${bound.toFixed(0).padStart(12)} ms ${`${(single / threaded).toFixed(2)}×`.padStart(17)} ${`${(threaded / bound).toFixed(2)}×`.padStart(14)}`,
    );
  }
  console.log(
    `(data-parallel bound: the slower of ${cores} single-threaded processes stepping on ${share} images each at the same time, gradient exchange not counted)`,
  );
  console.log(
    `results in ${writeResult('data-parallel', { date: new Date().toISOString(), machine: `${cores} cores, ${os.cpus()[0].model}`, rows })}`,
  );
}

runBench('npm run bench:data-parallel', FLAGS, main);
