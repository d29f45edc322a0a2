/**
 * Runs an assembled notebook inside a sandbox, cell by cell, through run_graded.py and
 * the real kernel; and chooses the sandbox by doing exactly that with one cell.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GenlabError } from '../lib/errors';
import { jupyterPython, KERNEL_NAME, kernelSpecInstalled, projectRoot } from '../jupyter/environment';
import { findProgram } from '../jupyter/prerequisites';
import { Notebook } from './notebook';
import { redactedLibrary } from './redact';
import { projectMounts, SANDBOX_KINDS, sandboxed, SandboxKind } from './sandbox';

export interface RunLimits {
  /** Seconds the kernel may take to start and answer (default 120). */
  startupTimeoutS?: number;
  /** Fresh kernels to try before giving up on starting one (default 3). */
  startupAttempts?: number;
  /** Seconds a cell may run unless its metadata (genlab.timeout) says otherwise. */
  cellTimeoutS: number;
  /** Seconds the whole notebook may run. */
  totalTimeoutS: number;
  /** Memory for the sandbox, MiB. */
  memoryMiB: number;
  /** Output kept per cell, bytes. */
  outputCapBytes: number;
  /** GENLAB_PROFILE for the kernel. */
  profile: 'smoke' | 'full';
  /** The answer keys the lab withholds: the kernel's library has no body for them (grading/redact.ts). */
  withheld?: string[];
}

export interface CellOutcome {
  index: number;
  status: 'ok' | 'error' | 'timeout' | 'died' | 'not-run' | 'skipped';
  seconds: number;
  stderr?: string;
  stdout?: string;
  reason?: string;
}

export interface RunResult {
  cells: CellOutcome[];
  executed?: Notebook;
  /** Why nothing could be run, in words (the runner itself failed). */
  failure?: string;
  /**
   * The failure came before any of the submission's code ran (no kernel would start, the
   * grading machine lacks Jupyter): the run says nothing about the submission, which must
   * be graded again rather than given 0.
   */
  graderFault?: boolean;
  /** Why each kernel start that was retried failed (the run went on with a later one). */
  startupFailures?: string[];
  /** The runner's and kernel's own messages. */
  log?: string;
}

/** run_graded.py's last line on stdout (its answer channel). */
interface RunnerAnswer {
  cells?: CellOutcome[];
  executed?: Notebook;
  failure?: string;
  grader_fault?: boolean;
  startup_failures?: string[];
}
const KERNEL_READY = '{"kernel_ready": true}';

/**
 * Kernels that share the machine's network (no sandbox) start one at a time. A kernel's ports are
 * chosen free and then bound a moment later by the kernel; two starting at once can be given the
 * same port, and then one runner's heartbeat reaches the other's kernel, which dies on the message
 * ("message missing delimiter", seen in a batch of two jobs): a machine's failure charged to a
 * submission. In a sandbox each kernel has a network namespace of its own.
 */
let sharedNetworkStart: Promise<void> = Promise.resolve();
function startOnSharedNetwork(): Promise<() => void> {
  let release!: () => void;
  const turn = sharedNetworkStart;
  sharedNetworkStart = new Promise<void>((resolve) => (release = resolve));
  return turn.then(() => release);
}

/** What the grading machine lacks to run any kernel (Jupyter's Python, the kernel's registration), in words. */
function missingPrerequisite(python: string | undefined): string | undefined {
  if (!python) return 'Jupyter is not installed on the grading machine (run `npm run setup`).';
  if (!kernelSpecInstalled())
    return 'The "TypeScript (genlab)" kernel is not registered on the grading machine (run `npm run setup`).';
  return undefined;
}

