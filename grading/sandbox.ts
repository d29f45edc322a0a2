/**
 * The sandbox a submission runs in.
 *
 * Preferred: bubblewrap (Debian's `bubblewrap`). The runner and the student's kernel
 * get new namespaces (no network but their own loopback, their own PIDs), a
 * read-only view of /usr and of the project's built library and node_modules, a
 * private /tmp, and one writable work folder. The source notebook, the hidden
 * tests (they reach the runner on stdin, never as a file), other submissions and
 * the grader's output folder are not in that view. Memory: RLIMIT_DATA on the
 * whole sandbox (it stops array-buffer and wasm bombs and leaves wasm's address
 * reservations alone) and Node's --max-old-space-size for the JS heap.
 *
 * Fallbacks, reported in every results.json: `unshare` (util-linux) isolates the
 * network and PIDs only — files stay visible; `none` isolates nothing and is meant
 * for trusted runs (an instructor validating their own notebook).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { which } from '../jupyter/environment';

export type SandboxKind = 'bubblewrap' | 'unshare' | 'none';

export interface SandboxSpec {
  /** Writable folder: the kernel's working directory and HOME. */
  workDir: string;
  /** Paths visible read-only at the same place. */
  readOnly: string[];
  env: Record<string, string>;
  memoryBytes: number;
}

let detected: SandboxKind | undefined;

/** The strongest sandbox that works on this machine (tried once, with a trivial command). */
export function detectSandbox(): SandboxKind {
  if (detected) return detected;
  const works = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore', timeout: 10000 }).status === 0;
  if (which('bwrap') && works('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true'])) detected = 'bubblewrap';
  else if (which('unshare') && works('unshare', ['--net', '--pid', '--fork', 'true'])) detected = 'unshare';
  else detected = 'none';
  return detected;
}

export function describeSandbox(kind: SandboxKind): string {
  return {
    bubblewrap: 'bubblewrap: no network, own PIDs, read-only system and library, only its work folder writable',
    unshare: 'unshare: no network and own PIDs, but files are NOT isolated (install bubblewrap for that)',
    none: 'none: the submission ran without isolation (install bubblewrap; use only for trusted notebooks)',
  }[kind];
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
  for (const file of ['/etc/passwd', '/etc/group', '/etc/nsswitch.conf', '/etc/localtime']) if (fs.existsSync(file)) args.push('--ro-bind', file, file);
  return args;
}

/** The command line that runs `command` in the sandbox. */
export function sandboxed(kind: SandboxKind, command: string[], spec: SandboxSpec): { file: string; args: string[] } {
  const env = { ...spec.env, HOME: spec.workDir, PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
  const limit = ['prlimit', `--data=${spec.memoryBytes}`, '--'];
  if (kind === 'bubblewrap') {
    const args = ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv', ...systemMounts(), '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp'];
    for (const p of spec.readOnly) args.push('--ro-bind', p, p);
    args.push('--bind', spec.workDir, spec.workDir, '--chdir', spec.workDir);
    for (const [k, v] of Object.entries(env)) args.push('--setenv', k, v);
    return { file: limit[0], args: [...limit.slice(1), 'bwrap', ...args, '--', ...command] };
  }
  const envArgs = ['env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
  if (kind === 'unshare') return { file: limit[0], args: [...limit.slice(1), 'unshare', '--net', '--pid', '--fork', '--kill-child', ...envArgs, ...command] };
  return { file: limit[0], args: [...limit.slice(1), ...envArgs, ...command] };
}

/** Paths of the project the kernel needs to see (read-only). */
export function projectMounts(root: string): string[] {
  return ['package.json', 'dist', 'node_modules', '.jupyter', path.join('grading', 'run_graded.py')].map((p) => path.join(root, p));
}
