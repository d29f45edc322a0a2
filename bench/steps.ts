/**
 * Training speed of the lab models on every backend present, side by side with the
 * same architectures in PyTorch, in one run (ratios, since machines are noisy).
 *
 *   npm run bench                                  # every backend, every workload
 *   npm run bench -- --backends wasm,wasm+native --models dcgan,pixelcnn --seconds 5
 *   npm run bench -- --limit 600                   # let one slow run take up to 10 minutes
 *
 * `webgpu` is a column where a forced webgpu starts; on a software adapter (Mesa's llvmpipe, a machine without a
 * GPU) it is marked `(sw)`, since its times are a CPU's and say nothing of a GPU's.
 *
 * `wasm+native` is the wasm backend with genlab's native kernels (oneDNN; packages/engine/src/native/), a column of its
 * own where the addon is built; the plain `wasm` column then runs with GENLAB_NATIVE=0.
 *
 * Each backend runs in its own process (a clean heap, and backends cannot share
 * weights); PyTorch runs bench/torch_steps.py with one thread per core, from Debian's
 * python3-torch, which this script installs (with libopenblas0-pthread) when it is
 * missing and it runs as root on Debian; each workload is timed with OpenBLAS on one
 * thread and threaded, and the faster is the peer (see TORCH_LAYOUTS). Trainable parameter counts are printed for
 * both sides, and a mismatch stops the benchmark: a ratio between different
 * architectures means nothing. Writes bench/results/latest.json.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { init, tf } from '../lib/index';
import { BACKEND_CHOICES, BackendChoice } from '../lib/backend';
import { nativeAddonPath } from 'genlab-engine';
import { projectRoot } from '../jupyter/environment';
import { flag, median, numberFlag, runBench, timeRuns, writeResult } from './common';
import type { FlagSpec } from '../lib/command_line';
import { BATCH_SIZE, createWorkload, SAMPLE_COUNT, WORKLOAD_NAMES, WorkloadName } from './workloads';

interface Timing {
  trainableParams: number;
  runs: number;
  msPerRun: number;
  allMs: number[];
}

interface BackendResult {
  backend: string;
  line: string;
  /** webgpu's adapter: its label, and whether it is a software renderer (a CPU drawing for a GPU, slower than wasm). */
  gpu?: { label: string; software: boolean };
  results: Record<string, Timing>;
  skipped: Record<string, string>;
}

/** The pure-JS cpu backend takes minutes per conv step: one unwarmed run each, and no sampling (hours). */
const CPU_NOTE = 'one run, no warm-up; a workload is stopped after --limit seconds (default 300)';

/** The child process: times the workloads on one backend and writes them to `--out`. */
async function measureBackend(
  backend: BackendChoice,
  models: WorkloadName[],
  seconds: number,
  out: string,
): Promise<void> {
  const info = await init({ backend, quiet: true });
  const result: BackendResult = { backend, line: info.line, results: {}, skipped: {} };
  if (info.gpu) result.gpu = { label: info.gpu.label, software: info.gpu.software };
  // A forced webgpu that cannot start runs on wasm: its times would be wasm's under webgpu's name.
  if (info.fellBack) {
    for (const name of models) result.skipped[name] = info.fellBack;
    fs.writeFileSync(out, JSON.stringify(result));
    return;
  }
  // The plain-JS cpu backend and a software GPU (the CPU drawing for it, tens of times slower than wasm) get one run each,
  // and skip the 784 passes of sampling, so that a whole bench stays within minutes.
  const slow = backend === 'cpu' || result.gpu?.software === true;
  for (const name of models) {
    if (slow && name === 'pixelcnn-sample') {
      result.skipped[name] =
        backend === 'cpu'
          ? 'not run on cpu (784 passes at seconds each)'
          : 'not run on a software adapter (784 passes at a quarter of a second each)';
      continue;
    }
    const workload = createWorkload(name);
    const sampling = name === 'pixelcnn-sample';
    const allMs = await timeRuns(
      () => workload.run(),
      slow || sampling ? 0 : seconds,
      slow || sampling ? 0 : 2,
      slow || sampling ? 1 : 3,
    );
    result.results[name] = {
      trainableParams: workload.trainableParams,
      runs: allMs.length,
      msPerRun: median(allMs),
      allMs,
    };
    workload.dispose();
    console.error(
      `  ${backend} ${name}: ${median(allMs).toFixed(0)} ms (${allMs.length} runs; ${tf.memory().numTensors} tensors live)`,
    );
  }
  fs.writeFileSync(out, JSON.stringify(result));
}