/** The environment of the runner and its kernel: Jupyter's folders in the work folder, the profile, the backend. */
function kernelEnvironment(root: string, workDir: string, limits: RunLimits): Record<string, string> {
  return {
    JUPYTER_PATH: path.join(root, '.jupyter'),
    JUPYTER_RUNTIME_DIR: path.join(workDir, '.jupyter-runtime'),
    JUPYTER_DATA_DIR: path.join(workDir, '.jupyter-data'),
    JUPYTER_CONFIG_DIR: path.join(workDir, '.jupyter-config'),
    GENLAB_PROFILE: limits.profile,
    GENLAB_OUTPUT_DIR: path.join(workDir, 'genlab-output'),
    NODE_OPTIONS: `--max-old-space-size=${Math.max(256, Math.floor(limits.memoryMiB / 2))}`,
    // The wasm backend, single-threaded, without the native addon: the prelude refuses
    // worker threads and addons to the submission, batches already run a kernel per core,
    // and every sandbox kind then grades on the same kernels.
    GENLAB_BACKEND: 'wasm',
    GENLAB_WASM_THREADS: '1',
    GENLAB_NATIVE: '0',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

/** The runner's answer (its last line on stdout), or why there is none, as the run's result. */
function readRunnerAnswer(
  stdout: string,
  stderr: string,
  code: number | null,
  killed: boolean,
  limits: RunLimits,
): RunResult {
  const lines = stdout.trim().split('\n');
  // Before this line no submitted code had run: a runner that stopped earlier is the machine's failure.
  const kernelReady = lines.includes(KERNEL_READY);
  const last = lines[lines.length - 1];
  let parsed: RunnerAnswer | undefined;
  try {
    parsed = last && last !== KERNEL_READY ? (JSON.parse(last) as RunnerAnswer) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed?.failure) {
    // Python's MemoryError: the runner itself did not fit (a kernel's memory bomb ends the kernel, not the runner).
    const tooLittle = /\(MemoryError\b/.test(parsed.failure)
      ? `; the sandbox's memory limit was ${limits.memoryMiB} MiB, too little for the runner and a kernel`
      : '';
    return { cells: [], failure: parsed.failure + tooLittle, graderFault: parsed.grader_fault === true, log: stderr };
  }
  if (parsed)
    return {
      cells: parsed.cells ?? [],
      executed: parsed.executed,
      startupFailures: parsed.startup_failures ?? [],
      log: stderr,
    };
  if (killed)
    return {
      cells: [],
      log: stderr,
      failure: `The submission ran past the ${limits.totalTimeoutS} s limit and was stopped.`,
    };
  const tail = stderr.trim().split('\n').slice(-5).join(' | ').slice(0, 1500);
  return {
    cells: [],
    log: stderr,
    graderFault: !kernelReady,
    failure: kernelReady
      ? `The grader's runner stopped while the notebook ran (exit ${code}): ${tail}`
      : `The grader's runner stopped before a kernel was ready (exit ${code}${limits.memoryMiB < 512 ? `; the sandbox's memory limit was ${limits.memoryMiB} MiB, too little for the runner and a kernel` : ''}): ${tail}`,
  };
}

/**
 * Runs the sandboxed runner with `request` on its stdin until it ends, or until a hard stop past the whole-notebook
 * limit (which starts once a kernel is up) for a kernel that ignores interrupts. `kernelUp` is called once the
 * kernel is ready or the runner has ended.
 */
function runRunner(
  command: { file: string; args: string[]; env: NodeJS.ProcessEnv },
  request: string,
  limits: RunLimits,
  hardStopS: number,
  kernelUp: () => void,
): Promise<RunResult> {
  return new Promise<RunResult>((resolve) => {
    const child = spawn(command.file, command.args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: command.env,
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, hardStopS * 1000);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes(KERNEL_READY)) kernelUp();
    });
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-20000)));
    child.stdin.on('error', () => undefined);
    child.stdin.end(request);
    child.on('error', (err) => {
      clearTimeout(timer);
      kernelUp();
      resolve({ cells: [], graderFault: true, failure: `The grader could not start its runner (${err.message}).` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      kernelUp();
      resolve(readRunnerAnswer(stdout, stderr, code, killed, limits));
    });
  });
}

