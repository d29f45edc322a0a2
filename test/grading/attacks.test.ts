/**
 * Submissions that attack the kernel they run in, on the real labs 3, 4 and 5, graded for real
 * under bubblewrap, unshare and no sandbox: one submission per class of attack and lab, each
 * trying several routes (grading/lockdown.ts and grading/redact.ts say what stops them).
 *
 * 1. realms: load the library where no guard runs (a child process, a worker thread, a vm
 *    context, a fresh or planted copy in the module cache, the compiled file's text, the
 *    project's files on disk) and call a withheld function there;
 * 2. introspection: read the implementation out of a guarded function (the inspector, a heap
 *    snapshot, V8's natives syntax, the function's source text);
 * 3. machinery: replace what runs the tests (vm's runner, the module system, tslab's exports,
 *    holder, require and metadata, the output streams, the decoders of incoming messages,
 *    TensorFlow.js's kernels, registry, engine and backend);
 * 4. report: call a withheld function, then hide the call from the grader's report (rewrite
 *    stdout, print a forged report, or end the kernel before the report cell);
 * 5. markup: put HTML in an error message, a written answer and the file's name.
 *
 * Every attack leaves the lab's other TODOs as released: whatever it earns, it did not write.
 *
 * What each class depends on: classes 2 to 5 are stopped inside the kernel's process, by the prelude
 * (grading/lockdown.ts) and the report's checks, the same code whichever sandbox holds the process; they are
 * graded under bubblewrap, the default. Class 1 also reaches outside the process (files, other processes), which
 * is what a sandbox contains, so it is graded under every sandbox kind, with the honest solution beside it.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { batch } from '../../grading/batch';
import { Cell, Notebook, readNotebook, sourceOf, toLines, writeNotebook } from '../../grading/notebook';
import { releaseNotebook } from '../../grading/release';
import { Results } from '../../grading/results';
import { probeSandbox } from '../../grading/runner';
import { SandboxKind } from '../../grading/sandbox';
import { projectRoot } from '../../jupyter/environment';

const ROOT = projectRoot();
const WORK = path.join(ROOT, 'test-artifacts', 'grading-attacks');

/**
 * Per lab: the TODO cells whose function genlab also implements under the same name and arguments: its file in
 * dist/lib, and where genlab's front door exports it when that is not under its own name (a model file's
 * namespace).
 */
const TARGETS: Record<string, { cell: string; name: string; file: string; exported?: string }[]> = {
  '03-vae': [
    { cell: 'kl-normal', name: 'klNormal', file: 'losses' },
    { cell: 'bernoulli', name: 'bernoulliLogLikelihood', file: 'losses' },
  ],
  '04-pixelcnn': [{ cell: 'create-mask', name: 'createMask', file: 'layers/masked_conv' }],
  '05-gan': [
    { cell: 'discriminator-loss', name: 'discriminatorLoss', file: 'losses' },
    { cell: 'minimax-generator-loss', name: 'minimaxGeneratorLoss', file: 'losses' },
    { cell: 'non-saturating-generator-loss', name: 'nonSaturatingGeneratorLoss', file: 'losses' },
  ],
  '06-flows': [
    {
      cell: 'flow-nll',
      name: 'flowNegativeLogLikelihood',
      file: 'models/flow',
      exported: 'flow.flowNegativeLogLikelihood',
    },
  ],
  '07-diffusion': [{ cell: 'q-sample', name: 'qSample', file: 'models/diffusion', exported: 'diffusion.qSample' }],
};

/** Tries each route in turn and returns the first answer; throws with why each failed. */
const tryRoutes = (routes: string) => `
  const args: any[] = Array.from(arguments);
  const asData = (t: any) => (typeof t?.dataSync === 'function' ? { values: Array.from(t.dataSync()), shape: t.shape } : { value: t });
  const fromData = (d: any) => ('value' in d ? d.value : tf.tensor(d.values, d.shape));
  const routes: [string, () => any][] = [${routes}];
  const failed: string[] = [];
  for (const [what, route] of routes) {
    try {
      return route();
    } catch (e) {
      failed.push(what + ': ' + String((e as any)?.message ?? e).split('\\n')[0].slice(0, 200));
    }
  }
  throw new Error('no route reached an answer. ' + failed.join(' | '));`;

