/**
 * The project's own Python virtual environment (`.venv/`, git-ignored): Jupyter from PyPI, pinned, for the
 * course, the notebook runner and the grader. `npm run setup` makes it; nothing else installs Python packages.
 *
 * Why a virtual environment of our own: Debian 12 packages only the classic Notebook 6.4, while students
 * install JupyterLab 4 and Notebook 7 with pip; one pinned set (jupyter/requirements.txt, every package it
 * brings pinned in jupyter/constraints.txt) is what the tests run, on every machine. The test suite adds
 * nbgrader (jupyter/requirements-tests.txt).
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { findProgram } from './prerequisites';
import { projectRoot } from './project_root';

/** Where the environment is: `.venv/` in the project, or where GENLAB_VENV says (a test's scratch one, a cache). */
export function venvDir(): string {
  return process.env.GENLAB_VENV ? path.resolve(process.env.GENLAB_VENV) : path.join(projectRoot(), '.venv');
}

/** The environment's Python and its `jupyter` command (present once setup made them). */
export function venvPython(): string {
  return path.join(venvDir(), 'bin', 'python');
}
export function venvJupyter(): string {
  return path.join(venvDir(), 'bin', 'jupyter');
}

/** The requirements file for the course, or for the course and the tests. */
export function requirementsFile(forTests: boolean): string {
  return path.join(projectRoot(), 'jupyter', forTests ? 'requirements-tests.txt' : 'requirements.txt');
}
/**
 * The Python that makes the environment: Debian's own where it is (a pyenv or other Python earlier on PATH may lack
 * the system's certificates or headers), else `python3` on PATH.
 */
function basePython(): string | undefined {
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : findProgram('python3');
}

/**
 * The installation the environment's Python runs from (the folder above the `home` that pyvenv.cfg names): a
 * sandbox must show it, as well as .venv/, for that Python to start. /usr for Debian's.
 */
export function venvBasePrefix(): string | undefined {
  try {
    const cfg = fs.readFileSync(path.join(venvDir(), 'pyvenv.cfg'), 'utf8');
    const home = /^home\s*=\s*(.+)$/m.exec(cfg)?.[1].trim();
    return home ? path.dirname(fs.realpathSync(home)) : undefined;
  } catch {
    return undefined;
  }
}

const CONSTRAINTS = () => path.join(projectRoot(), 'jupyter', 'constraints.txt');

/** The command that installs the pinned set into the environment (what setup runs, and tells a user to run). */
export function pipInstallArgs(forTests: boolean): string[] {
  const rel = (p: string) => path.relative(projectRoot(), p);
  return ['-m', 'pip', 'install', '-r', rel(requirementsFile(forTests)), '-c', rel(CONSTRAINTS())];
}

/**
 * A fingerprint of what is installed: the requirements and constraints files' text, and which set. Setup skips
 * pip when the environment holds this fingerprint already (setup is run often; pip takes seconds even with
 * nothing to do).
 */
function fingerprint(forTests: boolean): string {
  const hash = createHash('sha256');
  for (const f of [requirementsFile(false), requirementsFile(forTests), CONSTRAINTS()]) hash.update(fs.readFileSync(f));
  return hash.digest('hex');
}
const STAMP = () => path.join(venvDir(), 'genlab-installed.sha256');

/**
 * Why pip failed, in a phrase: PyPI unreachable (with the reason: an untrusted certificate, no connection), else
 * pip's last error line. (pip ends an unreachable index with "ResolutionImpossible", which would mislead.) `output`
 * is pip's stdout and stderr.
 */
function pipFailure(output: string, status: number | null): string {
  if (/CERTIFICATE_VERIFY_FAILED|SSLError/.test(output))
    return "PyPI's certificate could not be verified: this machine's CA certificates (or PIP_CERT) lack the one its connection presents";
  if (/NewConnectionError|Could not fetch URL|from versions: none/.test(output)) return 'PyPI could not be reached';
  // With no answer from its index, pip reports a pin it found nowhere as a conflict with itself.
  const nowhere = /The user requested (\S+)\s+The user requested \(constraint\) \1\s/.exec(output);
  if (nowhere) return `PyPI could not be reached: pip found no ${nowhere[1]} there`;
  const lines = output.trim().split('\n').filter(Boolean);
  return lines.filter((l) => l.startsWith('ERROR')).pop() ?? lines.pop() ?? `exit ${status}`;
}

