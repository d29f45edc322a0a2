/**
 * mocha's settings for `npm test`. The test files run in parallel worker processes (one per core, two on CI's
 * machine, at most four), each file whole in one worker, handed out in the order below: the longest files first, so
 * that the workers finish together rather than one waiting on the other's last long file. Each of these takes
 * minutes, the rest seconds (the order is measured; a new long test file belongs in it).
 *
 * One test file: `npx mocha --no-config --timeout 600000 dist/test/…/x.test.js`.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');

const LONGEST_FIRST = [
  'dist/test/notebooks/webgpu_labs.test.js',
  'dist/test/grading/fairness.test.js',
  'dist/test/grading/hostile.test.js',
  'dist/test/notebooks/student_path_lab.test.js',
  'dist/test/notebooks/student_path_notebook.test.js',
  'dist/test/grading/attacks.test.js',
  'dist/test/grading/grading.test.js',
  'dist/test/lib/webgpu.test.js',
];

/** Every compiled test file below `dir`, in a stable order. */
function testFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) return testFiles(file);
      return e.name.endsWith('.test.js') ? [file] : [];
    });
}

const all = [...testFiles('dist/test'), ...testFiles(path.join('packages', 'engine', 'dist', 'test'))];

module.exports = {
  spec: [...LONGEST_FIRST.filter((f) => all.includes(f)), ...all.filter((f) => !LONGEST_FIRST.includes(f))],
  parallel: true,
  jobs: Math.min(4, Math.max(2, os.cpus().length)),
  timeout: 120000,
  reporter: 'spec',
};