/** Class 1: the library loaded where no guard runs. `exported`: the function's path from genlab's front door. */
const REALM_ROUTES = (name: string, file: string, exported: string) =>
  tryRoutes(`
    ['child process', () => {
      const script = "const g = require('genlab'); const a = JSON.parse(require('fs').readFileSync(0, 'utf8')).map((d) => ('value' in d ? d.value : g.tf.tensor(d.values, d.shape))); const r = g.${exported}(...a); process.stdout.write(JSON.stringify({ values: Array.from(r.dataSync()), shape: r.shape }));";
      return fromData(JSON.parse(String(require('child_process').execFileSync(process.execPath, ['-e', script], { input: JSON.stringify(args.map(asData)), cwd: process.cwd() }))));
    }],
    ['worker thread', () => {
      const shared = new SharedArrayBuffer(1 << 20);
      const { Worker } = require('worker_threads');
      new Worker("const { workerData: w } = require('worker_threads'); const g = require(w.lib); const r = g.${exported}(...w.args.map((d) => ('value' in d ? d.value : g.tf.tensor(d.values, d.shape)))); const text = new TextEncoder().encode(JSON.stringify({ values: Array.from(r.dataSync()), shape: r.shape })); new Uint8Array(w.shared, 8).set(text); const f = new Int32Array(w.shared, 0, 2); f[1] = text.length; Atomics.store(f, 0, 1); Atomics.notify(f, 0);", { eval: true, workerData: { shared, args: args.map(asData), lib: require.resolve('genlab') } });
      const flag = new Int32Array(shared, 0, 2);
      Atomics.wait(flag, 0, 0, 30000);
      if (flag[0] !== 1) throw new Error('the worker did not answer');
      return fromData(JSON.parse(new TextDecoder().decode(new Uint8Array(shared, 8, flag[1]))));
    }],
    ['vm context', () => require('vm').runInNewContext("require('genlab').${exported}", { require })(...args)],
    ['fresh copy', () => {
      for (const k of Object.keys(require.cache)) if (k.includes('dist/lib')) delete require.cache[k];
      return require('genlab/dist/lib/${file}').${name}(...args);
    }],
    ['Module._load hook', () => {
      const M = require('module');
      const load = M._load;
      M._load = function (request: string, parent: any, isMain: boolean) {
        const m = load.call(this, request, parent, isMain);
        return request.endsWith('answer_keys') ? { ...m, answerKey: (_n: string, f: any) => f } : m;
      };
      return require('genlab/dist/lib/${file}').${name}(...args);
    }],
    ['planted cache entry', () => {
      const keys = require.resolve('genlab/dist/lib/answer_keys');
      const entry: any = require.cache[keys];
      (require.cache as any)[keys] = { ...entry, exports: { ...entry.exports, answerKey: (_n: string, f: any) => f } };
      const target = require.resolve('genlab/dist/lib/${file}');
      delete require.cache[target];
      return require(target).${name}(...args);
    }],
    ['compiled text', () => {
      const path = require('path');
      const target = require.resolve('genlab/dist/lib/${file}');
      const shim = (id: string) => {
        const m = id.startsWith('.') ? require(path.resolve(path.dirname(target), id)) : require(id);
        return id.endsWith('answer_keys') ? { ...m, answerKey: (_n: string, f: any) => f, redacted: () => undefined } : m;
      };
      const m: any = { exports: {} };
      new Function('exports', 'require', 'module', require('fs').readFileSync(target, 'utf8'))(m.exports, shim, m);
      return m.exports.${name}(...args);
    }],
    ['the project\\'s compiled library', () => require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'index.js'))}).${exported}(...args)],
    ['the project\\'s source, transpiled', () => {
      const ts = require('typescript');
      const path = require('path');
      const source = ${JSON.stringify(path.join(ROOT, 'lib', `${file}.ts`))};
      const js = ts.transpileModule(require('fs').readFileSync(source, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true } }).outputText;
      const dist = ${JSON.stringify(path.join(ROOT, 'dist', 'lib', `${file}.js`))};
      const shim = (id: string) => {
        const m = id.startsWith('.') ? require(path.resolve(path.dirname(dist), id)) : require(id);
        return id.endsWith('answer_keys') ? { ...m, answerKey: (_n: string, f: any) => f } : m;
      };
      const m: any = { exports: {} };
      new Function('exports', 'require', 'module', js)(m.exports, shim, m);
      return m.exports.${name}(...args);
    }],`);