export interface PythonEnvResult {
  ok: boolean;
  /** One sentence: what was done, or what failed and exactly what to run. */
  message: string;
}

/**
 * Makes `.venv` with the system's python3 where it is missing, and installs the pinned set into it unless it
 * holds that set already (a test set includes the course's, so a test machine never downgrades to it).
 */
export function ensurePythonEnv(forTests: boolean): PythonEnvResult {
  const rel = path.relative(process.cwd(), venvDir()) || '.venv';
  const python3 = basePython();
  if (!fs.existsSync(venvPython())) {
    if (!python3)
      return { ok: false, message: 'python3 is missing: install Python 3 (Debian: `apt-get install python3-venv`).' };
    const made = spawnSync(python3, ['-m', 'venv', venvDir()], { encoding: 'utf8' });
    if (made.status !== 0) {
      fs.rmSync(venvDir(), { recursive: true, force: true }); // a half-made environment would be taken for one
      const why = (made.stdout + made.stderr).includes('ensurepip')
        ? "Python's venv module lacks ensurepip"
        : `\`python3 -m venv\` failed: ${(made.stderr || made.stdout).trim().split('\n').pop()}`;
      return {
        ok: false,
        message: `${why}: install it (Debian: \`apt-get install python3-venv\`, which \`sudo npm run setup\` does), then \`npm run setup\` again.`,
      };
    }
  }
  const want = fingerprint(forTests);
  const have = fs.existsSync(STAMP()) ? fs.readFileSync(STAMP(), 'utf8').trim().split('\n') : [];
  const sets = forTests ? [want] : [want, fingerprint(true)];
  if (have.some((h) => sets.includes(h)))
    return { ok: true, message: `Python environment ${rel}/ holds the pinned Jupyter already` };
  const args = pipInstallArgs(forTests);
  const pip = (pipArgs: string[]) =>
    spawnSync(venvPython(), pipArgs, {
      cwd: projectRoot(),
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
      // pip's progress is noise here: its output is read for why it failed, not shown.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
  console.log(`setup: installing the pinned Jupyter from PyPI into ${rel}/ (about half a minute)`);
  let result = pip(args);
  let note = '';
  // constraints.txt pins what Debian 12's Python takes; another Python (Ubuntu 22.04's 3.10 on Gradescope) may
  // need other versions of what the course's pins bring. Only when PyPI answered (it listed versions) is that
  // worth a second try without the constraints.
  if (
    result.status !== 0 &&
    /ResolutionImpossible|from versions: /.test(result.stderr) &&
    !pipFailure(result.stdout + result.stderr, result.status).startsWith('PyPI')
  ) {
    const retry = pip(args.slice(0, args.indexOf('-c')));
    if (retry.status === 0) {
      result = retry;
      note =
        " (this Python cannot take every version constraints.txt pins, so pip chose the ones the course's pins did not fix)";
    }
  }
  if (result.status !== 0) {
    const why = pipFailure(result.stdout + result.stderr, result.status);
    const then = why.startsWith('PyPI')
      ? 'It needs PyPI (or a mirror: PIP_INDEX_URL); once reachable, run `npm run setup` again, or yourself'
      : 'Once that is fixed, run `npm run setup` again, or yourself';
    return {
      ok: false,
      message: `pip could not install Jupyter into ${rel}/ (${why}). ${then}: \`${path.join(rel, 'bin', 'python')} ${args.join(' ')}\`.`,
    };
  }
  fs.writeFileSync(STAMP(), `${want}\n`);
  return {
    ok: true,
    message: `Python environment ${rel}/: installed ${path.basename(requirementsFile(forTests))}${note}`,
  };
}
