/**
 * The sandbox a submission runs in, and how the grader chooses one.
 *
 * - `bubblewrap` (Debian's `bubblewrap`): new namespaces for the runner and the
 *   student's kernel — no network but their own loopback, their own PIDs — a
 *   read-only view of /usr and of the project's built library and node_modules, a
 *   private /tmp, and one writable work folder. The source notebook, the hidden tests
 *   (they reach the runner on stdin, never as a file), other submissions and the
 *   grader's output folder are not in that view.
 * - `unshare` (util-linux): a new network namespace and PID namespace only. A new
 *   network namespace starts with its loopback *down*, and the kernel talks to its
 *   client over 127.0.0.1, so the runner brings `lo` up first (run_graded.py); files
 *   stay visible.
 * - `none`: no isolation at all; for trusted notebooks, and for machines with neither
 *   tool (macOS). It is said in the CLI's output and in every results.json.
 *
 * Memory: RLIMIT_DATA on the whole sandbox where `prlimit` exists (it stops array-buffer
 * and wasm bombs and leaves wasm's address reservations alone), and Node's
 * --max-old-space-size for the JS heap everywhere.
 *
 * A kind is only chosen after it has run a real kernel end to end (runner.ts,
 * `chooseSandbox`): a sandbox that starts but cannot reach its kernel would give
 * every student zero.
 */
import * as fs from 'fs';
import * as path from 'path';
import { findProgram } from '../jupyter/prerequisites';

export const SANDBOX_KINDS = ['bubblewrap', 'unshare', 'none'] as const;
export type SandboxKind = (typeof SANDBOX_KINDS)[number];

export interface SandboxSpec {
  /** Writable folder: the kernel's working directory and HOME. */
  workDir: string;
  /** Paths visible read-only at the same place. */
  readOnly: string[];
  env: Record<string, string>;
  memoryBytes: number;
}

export interface SandboxCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/** What a sandbox kind keeps submission code away from, and what it does not. */
export function containment(kind: SandboxKind): { contained: string[]; notContained: string[] } {
  const network = 'the network (its own loopback only)';
  const processes = "the grader's processes (its own PID namespace)";
  const files = 'files: the source notebook with its solutions and hidden tests, other submissions, the output folder';
  const memory = findProgram('prlimit') ? 'memory beyond the limit (RLIMIT_DATA)' : undefined;
  const all = { bubblewrap: [network, processes, files], unshare: [network, processes], none: [] as string[] }[kind];
  const everything = [network, processes, files];
  return {
    contained: memory ? [...all, memory] : all,
    notContained: [
      ...everything.filter((c) => !all.includes(c)),
      ...(memory ? [] : ['memory beyond the JS heap limit (prlimit is missing)']),
    ],
  };
}

export function describeSandbox(kind: SandboxKind): string {
  const { notContained } = containment(kind);
  const summary = {
    bubblewrap: 'bubblewrap: no network, own PIDs, read-only system and library, only its work folder writable',
    unshare: 'unshare: no network and own PIDs, but files are NOT isolated (install bubblewrap for that)',
    none: 'none: the submission ran WITHOUT isolation (install bubblewrap; use only for trusted notebooks)',
  }[kind];
  return notContained.length ? `${summary}; not contained: ${notContained.join('; ')}` : summary;
}

/** `/lib`, `/bin`… are symlinks into /usr on merged-/usr systems; mirror them, else bind them. */
function systemMounts(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const dir of ['/lib', '/lib64', '/lib32', '/bin', '/sbin']) {
    if (!fs.existsSync(dir)) continue;
    const stat = fs.lstatSync(dir);
    if (stat.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  // Name lookups for the current user and locale data; nothing secret lives there.
  for (const file of ['/etc/passwd', '/etc/group', '/etc/nsswitch.conf', '/etc/localtime'])
    if (fs.existsSync(file)) args.push('--ro-bind', file, file);
  return args;
}

const isRoot = () => process.getuid?.() === 0;

/** The command line that runs `command` in a sandbox of `kind`, with only `spec.env` as its environment. */
export function sandboxed(kind: SandboxKind, command: string[], spec: SandboxSpec): SandboxCommand {
  // The programs the kernel runs are named by absolute path; PATH is for anything they start.
  const pathDirs = [
    ...new Set([path.dirname(command[0]), path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin']),
  ];
  const env: Record<string, string> = { ...spec.env, HOME: spec.workDir, PATH: pathDirs.join(':'), LANG: 'C.UTF-8' };
  // The runner brings the loopback up itself in a bare network namespace (bubblewrap does it for us).
  if (kind === 'unshare') env.GENLAB_LOOPBACK_UP = '1';
  const prlimit = findProgram('prlimit');
  const limited = (args: string[]): SandboxCommand =>
    prlimit
      ? { file: prlimit, args: [`--data=${spec.memoryBytes}`, '--', ...args], env }
      : { file: args[0], args: args.slice(1), env };
  if (kind === 'bubblewrap') {
    const args = [
      '--unshare-all',
      '--die-with-parent',
      '--new-session',
      '--clearenv',
      ...systemMounts(),
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--tmpfs',
      '/tmp',
    ];
    for (const p of spec.readOnly) args.push('--ro-bind', p, p);
    args.push('--bind', spec.workDir, spec.workDir, '--chdir', spec.workDir);
    for (const [k, v] of Object.entries(env)) args.push('--setenv', k, v);
    return limited([findProgram('bwrap') ?? 'bwrap', ...args, '--', ...command]);
  }
  if (kind === 'unshare') {
    // Without root, a user namespace (mapped to root inside) is what lets us own the new network namespace.
    const user = isRoot() ? [] : ['--user', '--map-root-user'];
    return limited([
      findProgram('unshare') ?? 'unshare',
      ...user,
      '--net',
      '--pid',
      '--fork',
      '--kill-child',
      ...command,
    ]);
  }
  return limited(command);
}

/** Paths of the project the kernel needs to see (read-only). */
export function projectMounts(root: string): string[] {
  return ['package.json', 'dist', 'node_modules', '.jupyter', path.join('grading', 'run_graded.py')].map((p) =>
    path.join(root, p),
  );
}
