/**
 * The sandbox a submission runs in, and how the grader chooses one.
 *
 * Every kind shows the kernel the redacted library (grading/redact.ts) as `genlab`: the lab's
 * withheld functions have no body anywhere the kernel looks for the library.
 *
 * - `bubblewrap` (Debian's `bubblewrap`): new namespaces for the runner and the
 *   student's kernel — no network but their own loopback, their own PIDs — no
 *   capabilities, a read-only view of /usr, of the project's packages and of the
 *   redacted library, a private /tmp, and one writable work folder. The project's
 *   compiled library and sources, the source notebook, the hidden tests (they reach the
 *   runner on stdin, never as a file), other submissions and the grader's output folder
 *   are not in that view.
 * - `unshare` (util-linux): new user, mount, network and PID namespaces (with their own
 *   /proc), and no capabilities once the runner starts. In its mount namespace the project
 *   folder shows only what bubblewrap shows of it (the redacted library where `dist/` was,
 *   read-only); the rest of the machine's files stay visible. A new network namespace
 *   starts with its loopback *down*, and the kernel talks to its client over 127.0.0.1, so
 *   the runner brings `lo` up first (run_graded.py).
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
import { venvBasePrefix, venvDir } from '../jupyter/python_env';

export const SANDBOX_KINDS = ['bubblewrap', 'unshare', 'none'] as const;
export type SandboxKind = (typeof SANDBOX_KINDS)[number];

export interface SandboxSpec {
  /** Writable folder: the kernel's working directory and HOME. */
  workDir: string;
  /** Paths visible read-only at the same place. */
  readOnly: string[];
  /** The project folder, of which the kernel sees only `readOnly` (and `dist` from `library`). */
  projectRoot: string;
  /** The redacted library package (grading/redact.ts), shown read-only. */
  library: string;
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
  const processes = "the grader's processes (its own PID namespace and /proc, no capabilities)";
  const project = "the project's sources, tests and compiled library (only the redacted library is in view)";
  const files = 'files: the source notebook with its solutions and hidden tests, other submissions, the output folder';
  const memory = findProgram('prlimit') ? 'memory beyond the limit (RLIMIT_DATA)' : undefined;
  const all = {
    bubblewrap: [network, processes, project, files],
    unshare: [network, processes, project],
    none: [] as string[],
  }[kind];
  const everything = [network, processes, project, files];
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
    bubblewrap:
      'bubblewrap: no network, own PIDs, no capabilities, read-only system and redacted library, only its work folder writable',
    unshare:
      "unshare: no network, own PIDs, the project's own files hidden, but other files are NOT isolated (install bubblewrap for that)",
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

/** The command line that runs `command` in a sandbox of `kind`, with only `spec.env` as its environment. */
export function sandboxed(kind: SandboxKind, command: string[], spec: SandboxSpec): SandboxCommand {
  // The programs the kernel runs are named by absolute path; PATH is for anything they start.
  const pathDirs = [
    ...new Set([path.dirname(command[0]), path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin']),
  ];
  const env: Record<string, string> = { ...spec.env, HOME: spec.workDir, PATH: pathDirs.join(':'), LANG: 'C.UTF-8' };
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
    for (const p of [...spec.readOnly, spec.library]) args.push('--ro-bind', p, p);
    args.push('--bind', spec.workDir, spec.workDir, '--chdir', spec.workDir);
    for (const [k, v] of Object.entries(env)) args.push('--setenv', k, v);
    return limited([findProgram('bwrap') ?? 'bwrap', ...args, '--', ...command]);
  }
  if (kind === 'unshare') {
    // A user namespace (mapped to root inside) owns the new mount and network namespaces, so the
    // script below can mount, and nothing it starts has a capability outside them.
    return limited([
      findProgram('unshare') ?? 'unshare',
      '--user',
      '--map-root-user',
      '--mount',
      '--propagation',
      'private',
      '--net',
      '--pid',
      '--fork',
      '--kill-child',
      '--mount-proc',
      '--',
      '/bin/sh',
      '-c',
      unshareScript(spec),
      'genlab-sandbox',
      ...command,
    ]);
  }
  return limited(command);
}

const sh = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * The shell script that, inside unshare's namespaces, gives the project folder bubblewrap's view
 * (the paths in `readOnly`, and the redacted library's `dist` where the project's was, all
 * read-only, on an empty folder), brings the loopback up, and starts the runner ("$@") with no
 * capabilities, so that nothing the kernel does can undo a mount.
 */
function unshareScript(spec: SandboxSpec): string {
  const root = spec.projectRoot;
  const saved = path.join(spec.workDir, '.project');
  const lines = ['set -e', `mkdir -p ${sh(saved)}`, `mount --bind ${sh(root)} ${sh(saved)}`];
  lines.push(`mount -t tmpfs -o mode=755 genlab-project ${sh(root)}`);
  const showAt = (from: string, at: string, isDir: boolean) => {
    lines.push(isDir ? `mkdir -p ${sh(at)}` : `mkdir -p ${sh(path.dirname(at))} && : > ${sh(at)}`);
    lines.push(`mount --bind ${sh(from)} ${sh(at)}`, `mount -o remount,bind,ro ${sh(at)}`);
  };
  for (const p of spec.readOnly) {
    const rel = path.relative(root, p);
    if (rel.startsWith('..') || path.isAbsolute(rel)) continue; // outside the project: already where it is
    const from = path.join(saved, rel);
    showAt(from, p, fs.statSync(p).isDirectory());
  }
  showAt(path.join(spec.library, 'dist'), path.join(root, 'dist'), true);
  lines.push(`mount -o remount,ro ${sh(root)}`, `umount -l ${sh(saved)}`, `rmdir ${sh(saved)}`);
  lines.push('"$@" --loopback-up-only');
  const setpriv = findProgram('setpriv');
  lines.push(setpriv ? `exec ${sh(setpriv)} --bounding-set=-all --inh-caps=-all -- "$@"` : 'exec "$@"');
  return lines.join('\n');
}

/** Paths of the project the kernel needs to see (read-only); the library comes redacted, apart. */
export function projectMounts(root: string): string[] {
  return (
    [
      'node_modules',
      path.join('packages', 'engine'),
      '.jupyter',
      path.join('grading', 'run_graded.py'),
      path.join('jupyter', 'kernel.js'), // the kernelspec's program
      'pretrained',
    ]
      .map((p) => path.join(root, p))
      // The runner's Python and Jupyter (jupyter/python_env.ts), and the installation that Python runs from where it
      // is not /usr, which every sandbox shows anyway (a pyenv Python under /root, say).
      .concat(
        venvDir(),
        [venvBasePrefix() ?? '/usr'].filter((p) => !/^\/usr(\/|$)/.test(p)),
      )
      .filter((p) => fs.existsSync(p))
  );
}
