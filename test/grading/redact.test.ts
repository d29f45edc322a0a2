/**
 * The redacted library (grading/redact.ts) and the escaping of submission text in reports
 * (grading/feedback.ts, grading/autograde.ts), without a kernel.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { plainText } from '../../grading/autograde';
import { literalMarkdown } from '../../grading/feedback';
import { redactedLibrary, redactModule } from '../../grading/redact';
import { projectRoot } from '../../jupyter/environment';

const ROOT = projectRoot();

/** Runs `script` in a fresh Node process whose `genlab` is the package at `pkg`; its stdout. */
function runWith(pkg: string, script: string): string {
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: pkg,
    encoding: 'utf8',
    env: { ...process.env, GENLAB_BACKEND: 'cpu' },
  });
  assert.strictEqual(r.status, 0, r.stderr);
  return r.stdout.trim();
}

describe('grading: the redacted library', function () {
  this.timeout(60_000);

  it('replaces only the withheld implementations, in both forms tsc compiles a call to', () => {
    const text = [
      "exports.a = (0, answer_keys_1.answerKey)('klNormal', function klNormal(mu, logvar) {\n  return secretKl(mu, logvar);\n});",
      "exports.b = (0, answer_keys_1.answerKey)('mse', function mse(x, y) { return secretMse(x, y); });",
      "exports.c = answerKey('createMask', (k) => secretMask(k));",
      "exports.d = other('klNormal', function () { return secretOther(); });",
    ].join('\n');
    const r = redactModule(text, new Set(['klNormal', 'createMask']));
    assert.deepStrictEqual(r.redacted.sort(), ['createMask', 'klNormal']);
    assert.ok(!r.text.includes('secretKl') && !r.text.includes('secretMask'), r.text);
    assert.match(r.text, /\(0, answer_keys_1\.answerKey\)\('klNormal', \(0, answer_keys_1\.redacted\)\("klNormal"\)\)/);
    assert.match(r.text, /answerKey\('createMask', redacted\("createMask"\)\)/);
    // Not withheld, or not an answer key: untouched.
    assert.ok(r.text.includes('secretMse') && r.text.includes('secretOther'));
  });

  it('builds a package whose withheld functions throw and record, in any process, and hold nothing of the answer', () => {
    const pkg = redactedLibrary(ROOT, ['klNormal', 'createMask']);
    assert.strictEqual(redactedLibrary(ROOT, ['createMask', 'klNormal']), pkg, 'built once per set');
    const losses = fs.readFileSync(path.join(pkg, 'dist', 'lib', 'losses.js'), 'utf8');
    const real = fs.readFileSync(path.join(ROOT, 'dist', 'lib', 'losses.js'), 'utf8');
    // The real klNormal's body (its sum of 1 + log σ² − μ² − σ²) is gone; the others' stay.
    const body = /function klNormal\(mu, logvar\) \{[^]*?\n {4}\}/.exec(real)![0];
    assert.ok(!losses.includes(body), 'the implementation survived');
    assert.ok(losses.includes('function bernoulliLogLikelihood('));
    assert.ok(!fs.readdirSync(path.join(pkg, 'dist', 'lib')).some((f) => f.endsWith('.map')), 'no source maps');
    assert.deepStrictEqual(fs.readdirSync(path.join(pkg, 'dist', 'grading')).sort(), ['lockdown.d.ts', 'lockdown.js']);
    // A fresh process, with no grader's slot at all: the stub still throws, the others compute.
    const out = runWith(
      pkg,
      `const g = require('genlab');
       const results = [];
       for (const f of [() => g.klNormal(g.tf.zeros([1, 2]), g.tf.zeros([1, 2])), () => g.createMask(3, 1, 1, 'A')]) {
         try { f(); results.push('computed'); } catch (e) { results.push(e.name); }
       }
       // mse is not withheld: the mean of the squared differences (1 − 0)², (1 − 0)² is 1.
       results.push(g.mse(g.tf.ones([1, 2]), g.tf.zeros([1, 2])).dataSync()[0]);
       results.push(require.resolve('genlab').startsWith(${JSON.stringify(pkg)}));
       console.log(JSON.stringify(results));`,
    );
    assert.deepStrictEqual(JSON.parse(out), ['WithheldError', 'WithheldError', 1, true]);
  });

  it('refuses to grade with a library it cannot redact, even after building the same set for another project', () => {
    redactedLibrary(ROOT, ['klNormal']);
    assert.throws(() => redactedLibrary(path.join(ROOT, 'no-such-project'), ['klNormal']), /npm run build/);
  });
});

describe('grading: submission text in reports', () => {
  it('feedback shows markup, links and formatting as the characters they are', () => {
    const text = '<script>alert(1)</script> [x](javascript:alert(2)) **b** & `c`\n# h';
    const md = literalMarkdown(text);
    assert.ok(!/<|>/.test(md), md);
    assert.strictEqual(
      md,
      String.raw`&lt;script&gt;alert\(1\)&lt;/script&gt; \[x\]\(javascript:alert\(2\)\) \*\*b\*\* &amp; \`c\`  ` +
        '\n' +
        String.raw`\# h`,
    );
  });

  it('reports carry no terminal escapes or control characters, and keep newlines and tabs', () => {
    assert.strictEqual(plainText('a\u001b[31mred\u001b[0m\tb\nc\u0007\u001b]0;title\u0007d\u009b'), 'ared\tb\ncd');
  });
});