/** A column of the table: a backend, and the environment its process runs with. */
interface Column {
  name: string;
  backend: BackendChoice;
  env: Record<string, string>;
}

/** The columns `--backends` may name: each backend, and wasm with and without genlab's native kernels. */
function column(name: string): Column {
  if (name === 'wasm+native') return { name, backend: 'wasm', env: { GENLAB_NATIVE: '1' } };
  if (!(BACKEND_CHOICES as readonly string[]).includes(name))
    throw new Error(
      `--backends: unknown backend '${name}'; choose from ${[...BACKEND_CHOICES, 'wasm+native'].join(', ')}.`,
    );
  return { name, backend: name as BackendChoice, env: name === 'wasm' ? { GENLAB_NATIVE: '0' } : {} };
}

/** Whether a forced webgpu starts here (on any adapter, software included: its column says which). */
function webgpuStarts(): boolean {
  const script = `require(${JSON.stringify(path.join(projectRoot(), 'dist', 'lib'))}).init({ backend: 'webgpu', quiet: true }).then((i) => process.exit(i.backend === 'webgpu' ? 0 : 1))`;
  return spawnSync(process.execPath, ['-e', script], { stdio: 'ignore' }).status === 0;
}

/** Backends this machine can run; the native ones only when their packages load, wasm+native when it is built. */
function presentColumns(): Column[] {
  const loads = (pkg: string) =>
    spawnSync(process.execPath, ['-e', `require(${JSON.stringify(pkg)})`], { stdio: 'ignore' }).status === 0;
  const present: string[] = [];
  if (loads('@tensorflow/tfjs-node-gpu')) present.push('tensorflow-gpu');
  if (webgpuStarts()) present.push('webgpu');
  if (!present.includes('tensorflow-gpu') && loads('@tensorflow/tfjs-node')) present.push('tensorflow-cpu');
  present.push('wasm');
  if (fs.existsSync(nativeAddonPath())) present.push('wasm+native');
  present.push('cpu');
  return present.map(column);
}