/** Runs `notebook` in a fresh kernel inside a sandbox of `kind`; never rejects. */
export async function runGraded(notebook: Notebook, limits: RunLimits, kind: SandboxKind): Promise<RunResult> {
  const root = projectRoot();
  const python = jupyterPython();
  const missing = missingPrerequisite(python);
  if (missing) return { cells: [], graderFault: true, failure: missing };
  let library: string;
  try {
    library = redactedLibrary(root, limits.withheld ?? []);
  } catch (err) {
    return { cells: [], graderFault: true, failure: (err as Error).message };
  }
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-grade-'));
  // The kernel runs in this empty folder; `genlab` (the redacted one, and its types) and the
  // project's packages resolve through this link.
  fs.symlinkSync(path.join(library, 'node_modules'), path.join(workDir, 'node_modules'));
  const command = sandboxed(kind, [python!, path.join(root, 'grading', 'run_graded.py')], {
    workDir,
    readOnly: projectMounts(root),
    projectRoot: root,
    library,
    memoryBytes: limits.memoryMiB * 2 ** 20,
    env: kernelEnvironment(root, workDir, limits),
  });
  const startupTimeoutS = limits.startupTimeoutS ?? 120;
  const startupAttempts = limits.startupAttempts ?? 3;
  const request = JSON.stringify({
    notebook,
    kernel: KERNEL_NAME,
    cell_timeout: limits.cellTimeoutS,
    total_timeout: limits.totalTimeoutS,
    output_cap: limits.outputCapBytes,
    startup_timeout: startupTimeoutS,
    startup_attempts: startupAttempts,
    cwd: workDir,
  });
  // Until this run's kernel is up (or its runner ends): see startOnSharedNetwork.
  const kernelUp = kind === 'none' ? await startOnSharedNetwork() : () => undefined;
  try {
    return await runRunner(
      command,
      request,
      limits,
      limits.totalTimeoutS + startupTimeoutS * startupAttempts + 60,
      kernelUp,
    );
  } finally {
    kernelUp();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

const PROBE_MARK = 'genlab-sandbox-probe-ok';
const probes = new Map<SandboxKind, Promise<string | undefined>>();

/**
 * Runs one cell through the real kernel inside a sandbox of `kind`; resolves with
 * undefined when the cell ran and its output came back, else with why not, in words.
 * Done once per kind and process (a batch probes once).
 */
export function probeSandbox(kind: SandboxKind): Promise<string | undefined> {
  let probe = probes.get(kind);
  if (!probe) {
    probe = (async () => {
      if (kind === 'bubblewrap' && !findProgram('bwrap'))
        return 'bwrap is not installed (Debian: apt-get install bubblewrap)';
      if (kind === 'unshare' && !findProgram('unshare')) return 'unshare is not installed (util-linux)';
      const cell = {
        cell_type: 'code' as const,
        id: 'probe',
        metadata: {},
        source: `console.log(${JSON.stringify(PROBE_MARK)});`,
        outputs: [],
        execution_count: null,
      };
      const run = await runGraded(
        { cells: [cell], metadata: { kernelspec: { name: 'genlab' } }, nbformat: 4, nbformat_minor: 5 },
        {
          cellTimeoutS: 60,
          totalTimeoutS: 120,
          startupTimeoutS: 60,
          // A kind that cannot reach its kernel fails every start; two tries keep one slow
          // start from passing a working sandbox over for a weaker one.
          startupAttempts: 2,
          memoryMiB: 2048,
          outputCapBytes: 10_000,
          profile: 'smoke',
        },
        kind,
      );
      if (run.failure) return run.failure;
      const outcome = run.cells[0];
      if (outcome?.status === 'ok' && (outcome.stdout ?? '').includes(PROBE_MARK)) return undefined;
      return `a one-line cell did not run inside it (${outcome ? `${outcome.status}${outcome.reason ? `: ${outcome.reason}` : ''}` : 'no result'})`;
    })();
    probes.set(kind, probe);
  }
  return probe;
}

export interface SandboxChoice {
  kind: SandboxKind;
  /** The stronger kinds that were tried first and why each was passed over. */
  passedOver: { kind: SandboxKind; reason: string }[];
}

/**
 * The strongest sandbox that runs a kernel end to end here; with `forced`, that kind,
 * after proving it works (a GenlabError says why it does not, before anything is graded).
 */
export async function chooseSandbox(forced?: SandboxKind): Promise<SandboxChoice> {
  if (forced) {
    const reason = await probeSandbox(forced);
    if (reason) throw new GenlabError(`--sandbox ${forced} does not work on this machine: ${reason}.`);
    return { kind: forced, passedOver: [] };
  }
  const passedOver: SandboxChoice['passedOver'] = [];
  for (const kind of SANDBOX_KINDS) {
    const reason = await probeSandbox(kind);
    if (!reason) return { kind, passedOver };
    passedOver.push({ kind, reason });
  }
  throw new GenlabError(
    `no sandbox, not even none, could run a kernel here: ${passedOver.map((p) => `${p.kind}: ${p.reason}`).join('; ')}. Run \`npm run setup\`.`,
  );
}
