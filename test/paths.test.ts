/**
 * No comment, doc or notebook names a file that does not exist: every path of the project's own folders that the
 * sources mention (`lib/engine/native/addon.ts`, `dist/bench/labs.js`, …) is checked against the tree. A compiled
 * path (`dist/…/x.js`) counts when its source (`…/x.ts`) exists; generated outputs (bench/results/) are exempt.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../jupyter/environment';

const ROOT = projectRoot();
const SKIP = new Set(['node_modules', 'dist', '.git', 'test-artifacts', 'genlab-output', 'build', 'results']);
const TEXT = /\.(ts|py|sh|md|cc|h|ipynb|json|yml|yaml)$|^run$/;

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return SKIP.has(e.name) || (e.name.startsWith('.') && e.name !== '.ci') ? [] : files(full);
    return TEXT.test(e.name) && e.name !== 'package-lock.json' ? [full] : [];
  });
}

const MENTION =
  /(?<![\w/.-])(dist\/)?((?:lib|grading|jupyter|scripts|bench|test|native|notebooks|datasets|pretrained|\.ci)\/[A-Za-z0-9_./-]*[A-Za-z0-9_]\.(?:ts|py|js|json|ipynb|md|cc|h|sh))\b/g;

function exists(compiled: boolean, mentioned: string): boolean {
  if (mentioned.startsWith('bench/results/')) return true;
  const candidates = compiled ? [mentioned.replace(/\.d\.ts$|\.js$/, '.ts'), mentioned] : [mentioned];
  return candidates.some((c) => fs.existsSync(path.join(ROOT, c)));
}

describe('paths named in the sources exist', () => {
  it('every file path a comment, doc or notebook names is in the tree', () => {
    const missing: string[] = [];
    for (const file of files(ROOT)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(MENTION))
        if (!exists(Boolean(m[1]), m[2])) missing.push(`${path.relative(ROOT, file)} names ${m[0]}`);
    }
    assert.deepStrictEqual(missing, []);
  });
});