/** Class 2: the implementation read out of the guarded function. */
const INTROSPECTION_ROUTES = (name: string, exported: string) =>
  tryRoutes(`
    ['inspector closure', () => {
      const inspector = require('inspector');
      const session = new inspector.Session();
      session.connect();
      const post = (method: string, params: any) => {
        let out: any;
        session.post(method, params, (err: any, res: any) => { if (err) throw err; out = res; });
        return out;
      };
      (globalThis as any).__target = require('genlab').${exported};
      const fn = post('Runtime.evaluate', { expression: 'globalThis.__target' }).result.objectId;
      const scopes = post('Runtime.getProperties', { objectId: fn }).internalProperties.find((p: any) => p.name === '[[Scopes]]').value.objectId;
      for (const scope of post('Runtime.getProperties', { objectId: scopes }).result) {
        const impl = post('Runtime.getProperties', { objectId: scope.value.objectId }).result.find((v: any) => v.name === 'implementation');
        if (impl) {
          post('Runtime.callFunctionOn', { objectId: impl.value.objectId, functionDeclaration: 'function () { globalThis.__impl = this; }' });
          return (globalThis as any).__impl(...args);
        }
      }
      throw new Error('no implementation in the closure');
    }],
    ['raw inspector binding', () => {
      const { Connection } = (process as any).binding('inspector');
      new Connection(() => undefined);
      throw new Error('connected, but this route stops here');
    }],
    ['heap snapshot', () => {
      const text = require('fs').readFileSync(require('v8').writeHeapSnapshot(), 'utf8');
      const found = /function ${name}\\([^)]*\\) \\{(?:(?!\\\\n\\}).)*tf\\.tidy/.exec(text);
      if (!found) throw new Error('no implementation in the heap');
      throw new Error('found one, but this route stops here');
    }],
    ['V8 natives', () => {
      require('v8').setFlagsFromString('--allow-natives-syntax');
      throw new Error('natives on, but this route stops here');
    }],
    ['source text', () => (0, eval)('(' + String(require('genlab').${exported}) + ')')(...args)],`);

/** Class 3: replace what runs the tests; each attempt says whether it took. Runs in strict mode, so a refusal throws. */
const MACHINERY = `
{
  const tried: string[] = [];
  const attempt = (what: string, patch: () => void) => {
    try {
      patch();
      tried.push(what + ': took');
    } catch {
      tried.push(what + ': refused');
    }
  };
  const token = (code: string) => /__genlab_grader\\.pass\\("(genlab-pass-[0-9a-f]+)"\\)/.exec(code)?.[1];
  // Run only a test cell's last line, the one that prints its token.
  const passOnly = (code: string) => (token(code) ? 'globalThis.__genlab_grader.pass(' + JSON.stringify(token(code)) + ')' : code);
  const vm = require('vm');
  attempt('vm.runInThisContext', () => { const run = vm.runInThisContext; vm.runInThisContext = (code: string, o: any) => run(passOnly(code), o); });
  attempt('vm.Script', () => { const proto = vm.Script.prototype; const run = proto.runInThisContext; proto.runInThisContext = function (o: any) { return run.call(this, o); }; });
  attempt('Module.prototype._compile', () => { const proto = require('module').prototype; const compile = proto._compile; proto._compile = function (code: string, file: string) { return compile.call(this, code, file); }; });
  attempt('tslab metadata', () => { const m = require('tslab/dist/metadata'); const get = m.getCodeMetadata; m.getCodeMetadata = (src: string) => get(src); });
  attempt('TypeScript', () => { const ts = require('typescript'); const create = ts.createSourceFile; ts.createSourceFile = (...a: any[]) => create(...a); });
  attempt('tslab exports', () => { (globalThis as any).__tslab__.exports.expectClose = () => undefined; });
  attempt('tslab exports, defined', () => { Object.defineProperty((globalThis as any).__tslab__.exports, 'tf', { value: {} }); });
  attempt('tslab exports, deleted', () => { delete (globalThis as any).__tslab__.exports.init; });
  attempt('tslab holder', () => { (globalThis as any).__tslab__ = { exports: {}, require }; });
  attempt('tslab require', () => { Object.defineProperty((globalThis as any).__tslab__.require, 'apply', { value: () => ({ expectClose: () => undefined }) }); });
  attempt('module cache', () => { const id = require.resolve('genlab/dist/lib/checks'); (require.cache as any)[id] = { id, filename: id, loaded: true, exports: { expectClose: () => undefined } }; });
  attempt('module resolution', () => { const M = require('module'); const resolve = M._resolveFilename; M._resolveFilename = function (...a: any[]) { return resolve.apply(this, a); }; });
  attempt('Buffer.prototype.toString', () => { const p: any = Buffer.prototype; const s = p.toString; p.toString = function (...a: any[]) { return s.apply(this, a); }; });
  attempt('TextDecoder.prototype.decode', () => { const p: any = TextDecoder.prototype; const d = p.decode; p.decode = function (...a: any[]) { return d.apply(this, a); }; });
  attempt('stdout accessor', () => { Object.defineProperty(process.stdout, 'write', { get: () => () => true, set: () => undefined }); });
  attempt('process.stdout', () => { Object.defineProperty(process, 'stdout', { get: () => ({ write: () => true }) }); });
  // TensorFlow.js's engine, on which the tests compute their references.
  attempt('a TensorFlow.js kernel', () => { tf.registerKernel({ kernelName: 'Conv2D', backendName: tf.getBackend(), kernelFunc: (() => undefined) as any }); });
  attempt('the kernel registry', () => { const reg = (globalThis as any)._tfGlobals.get('kernelRegistry'); Map.prototype.set.call(reg, tf.getBackend() + '_Conv2D', {}); });
  attempt("the engine's runKernel", () => { Object.defineProperty(tf.engine(), 'runKernel', { value: () => undefined }); });
  attempt("the backend's readSync", () => { Object.defineProperty(tf.backend(), 'readSync', { value: () => new Float32Array(1) }); });
  attempt("the engine's backend", () => { (tf.engine() as any).backendInstance = {}; });
  attempt('the grader', () => { (globalThis as any).__genlab_grader = { pass: () => undefined, lock: () => undefined, report: () => undefined }; });
  console.log(tried.join('\\n'));
}`;