/** A Python that imports torch: GENLAB_PYTHON, Debian's, then the PATH's; installs Debian's when it can. */
function findTorchPython(): { python: string; note?: string } | { python?: undefined; note: string } {
  const candidates = [process.env.GENLAB_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  const hasTorch = (py: string) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  for (const py of candidates) if (hasTorch(py)) return { python: py };
  const isRoot = process.getuid?.() === 0;
  if (isRoot && fs.existsSync('/usr/bin/apt-get')) {
    console.log("PyTorch is missing: installing Debian's python3-torch and libopenblas0-pthread (apt-get)…");
    const apt = spawnSync('apt-get', ['install', '-y', '-q', 'python3-torch', 'libopenblas0-pthread'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (apt.status === 0 && hasTorch('/usr/bin/python3'))
      return { python: '/usr/bin/python3', note: 'installed python3-torch' };
  }
  return {
    note: 'PyTorch not found: install it (Debian: apt-get install python3-torch libopenblas0-pthread) or set GENLAB_PYTHON to a Python that has it',
  };
}

type TorchRun = { torch: string; threads: number; results: Record<string, Timing & { layout?: string }> };

/**
 * PyTorch's thread layouts, each tried for every workload; the faster one is the peer.
 * torch parallelises convolutions with its own OpenMP pool, but Debian's torch hands
 * matrix products to OpenBLAS, whose pthreads build keeps a second pool: with both
 * pools busy on two cores, a DCGAN step measured 316 ms (runs from 175 to 986 ms)
 * where with OpenBLAS on one thread it took 127 ms. A large matrix product, on the
 * other hand, wants OpenBLAS's threads (13 ms against 21). So neither layout is fair
 * to every workload, and comparing against a slowed-down peer would flatter genlab.
 */
const TORCH_LAYOUTS: { name: string; env: Record<string, string> }[] = [
  { name: 'OpenBLAS 1 thread', env: { OPENBLAS_NUM_THREADS: '1' } },
  { name: 'OpenBLAS threaded', env: { OPENBLAS_NUM_THREADS: String(os.cpus().length) } },
];

function runTorch(python: string, models: WorkloadName[], seconds: number): TorchRun {
  const script = path.join(projectRoot(), 'bench', 'torch_steps.py');
  const names = [...models, ...(models.includes('pixelcnn-sample') ? ['pixelcnn-sample-full'] : [])];
  let best: TorchRun | undefined;
  for (const layout of TORCH_LAYOUTS) {
    const stdout = execFileSync(
      python,
      [script, '--models', names.join(','), '--seconds', String(seconds), '--threads', String(os.cpus().length)],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 26,
        env: { ...process.env, ...layout.env },
      },
    );
    const run = JSON.parse(stdout.trim().split('\n').pop()!) as TorchRun;
    for (const [name, timing] of Object.entries(run.results)) {
      timing.layout = layout.name;
      console.error(`  PyTorch ${name}, ${layout.name}: ${timing.msPerRun.toFixed(0)} ms (${timing.runs} runs)`);
    }
    if (!best) best = run;
    else
      for (const [name, timing] of Object.entries(run.results))
        if (timing.msPerRun < best.results[name].msPerRun) best.results[name] = timing;
  }
  return best!;
}

/**
 * Times one workload on `backend` in its own process, stopped after `limitS` seconds
 * (the pure-JS cpu backend takes minutes per conv step, a PixelCNN step more than
 * 15), and records it in `into`: a run over the limit is reported as such.
 */
function timeOn(into: BackendResult, col: Column, name: WorkloadName, seconds: number, limitS: number): void {
  const backend = col.name;
  const out = path.join(os.tmpdir(), `genlab-bench-${process.pid}-${backend}-${name}.json`);
  const child = spawnSync(
    process.execPath,
    [__filename, '--worker', col.backend, '--models', name, '--seconds', String(seconds), '--out', out],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: limitS * 1000,
      killSignal: 'SIGKILL',
      env: { ...process.env, ...col.env },
    },
  );
  if (child.error && (child.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    into.skipped[name] = `stopped: one run took over ${limitS} s (--limit)`;
    console.error(`  ${backend} ${name}: over ${limitS} s, stopped`);
    return;
  }
  if (child.status !== 0 || !fs.existsSync(out)) {
    into.skipped[name] = `failed (exit ${child.status ?? child.signal})`;
    return;
  }
  const result = JSON.parse(fs.readFileSync(out, 'utf8')) as BackendResult;
  fs.rmSync(out);
  into.line = result.line;
  if (result.gpu) into.gpu = result.gpu;
  // The worker names its backend; the column may be a variant of it (wasm+native).
  for (const [k, v] of Object.entries(result.skipped)) into.skipped[k] = v;
  Object.assign(into.results, result.results);
}

const fmt = (ms: number | undefined) =>
  ms === undefined ? '—' : ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`;

/** The flags this benchmark accepts; any other stops it with a sentence. */
const FLAGS: Record<string, FlagSpec> = {
  models: { kind: 'string', value: 'a,b,…' },
  backends: { kind: 'string', value: 'a,b,…' },
  seconds: { kind: 'number', value: 'S' },
  limit: { kind: 'number', value: 'S' },
  worker: { kind: 'string', value: '<backend>' },
  out: { kind: 'string', value: '<file>' },
};

async function main(): Promise<void> {
  const models = flag('models', WORKLOAD_NAMES.join(',')).split(',') as WorkloadName[];
  for (const m of models)
    if (!WORKLOAD_NAMES.includes(m))
      throw new Error(`--models: unknown workload '${m}'; choose from ${WORKLOAD_NAMES.join(', ')}.`);
  const seconds = numberFlag('seconds', 10);
  const worker = flag('worker', '');
  if (worker) return measureBackend(worker as BackendChoice, models, seconds, flag('out', ''));

  const requested = flag('backends', '');
  const columns = requested ? requested.split(',').map(column) : presentColumns();
  const backends = columns.map((c) => c.name);

  const limitS = numberFlag('limit', 300);
  const runs: BackendResult[] = backends.map((backend) => ({ backend, line: '', results: {}, skipped: {} }));
  const columnOf = (run: BackendResult) => columns.find((c) => c.name === run.backend)!;
  const py = findTorchPython();
  if (!py.python) console.log(py.note);
  let torch: ReturnType<typeof runTorch> | undefined;
  // Workload by workload, each backend and then PyTorch right after it, so that a pair
  // compared in a ratio is measured minutes apart, not a whole run apart (these
  // machines drift). The cpu backend, minutes per step, goes last in each round.
  const order = [...runs].sort((a, b) => Number(a.backend === 'cpu') - Number(b.backend === 'cpu'));
  for (const name of models) {
    console.log(`${name}:`);
    for (const run of order.filter((r) => r.backend !== 'cpu')) timeOn(run, columnOf(run), name, seconds, limitS);
    if (py.python) {
      const t = runTorch(py.python, [name], seconds);
      torch = torch ? { ...torch, results: { ...torch.results, ...t.results } } : t;
    }
    for (const run of order.filter((r) => r.backend === 'cpu')) timeOn(run, columnOf(run), name, seconds, limitS);
  }

  // Same architectures or no ratio.
  for (const run of runs) {
    if (!torch) continue;
    for (const [name, t] of Object.entries(run.results)) {
      const peer = torch.results[name];
      if (peer && peer.trainableParams !== t.trainableParams) {
        throw new Error(
          `${name}: genlab has ${t.trainableParams} trainable parameters and the PyTorch peer ${peer.trainableParams}; the architectures differ, so the ratio would mean nothing. Fix bench/torch_steps.py.`,
        );
      }
    }
  }

  const rows = models.map((name) => {
    const perBackend: Record<string, number | undefined> = {};
    let params: number | undefined;
    for (const run of runs) {
      if (run.results[name]) {
        perBackend[run.backend] = run.results[name].msPerRun;
        params = run.results[name].trainableParams;
      }
    }
    const torchMs = torch?.results[name]?.msPerRun;
    const ratios: Record<string, number | undefined> = {};
    for (const b of backends) ratios[b] = perBackend[b] !== undefined && torchMs ? perBackend[b]! / torchMs : undefined;
    const msPerRun: Record<string, number | undefined> = { ...perBackend, torch: torchMs };
    return {
      workload: name,
      trainableParams: { genlab: params, torch: torch?.results[name]?.trainableParams },
      msPerRun,
      ratioToTorch: ratios,
      torchLayout: torch?.results[name]?.layout,
    };
  });

  const stopped = (b: string, name: string) =>
    runs.some((run) => run.backend === b && run.skipped[name]?.startsWith('stopped'));
  const cell = (b: string, name: string, ms: number | undefined) =>
    ms === undefined && stopped(b, name) ? `> ${limitS} s` : fmt(ms);
  console.log(
    `\nms per run (median); batch ${BATCH_SIZE} for training steps, ${SAMPLE_COUNT} images for sampling; ratio = genlab / PyTorch (≤ 1.0 is as fast or faster)`,
  );
  // A software adapter's column is marked: its times are a CPU's drawing for a GPU, not a GPU's.
  const software = (b: string) => runs.find((r) => r.backend === b)?.gpu?.software === true;
  const label = (b: string) => (software(b) ? `${b} (sw)` : b);
  const header = [
    'workload'.padEnd(16),
    'params genlab/torch'.padStart(20),
    ...backends.map((b) => label(b).padStart(12)),
    'torch'.padStart(10),
    ...backends.map((b) => `${label(b)}/torch`.padStart(18)),
  ];
  console.log(header.join(' '));
  for (const r of rows) {
    const cells = [
      r.workload.padEnd(16),
      `${r.trainableParams.genlab ?? '—'}/${r.trainableParams.torch ?? '—'}`.padStart(20),
      ...backends.map((b) => cell(b, r.workload, r.msPerRun[b]).padStart(12)),
      fmt(r.msPerRun.torch).padStart(10),
      ...backends.map((b) =>
        (r.ratioToTorch[b] === undefined ? '—' : `${r.ratioToTorch[b]!.toFixed(2)}×`).padStart(18),
      ),
    ];
    console.log(cells.join(' '));
  }
  if (torch)
    console.log(
      `(PyTorch at its faster thread layout: ${rows
        .filter((r) => r.torchLayout)
        .map((r) => `${r.workload} ${r.torchLayout}`)
        .join(', ')})`,
    );
  const fullSample = torch?.results['pixelcnn-sample-full'];
  if (fullSample)
    console.log(
      `(PyTorch sampling with the textbook loop, the whole image every pass, instead of genlab's window: ${fmt(fullSample.msPerRun)})`,
    );
  const slowColumns = backends.filter((b) => b === 'cpu' || software(b));
  if (slowColumns.length) console.log(`(${slowColumns.map(label).join(', ')}: ${CPU_NOTE})`);
  for (const run of runs)
    if (run.gpu)
      console.log(
        run.gpu.software
          ? `(${run.backend} (sw): ${run.gpu.label}, a software renderer: it checks that the backend runs, and says nothing of a GPU's speed)`
          : `(${run.backend}: ${run.gpu.label})`,
      );
  for (const run of runs)
    for (const [name, why] of Object.entries(run.skipped)) console.log(`${run.backend} ${name}: ${why}`);

  const file = writeResult('latest', {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    backends: runs.map((r) => ({ backend: r.backend, line: r.line, gpu: r.gpu, skipped: r.skipped })),
    torch: torch
      ? { version: torch.torch, threads: torch.threads, python: py.python, pixelcnnSampleFullMs: fullSample?.msPerRun }
      : { missing: py.note },
    secondsPerWorkload: seconds,
    rows,
    raw: { genlab: runs, torch },
  });
  console.log(`results in ${file}`);
}

runBench('npm run bench', FLAGS, main);
