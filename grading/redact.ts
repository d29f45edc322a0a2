/**
 * The redacted library: the copy of genlab that a graded kernel sees.
 *
 * While a lab is graded, the functions it withholds (lib/answer_keys.ts) must not be an
 * answer by any route. A guard in the running process can be walked around by anything
 * that loads the library afresh (a worker, a child process, a vm context, a module cache
 * emptied or hooked) or reads a closure (the inspector). So the kernel is not given the
 * implementations at all: this builds a package in which each withheld
 * `answerKey('name', implementation)` has `redacted('name')` in place of its
 * implementation, and the sandbox shows the kernel this package where genlab was
 * (grading/sandbox.ts). Every realm and process inside then finds the same stubs, and a
 * copy of `dist/` holds no answer to copy.
 *
 * The package: `package.json`, `dist/lib` (JavaScript redacted, declarations as they are,
 * no source maps), `dist/grading/lockdown.js` (the prelude), `pretrained` (a link), and a
 * `node_modules` folder of links to the project's packages, in which `genlab` is this
 * package itself. It is built once per process and withheld set, in the temporary folder.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { GenlabError } from '../lib/errors';

/** Where `answerKey` is called in compiled code: `(0, answer_keys_1.answerKey)(…)` or `answerKey(…)`. */
const ANSWER_KEY_CALLEE = /(?:([\w$]+)\.)?answerKey\)?$/;

/**
 * `text` (a compiled module) with the implementation of each withheld answer key replaced by
 * a stub, and the names it redacted.
 */
export function redactModule(text: string, withheld: ReadonlySet<string>): { text: string; redacted: string[] } {
  const file = ts.createSourceFile('module.js', text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const edits: { start: number; end: number; text: string; name: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.arguments.length === 2 && ts.isStringLiteral(node.arguments[0])) {
      const callee = ANSWER_KEY_CALLEE.exec(node.expression.getText(file));
      const name = node.arguments[0].text;
      if (callee && withheld.has(name)) {
        const stub = callee[1] ? `(0, ${callee[1]}.redacted)` : 'redacted';
        const impl = node.arguments[1];
        edits.push({ start: impl.getStart(file), end: impl.getEnd(), text: `${stub}(${JSON.stringify(name)})`, name });
        return; // nothing inside the implementation survives
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { text: out, redacted: edits.map((e) => e.name) };
}

/** Copies one compiled file (redacted, without its source-map comment) or declaration file. */
function copyFile(src: string, dst: string, withheld: ReadonlySet<string>, found: Set<string>): void {
  if (src.endsWith('.js')) {
    const plain = fs.readFileSync(src, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
    const r = plain.includes('answerKey') ? redactModule(plain, withheld) : { text: plain, redacted: [] };
    r.redacted.forEach((n) => found.add(n));
    fs.writeFileSync(dst, r.text);
  } else if (src.endsWith('.d.ts') || src.endsWith('.json')) fs.copyFileSync(src, dst);
}

function copyTree(from: string, to: string, withheld: ReadonlySet<string>, found: Set<string>): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) copyTree(src, path.join(to, entry.name), withheld, found);
    else copyFile(src, path.join(to, entry.name), withheld, found);
  }
}

const built = new Map<string, string>();

/**
 * The redacted package for `withheld`, built from the project's compiled library (`root/dist`)
 * the first time it is asked for in this process; its folder.
 */
export function redactedLibrary(root: string, withheld: readonly string[]): string {
  const names = [...new Set(withheld)].sort();
  const key = `${root}\n${names.join(',')}`;
  const ready = built.get(key);
  if (ready && fs.existsSync(ready)) return ready;
  const dist = path.join(root, 'dist');
  if (!fs.existsSync(path.join(dist, 'lib', 'index.js')))
    throw new GenlabError(`The compiled library is missing (${dist}/lib): run \`npm run build\` before grading.`);
  const tag = createHash('sha256').update(`${key}\n${process.pid}`).digest('hex').slice(0, 12);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `genlab-redacted-${tag}-`));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const found = new Set<string>();
  copyTree(path.join(dist, 'lib'), path.join(dir, 'dist', 'lib'), new Set(names), found);
  fs.mkdirSync(path.join(dir, 'dist', 'grading'));
  for (const file of ['lockdown.js', 'lockdown.d.ts'])
    copyFile(path.join(dist, 'grading', file), path.join(dir, 'dist', 'grading', file), new Set(names), found);
  const missing = names.filter((n) => !found.has(n));
  if (missing.length)
    throw new GenlabError(
      `The grader could not redact ${missing.join(', ')} from the compiled library: no answerKey('${missing[0]}', …) in dist/lib. Run \`npm run build\`.`,
    );
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: pkg.name, version: pkg.version, main: pkg.main, types: pkg.types }, null, 2),
  );
  if (fs.existsSync(path.join(root, 'pretrained')))
    fs.symlinkSync(path.join(root, 'pretrained'), path.join(dir, 'pretrained'));
  // The packages the library and the kernel load, with `genlab` pointing here, not at the project.
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(modules);
  for (const entry of fs.readdirSync(path.join(root, 'node_modules')))
    if (entry !== 'genlab' && entry !== '.bin')
      fs.symlinkSync(path.join(root, 'node_modules', entry), path.join(modules, entry));
  fs.symlinkSync('..', path.join(modules, 'genlab'));
  built.set(key, dir);
  return dir;
}