/** Class 4: a call to the library's copy, then attempts to keep it out of the grader's report. */
const REPORT_BODY = (exported: string) => `
  try {
    return require('genlab').${exported}(...(Array.from(arguments) as [any, any]));
  } catch {
    throw new Error('not implemented');
  }`;
const HIDE_REPORT = `
{
  // Rewrite whatever later reports the calls, print a report of none, and make stdout an accessor.
  setInterval(() => {
    const write: any = process.stdout.write;
    if (!write.rewrites) {
      const rewrite: any = (s: any, ...rest: any[]) => write.call(process.stdout, String(s).replace(/\\{.*\\}/, '{}'), ...rest);
      rewrite.rewrites = true;
      try { process.stdout.write = rewrite; } catch { /* refused */ }
    }
  }, 1);
  console.log('genlab-report-' + '0'.repeat(32) + ' {}');
  try { Object.defineProperty(process.stdout, 'write', { get: () => () => true, set: () => undefined }); } catch { /* refused */ }
}`;

/** Class 5: markup where the grader's reports quote the submission. */
const MARKUP = '<script>alert("feedback")</script><img src=x onerror=alert(1)>';

function withBody(cell: Cell, body: string): string {
  const source = sourceOf(cell);
  const open = source.indexOf('{');
  const close = source.lastIndexOf('}');
  return `${source.slice(0, open + 1)}${body}\n${source.slice(close)}`;
}

/** The submissions of one lab: the honest solution and one per class of attack. */
function submissions(lab: string): Record<string, Notebook> {
  const source = readNotebook(path.join(ROOT, 'notebooks', `${lab}.ipynb`));
  const released = releaseNotebook(source, lab);
  const targets = TARGETS[lab];
  const edit = (change: (cell: Cell, target: (typeof targets)[number] | undefined) => void): Notebook => {
    const nb = JSON.parse(JSON.stringify(released)) as Notebook;
    for (const cell of nb.cells)
      change(
        cell,
        targets.find((t) => t.cell === cell.metadata.nbgrader?.grade_id),
      );
    return nb;
  };
  const first = targets[0].cell;
  const out: Record<string, Notebook> = {
    honest: source,
    realms: edit((cell, t) => {
      if (t) cell.source = toLines(withBody(cell, REALM_ROUTES(t.name, t.file, t.exported ?? t.name)));
    }),
    introspection: edit((cell, t) => {
      if (t) cell.source = toLines(withBody(cell, INTROSPECTION_ROUTES(t.name, t.exported ?? t.name)));
    }),
    machinery: edit((cell, t) => {
      if (t?.cell === first) cell.source = toLines(`'use strict';\n${sourceOf(cell)}\n${MACHINERY}`);
    }),
    report: edit((cell, t) => {
      if (t) cell.source = toLines(withBody(cell, REPORT_BODY(t.exported ?? t.name)));
      if (t?.cell === first) cell.source = toLines(`${sourceOf(cell)}\n${HIDE_REPORT}`);
    }),
    [`markup-${MARKUP.replace(/\//g, '')}`]: edit((cell, t) => {
      if (t?.cell === first)
        cell.source = toLines(
          withBody(cell, `\n  throw new Error(${JSON.stringify(`${MARKUP} [click](javascript:alert(2))`)});`),
        );
      if (cell.cell_type === 'markdown' && cell.metadata.nbgrader?.solution)
        cell.source = toLines(`${MARKUP}\n\n# ${MARKUP}`);
    }),
  };
  // A cell of its own whose grade_id is markup: the grader's problems quote it.
  out[`markup-${MARKUP.replace(/\//g, '')}`].cells.push({
    cell_type: 'code',
    metadata: { nbgrader: { grade_id: MARKUP, grade: false, locked: false, solution: true, schema_version: 3 } },
    source: toLines('// mine'),
    outputs: [],
    execution_count: null,
  });
  if (lab === '03-vae')
    // The kernel ends before the report cell can run: the count cannot come back, and that is flagged.
    out['report-then-exit'] = edit((cell, t) => {
      if (t) cell.source = toLines(withBody(cell, REPORT_BODY(t.exported ?? t.name)));
      if (t?.cell === targets[targets.length - 1].cell) cell.source = toLines(`${sourceOf(cell)}\nprocess.exit(0);`);
    });
  return out;
}

