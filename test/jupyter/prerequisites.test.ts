/**
 * Nothing outside npm is used without an install step: every program the code and the
 * tests start, and every Python module their scripts import, is in
 * jupyter/prerequisites.ts, which `npm run setup -- --for-tests` installs from; and on
 * a machine where that setup ran, all of it is there.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { jupyterPython, projectRoot } from '../../jupyter/environment';
import { debianPackages, isPresent, Prerequisite, PREREQUISITES as LIST } from '../../jupyter/prerequisites';
import { filesBelow } from '../helpers';

const ROOT = projectRoot();
/** The list, each entry as the general type (its fields read without narrowing). */
const PREREQUISITES: readonly Prerequisite[] = LIST;
/** Where the course, the grader and the tests live (bench/ installs its own PyTorch peer, and says so). */
const SCANNED = ['lib', 'scripts', 'jupyter', 'grading', 'test'];

function sourceFiles(ending: string): string[] {
  const self = path.join(ROOT, 'test', 'jupyter', 'prerequisites.test.ts');
  return SCANNED.flatMap((dir) =>
    filesBelow(path.join(ROOT, dir), (name, full) => name.endsWith(ending) && !name.endsWith('.d.ts') && full !== self),
  );
}

/** Every program named by a literal in a call that starts or finds one: spawn('x'…), execFileSync('x'…), which('x'), findProgram('x'), '/usr/bin/x'. */
function programsStarted(): Map<string, string> {
  const calls = /\b(?:spawn|spawnSync|execFile|execFileSync|exec|execSync|which|findProgram)\(\s*['"`]([^'"`\s]+)/g;
  const paths = /['"`]\/(?:usr\/)?s?bin\/([\w.+-]+)['"`]/g;
  const found = new Map<string, string>();
  for (const file of sourceFiles('.ts')) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of [...text.matchAll(calls), ...text.matchAll(paths)])
      if (!found.has(m[1])) found.set(m[1], path.relative(ROOT, file));
  }
  return found;
}

describe('prerequisites', () => {
  it('every program the code and the tests start is listed, with the package setup installs', () => {
    const programs = programsStarted();
    // The scan finds the calls it must (a scan that finds nothing would pass anything).
    for (const known of ['bwrap', 'unshare', 'prlimit', 'chromium', 'apt-get', 'dpkg-query', 'bash', 'cat'])
      assert.ok(programs.has(known), `the scan no longer sees ${known}`);
    const listed = new Set<string>(PREREQUISITES.filter((p) => p.kind === 'program').map((p) => p.name));
    const missing = [...programs]
      .filter(([name]) => !listed.has(name))
      .map(([name, file]) => `${name} (started in ${file})`);
    assert.deepStrictEqual(
      missing,
      [],
      'add these to jupyter/prerequisites.ts with the Debian package that provides them',
    );
  });

  it("every Python module the scripts import is in Python's standard library or listed", function () {
    const python = jupyterPython();
    if (!python) this.skip();
    const stdlib = new Set(
      JSON.parse(
        execFileSync(python!, ['-c', 'import sys, json; print(json.dumps(sorted(sys.stdlib_module_names)))'], {
          encoding: 'utf8',
        }),
      ) as string[],
    );
    const listed = new Set<string>(PREREQUISITES.filter((p) => p.kind === 'python-module').map((p) => p.name));
    const imported = new Map<string, string>();
    for (const file of sourceFiles('.py')) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/^\s*(?:import|from)\s+([A-Za-z_]\w*)/gm))
        imported.set(m[1], path.relative(ROOT, file));
    }
    assert.ok(imported.has('nbclient') && imported.has('json'), `the scan found ${[...imported.keys()]}`);
    const missing = [...imported]
      .filter(([m]) => !stdlib.has(m) && !listed.has(m))
      .map(([m, file]) => `${m} (imported in ${file})`);
    assert.deepStrictEqual(missing, []);
  });

  it('setup installs, for the tests, a Debian package for every listed need', () => {
    const forTests = debianPackages(['course', 'grading', 'tests']);
    for (const p of PREREQUISITES)
      assert.ok(p.pypi ? !p.debian : forTests.includes(p.debian!), `${p.name}: Debian ${p.debian}, PyPI ${p.pypi}`);
    // The ones this issue was about: the browser and the sandbox.
    assert.ok(forTests.includes('chromium') && forTests.includes('bubblewrap'));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.match(
      pkg.scripts.test,
      /npm run setup -- --for-tests && /,
      'npm test must install the test prerequisites first',
    );
  });

  it('on a machine set up for the tests, every listed program, module and folder is there', function () {
    if (!process.env.CI && !fs.existsSync('/etc/debian_version')) this.skip();
    const python = jupyterPython();
    const absent = PREREQUISITES.filter((p) => {
      if (p.kind !== 'python-module') return !isPresent(p);
      try {
        execFileSync(python ?? 'python3', ['-c', `import ${p.name}`], { stdio: 'ignore' });
        return false;
      } catch {
        return true;
      }
    }).map((p) => `${p.name} (${p.debian ? `Debian ${p.debian}` : `PyPI ${p.pypi}`})`);
    assert.deepStrictEqual(absent, [], 'run `npm run setup -- --for-tests` (as root on Debian)');
  });

  it('every PyPI package listed is pinned in the requirements setup installs, and everything it brings in the constraints', () => {
    const pins = (file: string) =>
      new Map(
        [...fs.readFileSync(path.join(ROOT, 'jupyter', file), 'utf8').matchAll(/^([A-Za-z0-9_.-]+)==(\S+)$/gm)].map(
          (m) => [m[1].toLowerCase().replace(/[-_.]+/g, '_'), m[2]],
        ),
      );
    const course = pins('requirements.txt');
    const tests = new Map([...course, ...pins('requirements-tests.txt')]);
    const constraints = pins('constraints.txt');
    assert.ok(course.has('jupyterlab') && course.has('notebook') && tests.has('nbgrader'), 'the scan reads the pins');
    assert.match(
      fs.readFileSync(path.join(ROOT, 'jupyter', 'requirements-tests.txt'), 'utf8'),
      /^-r requirements\.txt$/m,
    );
    for (const p of PREREQUISITES.filter((q) => q.pypi)) {
      const name = p.pypi!.toLowerCase();
      assert.ok((p.need === 'tests' ? tests : course).has(name), `${p.pypi} is pinned for ${p.need}`);
    }
    // A pin the constraints contradict would make pip refuse; one they lack would float.
    for (const [name, version] of tests)
      assert.strictEqual(constraints.get(name), version, `${name} in constraints.txt`);
  });
});
