/**
 * Strict command lines: the parser by itself, and every program genlab ships run with a mistyped flag, which must
 * stop it with a sentence naming the flag (and what it probably meant) before it does anything.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { parseCommandLine } from '../../lib/command_line';
import { GenlabError } from '../../lib/errors';
import { projectRoot } from '../../jupyter/environment';

const ROOT = projectRoot();
const SPEC = {
  'cell-timeout': { kind: 'number' as const, value: 'S' },
  profile: { kind: 'string' as const, choices: ['smoke', 'full'] },
  force: { kind: 'boolean' as const },
  steps: { kind: 'list' as const, value: 'name=N' },
};

describe('command lines are read strictly', () => {
  it('reads the declared flags, in both spellings, with numbers as numbers and lists as lists', () => {
    const { flags, positionals } = parseCommandLine(
      'p',
      ['a.ipynb', '--cell-timeout', '30', '--profile=full', '--force', '--steps', 'x=1', '--steps', 'y=2'],
      SPEC,
      { max: 1 },
    );
    assert.deepStrictEqual(flags, { 'cell-timeout': 30, profile: 'full', force: true, steps: ['x=1', 'y=2'] });
    assert.deepStrictEqual(positionals, ['a.ipynb']);
  });

  const refuses = (argv: string[], message: RegExp, positionals = { max: 1 }) =>
    assert.throws(
      () => parseCommandLine('genlab-grade autograde', argv, SPEC, positionals),
      (e: Error) => e instanceof GenlabError && message.test(e.message),
    );

  it('names an unknown flag, suggests the one it resembles, and lists the flags accepted', () =>
    refuses(
      ['--cell-timout', '30'],
      /^genlab-grade autograde: unknown flag '--cell-timout' \(did you mean --cell-timeout\?\); genlab-grade autograde accepts --cell-timeout S  --profile smoke\|full  --force  --steps name=N\.$/,
    ));
  it('refuses a number flag that is not a positive number', () => {
    refuses(['--cell-timeout', 'ten'], /--cell-timeout must be a positive number, got 'ten'/);
    refuses(['--cell-timeout', '-5'], /--cell-timeout must be a positive number, got '-5'|needs a value/);
    refuses(['--cell-timeout', '0'], /--cell-timeout must be a positive number, got '0'/);
  });
  it('refuses a value outside the choices, a missing value, a value given to a switch, and an extra argument', () => {
    refuses(['--profile', 'fast'], /--profile must be smoke, full, got 'fast'/);
    refuses(['--profile'], /--profile needs a value \(--profile VALUE\)/);
    refuses(['--force=yes'], /--force is a switch and takes no value/);
    refuses(['a', 'b'], /unexpected argument 'b'/);
    refuses(['a'], /unexpected argument 'a' \(it takes none; a flag needs its two dashes\)/, { max: 0 });
  });

  const programs: [string, string[], RegExp][] = [
    [
      'genlab-grade',
      ['dist/grading/cli.js', 'autograde', 'x.ipynb', '--source', 'x.ipynb', '--out', '/tmp/x', '--cell-timout', '30'],
      /unknown flag '--cell-timout' \(did you mean --cell-timeout\?\)/,
    ],
    [
      'genlab-grade release',
      ['dist/grading/cli.js', 'release', 'x.ipynb', '--jobs', '2'],
      /genlab-grade release: unknown flag '--jobs'; genlab-grade release accepts --out <dir>/,
    ],
    [
      'bench:vae',
      ['dist/bench/vae.js', '--step', '100'],
      /npm run bench:vae: unknown flag '--step' \(did you mean --steps\?\)/,
    ],
    ['bench:labs', ['dist/bench/labs.js', '--notebooks', '03', '05'], /npm run bench:labs: unexpected argument '05'/],
    [
      'bench:gan',
      ['dist/bench/gan.js', '--architecture', 'cnn'],
      /--architecture must be mlp, dcgan, conditional, got 'cnn'/,
    ],
    [
      'train:pretrained',
      ['dist/scripts/train_pretrained.js', '--step', 'vae-mlp=10'],
      /unknown flag '--step' \(did you mean --steps\?\)/,
    ],
    [
      'train:pretrained --measure-only with --steps',
      ['dist/scripts/train_pretrained.js', 'diffusion', '--measure-only', '--steps', 'diffusion=10'],
      /--measure-only trains nothing, so it takes no --steps: give one or the other\./,
    ],
    ['setup', ['dist/scripts/setup.js', '--for-test'], /unknown flag '--for-test' \(did you mean --for-tests\?\)/],
    [
      'build:native (genlab-engine-build)',
      ['packages/engine/dist/src/build_native.js', '--forced'],
      /^genlab-engine-build: unknown flag '--forced' \(did you mean --force\?\); it accepts --force/,
    ],
    [
      'build:native (genlab-engine-build), an argument',
      ['packages/engine/dist/src/build_native.js', 'now'],
      /^genlab-engine-build: unexpected argument 'now'; it accepts --force/,
    ],
  ];
  for (const [name, args, message] of programs)
    it(`${name} stops at a mistyped flag with a sentence, before doing anything`, () => {
      const r = spawnSync(process.execPath, [path.join(ROOT, args[0]), ...args.slice(1)], {
        encoding: 'utf8',
        cwd: ROOT,
        timeout: 60000,
      });
      assert.notStrictEqual(r.status, 0, `${name} exited 0:\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace where a sentence would do');
    });
});