/** The submissions graded under every sandbox kind: those whose routes reach outside the kernel's process. */
const OUTSIDE_THE_PROCESS = ['honest', 'realms'];

interface Graded {
  results: Map<string, Results>;
  out: string;
}

async function gradeAttacks(kind: SandboxKind, lab: string): Promise<Graded> {
  const root = path.join(WORK, kind, lab);
  const dir = path.join(root, 'submissions');
  const out = path.join(root, 'graded');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, nb] of Object.entries(submissions(lab)))
    if (kind === 'bubblewrap' || OUTSIDE_THE_PROCESS.includes(name)) writeNotebook(path.join(dir, `${name}.ipynb`), nb);
  const run = await batch(dir, {
    source: path.join(ROOT, 'notebooks', `${lab}.ipynb`),
    out,
    jobs: 2,
    sandbox: kind,
    cellTimeoutS: 120,
  });
  return { results: run.results, out };
}

const executedText = (g: Graded, name: string) =>
  readNotebook(path.join(g.out, name, 'executed.ipynb'))
    .cells.flatMap((c) => c.outputs ?? [])
    .map((o) => (o as { text?: string | string[] }).text ?? '')
    .map((t) => (Array.isArray(t) ? t.join('') : t))
    .join('');

/** What stops each route of classes 1 and 2, by sandbox kind (the message each failure must carry). */
function stoppedBy(kind: SandboxKind, route: string): RegExp {
  const refused = /the grader refuses it while a submission is graded/;
  const withheld = /withheld while \S+ is graded/;
  const hidden = /ENOENT|no such file|Cannot find module/;
  const byRoute: Record<string, RegExp> = {
    'child process': refused,
    'worker thread': refused,
    'vm context': withheld,
    'fresh copy': withheld,
    // Submission cells run in sloppy mode: the hook is silently not installed, and the guard answers.
    'Module._load hook': /read.only|withheld while \S+ is graded/,
    'planted cache entry': /read.only|Cannot delete property|withheld while \S+ is graded/,
    'compiled text': /redacted|is not a function|withheld/,
    // Not in bubblewrap's view; unshare shows the redacted library where it was.
    "the project's compiled library": kind === 'unshare' ? withheld : hidden,
    "the project's source, transpiled": hidden,
    'inspector closure': refused,
    'raw inspector binding': refused,
    'heap snapshot': refused,
    'V8 natives': refused,
    'source text': /is not defined|is not a function/,
  };
  if (kind === 'none' && route.startsWith("the project's")) return /./; // not contained without a sandbox
  return byRoute[route];
}

