/**
 * No comment, doc or notebook names a file that does not exist: every path of the project's own folders that the
 * sources mention (`packages/engine/src/native/addon.ts`, `dist/bench/labs.js`, …) is checked against the tree. A
 * compiled path (`dist/…/x.js`) counts when its source (`…/x.ts`) exists; generated outputs (bench/results/) are
 * exempt. Inside a workspace package (packages/engine/), a path may also be relative to the package (its `src/…`).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../jupyter/environment';
import { filesBelow } from './helpers';

const ROOT = projectRoot();
const SKIP = new Set(['node_modules', 'dist', '.git', 'test-artifacts', 'genlab-output', 'build', 'results']);
const TEXT = /\.(ts|py|sh|md|cc|h|ipynb|json|yml|yaml)$|^run$/;

const files = (dir: string) =>
  filesBelow(
    dir,
    (name) => TEXT.test(name) && name !== 'package-lock.json',
    (name) => !SKIP.has(name) && (!name.startsWith('.') || name === '.ci'),
  );

const MENTION =
  /(?<![\w/.-])(dist\/)?((?:lib|grading|jupyter|scripts|bench|test|native|notebooks|datasets|pretrained|packages|src|\.ci)\/[A-Za-z0-9_./-]*[A-Za-z0-9_]\.(?:ts|py|js|json|ipynb|md|cc|h|sh))\b/g;

/** The folders a path named in `file` may be relative to: the project, and the workspace package `file` is in. */
function basesOf(file: string): string[] {
  const inPackage = /^packages\/[^/]+\//.exec(path.relative(ROOT, file));
  return inPackage ? [ROOT, path.join(ROOT, inPackage[0])] : [ROOT];
}

function exists(compiled: boolean, mentioned: string, bases: string[]): boolean {
  if (mentioned.startsWith('bench/results/')) return true;
  const candidates = compiled ? [mentioned.replace(/\.d\.ts$|\.js$/, '.ts'), mentioned] : [mentioned];
  return bases.some((base) => candidates.some((c) => fs.existsSync(path.join(base, c))));
}

describe('paths named in the sources exist', () => {
  it('every file path a comment, doc or notebook names is in the tree', () => {
    const missing: string[] = [];
    const scanned = files(ROOT);
    // The sources, docs and notebooks are read (a walk that found nothing would prove nothing).
    assert.ok(
      scanned.some((f) => f.endsWith(path.join('lib', 'index.ts'))) &&
        scanned.some((f) => f.endsWith(path.join('packages', 'engine', 'src', 'index.ts'))) &&
        scanned.length > 100,
      `${scanned.length} files read`,
    );
    for (const file of scanned) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(MENTION))
        if (!exists(Boolean(m[1]), m[2], basesOf(file))) missing.push(`${path.relative(ROOT, file)} names ${m[0]}`);
    }
    assert.deepStrictEqual(missing, []);
  });
});
