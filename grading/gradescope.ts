/**
 * `genlab-grade gradescope --source <source.ipynb> --out <dir>`: the autograder folder
 * for Gradescope (zip its contents and upload). Gradescope runs setup.sh once when it
 * builds the image and run_autograder for each submission; both run the same
 * `genlab-grade autograde` as everywhere else.
 */
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../jupyter/environment';
import { readNotebook } from './notebook';
import { lintSource } from './release';
import { GenlabError } from '../lib/errors';

const PROJECT_FILES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'README.md',
  'lib',
  'grading',
  'jupyter',
  'scripts',
  'packages/engine', // the npm workspace genlab depends on (its build outputs are left out: `npm ci` makes them)
];

/** Build outputs that the image's `npm ci` makes again. */
const NOT_COPIED = [/\/dist$/, /\/native\/build$/, /\/node_modules$/];

export function exportGradescope(sourcePath: string, outDir: string): string[] {
  const problems = lintSource(readNotebook(sourcePath), path.basename(sourcePath));
  if (problems.length) throw new GenlabError(`${sourcePath} cannot be exported:\n- ${problems.join('\n- ')}`);
  const root = projectRoot();
  const lab = path.basename(sourcePath);
  fs.mkdirSync(outDir, { recursive: true });
  const project = path.join(outDir, 'genlab');
  fs.rmSync(project, { recursive: true, force: true });
  for (const f of PROJECT_FILES)
    fs.cpSync(path.join(root, f), path.join(project, f), {
      recursive: true,
      filter: (from) => !NOT_COPIED.some((p) => p.test(from)),
    });
  fs.copyFileSync(sourcePath, path.join(outDir, lab));
  const setup = `#!/usr/bin/env bash
# Gradescope image setup (runs once, with network). Node >= 18 is needed; Ubuntu's is older,
# so it comes from NodeSource. bubblewrap comes from apt; Jupyter from PyPI, pinned, into the
# project's own Python environment (\`npm run setup\`, which needs python3-venv).
set -euo pipefail
ROOT="\${AUTOGRADER_ROOT:-/autograder}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q ca-certificates curl python3 python3-venv bubblewrap util-linux
if ! node --version 2>/dev/null | grep -qE '^v(1[89]|[2-9][0-9])'; then
  curl -fsSL https://deb.nodesource.com/setup_20.x | bash -
  apt-get install -y -q nodejs
fi
cd "$ROOT/source/genlab"
npm ci
npm run setup
`;
  const run = `#!/usr/bin/env bash
# Grades one submission: the first .ipynb Gradescope put in submission/.
set -uo pipefail
ROOT="\${AUTOGRADER_ROOT:-/autograder}"
submission=$(find "$ROOT/submission" -maxdepth 2 -name '*.ipynb' | sort | head -n 1)
[ -n "$submission" ] || submission="$ROOT/submission/(no notebook submitted).ipynb"
mkdir -p "$ROOT/results"
cd "$ROOT/source/genlab"
node dist/grading/cli.js autograde "$submission" --source "$ROOT/source/${lab}" --out "$ROOT/results/genlab"
cp "$ROOT/results/genlab/results.json" "$ROOT/results/results.json"
`;
  fs.writeFileSync(path.join(outDir, 'setup.sh'), setup, { mode: 0o755 });
  fs.writeFileSync(path.join(outDir, 'run_autograder'), run, { mode: 0o755 });
  return ['setup.sh', 'run_autograder', lab, 'genlab/'].map((f) => path.join(outDir, f));
}