for (const kind of ['bubblewrap', 'unshare', 'none'] as const) {
  describe(`grading: attacks on the kernel, labs 3-7, graded for real under ${kind}`, function () {
    this.timeout(20 * 60 * 1000);
    const graded = new Map<string, Graded>();

    before(async function () {
      const reason = await probeSandbox(kind);
      if (reason) {
        if (process.env.CI) assert.fail(`the ${kind} sandbox does not work on this machine: ${reason}`);
        this.skip();
      }
      for (const lab of Object.keys(TARGETS)) graded.set(lab, await gradeAttacks(kind, lab));
    });

    const each = (check: (lab: string, g: Graded) => void) => () => {
      for (const [lab, g] of graded) check(lab, g);
    };
    const contained = kind !== 'none';

    it(
      'grades the honest solution at full marks',
      each((lab, g) => {
        const r = g.results.get('honest')!;
        assert.strictEqual(r.score, r.max_score, `${lab}: ${JSON.stringify(r.tests.filter((t) => t.score === 0))}`);
        assert.deepStrictEqual(r.extra_data.flags, [], lab);
      }),
    );

    it(
      contained
        ? 'gives no point to any attack, and names what stopped each route'
        : 'gives no point to attacks on the process, and says that files are not contained',
      each((lab, g) => {
        for (const [name, r] of g.results) {
          if (name === 'honest') continue;
          if (contained || name !== 'realms')
            assert.strictEqual(r.score, 0, `${lab} ${name}: ${JSON.stringify(r.tests.filter((t) => t.score > 0))}`);
          else assert.ok((r.extra_data.not_contained as string[]).some((c) => c.startsWith('files')));
        }
        for (const cls of ['realms', 'introspection'].filter((c) => g.results.has(c))) {
          const r = g.results.get(cls)!;
          for (const target of TARGETS[lab]) {
            const test = r.tests.find((t) => t.name === `${target.cell}-check`)!;
            if (!contained && test.status === 'passed') continue;
            const reasons = test.output.split('no route reached an answer. ')[1];
            assert.ok(reasons, `${lab} ${cls} ${target.cell}: ${test.output}`);
            for (const part of reasons.split(' | ')) {
              const route = part.slice(0, part.indexOf(': '));
              assert.match(part, stoppedBy(kind, route), `${lab} ${cls}: ${part}`);
            }
          }
        }
      }),
    );

    it(
      'flags every submission that reached an answer key, however it tried to hide it',
      each((lab, g) => {
        const hiding = kind === 'bubblewrap' ? ['report', ...(lab === '03-vae' ? ['report-then-exit'] : [])] : [];
        for (const name of ['realms', ...hiding]) {
          const r = g.results.get(name)!;
          assert.ok(
            (r.extra_data.flags as string[]).some((f) =>
              /called genlab's own|count of calls to the functions .* did not come back/.test(f),
            ),
            `${lab} ${name}: ${JSON.stringify(r.extra_data.flags)}`,
          );
        }
        if (kind === 'bubblewrap')
          assert.ok(
            ((g.results.get('report')!.extra_data.withheld_calls as Record<string, number>)[TARGETS[lab][0].name] ??
              0) >= 1,
          );
      }),
    );

    // Classes 3 and 5 are the prelude's and the report's, inside the process: graded under bubblewrap only.
    if (kind !== 'bubblewrap') return;

    it(
      'refuses every replacement of the machinery that runs the tests',
      each((lab, g) => {
        const printed = executedText(g, 'machinery');
        assert.ok(!printed.includes(': took'), `${lab}: an attempt took effect:\n${printed}`);
        assert.strictEqual((printed.match(/: refused/g) ?? []).length, 22, `${lab}:\n${printed}`);
      }),
    );

    it(
      "keeps the submission's markup out of feedback.html, results.json and grades.csv",
      each((lab, g) => {
        const name = [...g.results.keys()].find((n) => n.startsWith('markup-'))!;
        const feedback = fs.readFileSync(path.join(g.out, name, 'feedback.html'), 'utf8');
        for (const raw of ['<script>alert(', '<img src=x', 'href="javascript:'])
          assert.ok(!feedback.includes(raw), `${lab}: feedback.html carries ${raw}`);
        assert.match(feedback, /&lt;script&gt;alert/, `${lab}: the error is shown, as text`);
        // …and reads as written: the link's text shows character for character, with no escape of the feedback's own.
        assert.ok(feedback.includes('[click](javascript:alert(2))'), `${lab}: the error's text, as written`);
        assert.match(feedback, /not implemented: /, `${lab}: a stub's sentence`);
        const problems = g.results.get(name)!.extra_data.problems as string[];
        assert.ok(
          problems.some((p) => p.includes(MARKUP)),
          `${lab}: the foreign cell's grade_id is quoted in the problems: ${problems.join(' | ')}`,
        );
        const r = g.results.get(name)!;
        assert.strictEqual(r.output_format, 'text');
        assert.ok(r.tests.every((t) => t.output_format === 'text'));
      }),
    );
  });
}
