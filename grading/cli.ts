#!/usr/bin/env node
/**
 * genlab-grade: the autograder's command line (also `npm run grade -- …`).
 *
 *   genlab-grade release <source.ipynb | folder> --out <dir>
 *   genlab-grade validate <source.ipynb | folder>
 *   genlab-grade autograde <submission.ipynb> --source <source.ipynb> --out <dir>
 *   genlab-grade batch <folder> --source <source.ipynb> [--jobs N] --out <dir>
 *   genlab-grade gradescope --source <source.ipynb> --out <dir>
 *
 * Options for autograde/batch/validate: --cell-timeout S, --total-timeout S,
 * --startup-timeout S (per kernel start; three starts are tried), --memory MiB, --profile smoke|full, --sandbox bubblewrap|unshare|none.
 *
 * Exit status: 0 when everything was graded; 3 when a submission was NOT GRADED because
 * the grading machine failed before its code ran (grade it again); 1 for any other error.
 */
import * as fs from 'fs';
import * as path from 'path';
import { describeFlags, FlagSpec, FlagValue, parseCommandLine } from '../lib/command_line';
import { GenlabError } from '../lib/errors';
import { autograde, GradeOptions } from './autograde';
import { batch } from './batch';
import { exportGradescope } from './gradescope';
import { isAutoTest, readNotebook } from './notebook';
import { notebooksIn, releaseCommand } from './release';
import { notGradedReason } from './results';
import { chooseSandbox } from './runner';
import { describeSandbox, SANDBOX_KINDS, SandboxKind } from './sandbox';
import { validate } from './validate';

/** The options of every command that runs submissions (autograde, batch, validate). */
const GRADE_FLAGS: Record<string, FlagSpec> = {
  'cell-timeout': { kind: 'number', value: 'S' },
  'total-timeout': { kind: 'number', value: 'S' },
  'startup-timeout': { kind: 'number', value: 'S' },
  memory: { kind: 'number', value: 'MiB' },
  profile: { kind: 'string', choices: ['smoke', 'full'] },
  sandbox: { kind: 'string', choices: SANDBOX_KINDS },
};

const USAGE = `usage:
  genlab-grade release <source.ipynb | folder> --out <dir>
  genlab-grade validate <source.ipynb | folder>
  genlab-grade autograde <submission.ipynb> --source <source.ipynb> --out <dir>
  genlab-grade batch <folder of submissions> --source <source.ipynb> [--jobs N] --out <dir>
  genlab-grade gradescope --source <source.ipynb> --out <dir>
options: ${describeFlags(GRADE_FLAGS)}`;

/** Each command's flags and how many arguments it takes. */
const COMMANDS: Record<string, { flags: Record<string, FlagSpec>; positionals: number }> = {
  release: { flags: { out: { kind: 'string', value: '<dir>' } }, positionals: 1 },
  validate: { flags: GRADE_FLAGS, positionals: 1 },
  autograde: {
    flags: {
      source: { kind: 'string', value: '<source.ipynb>' },
      out: { kind: 'string', value: '<dir>' },
      ...GRADE_FLAGS,
    },
    positionals: 1,
  },
  batch: {
    flags: {
      source: { kind: 'string', value: '<source.ipynb>' },
      out: { kind: 'string', value: '<dir>' },
      jobs: { kind: 'number', value: 'N' },
      ...GRADE_FLAGS,
    },
    positionals: 1,
  },
  gradescope: {
    flags: { source: { kind: 'string', value: '<source.ipynb>' }, out: { kind: 'string', value: '<dir>' } },
    positionals: 0,
  },
};

type Flags = Record<string, FlagValue | undefined>;

function need<T extends FlagValue>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new GenlabError(`missing ${what}.\n${USAGE}`);
  return value;
}

function gradeOptions(flags: Flags): Omit<GradeOptions, 'source' | 'out'> {
  return {
    cellTimeoutS: flags['cell-timeout'] as number | undefined,
    totalTimeoutS: flags['total-timeout'] as number | undefined,
    startupTimeoutS: flags['startup-timeout'] as number | undefined,
    memoryMiB: flags.memory as number | undefined,
    profile: flags.profile as 'smoke' | 'full' | undefined,
    sandbox: flags.sandbox as SandboxKind | undefined,
  };
}

/** Says which sandbox grading will use, and warns loudly when it is none. */
async function announceSandbox(flags: Flags): Promise<void> {
  const choice = await chooseSandbox(gradeOptions(flags).sandbox);
  for (const p of choice.passedOver) console.log(`sandbox ${p.kind} passed over: ${p.reason}`);
  console.log(`sandbox: ${describeSandbox(choice.kind)}`);
  if (choice.kind === 'none')
    console.error(
      'warning: grading WITHOUT a sandbox: submissions can reach the network and every file this user can. Install bubblewrap (Debian: apt-get install bubblewrap).',
    );
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const spec = COMMANDS[command];
  if (!spec) {
    console.error(command ? `unknown command '${command}'.\n${USAGE}` : USAGE);
    return 2;
  }
  const { positionals: positional, flags } = parseCommandLine(`genlab-grade ${command}`, rest, spec.flags, {
    max: spec.positionals,
  });
  const text = (name: string) => flags[name] as string | undefined;
  switch (command) {
    case 'release': {
      const written = releaseCommand(
        need(positional[0], 'the source notebook or folder'),
        need(text('out'), '--out <dir>'),
      );
      for (const f of written) console.log(`released ${f}`);
      return 0;
    }
    case 'validate': {
      await announceSandbox(flags);
      let ok = true;
      const target = need(positional[0], 'the source notebook or folder');
      for (const nb of notebooksIn(target)) {
        // In a folder, the notebooks without graded tests (the welcome, optional extensions) have nothing to validate.
        if (fs.statSync(target).isDirectory() && !readNotebook(nb).cells.some(isAutoTest)) {
          console.log(`${path.basename(nb)}: no graded tests; skipped.`);
          continue;
        }
        const v = await validate(nb, gradeOptions(flags));
        for (const m of v.messages) console.log(m);
        ok &&= v.ok;
      }
      return ok ? 0 : 1;
    }
    case 'autograde': {
      await announceSandbox(flags);
      const r = await autograde(need(positional[0], 'the submission notebook'), {
        ...gradeOptions(flags),
        source: need(text('source'), '--source <source.ipynb>'),
        out: need(text('out'), '--out <dir>'),
      });
      console.log(r.output);
      for (const t of r.tests)
        console.log(
          `  ${t.status === 'passed' ? '✓' : '✗'} ${t.name} ${t.score}/${t.max_score}${t.status === 'passed' ? '' : `: ${t.output}`}`,
        );
      console.log(`results: ${path.join(text('out')!, 'results.json')} (${r.execution_time} s)`);
      const reason = notGradedReason(r);
      if (reason) {
        console.error(`genlab-grade: NOT GRADED: ${reason}. Grade this submission again.`);
        return 3;
      }
      return 0;
    }
    case 'batch': {
      await announceSandbox(flags);
      const jobs = flags.jobs as number | undefined;
      const out = need(text('out'), '--out <dir>');
      const { results, seconds, notGraded } = await batch(need(positional[0], 'the folder of submissions'), {
        ...gradeOptions(flags),
        source: need(text('source'), '--source <source.ipynb>'),
        out,
        jobs,
        onDone: (s, r) => {
          const reason = notGradedReason(r);
          console.log(
            `${s.student}: ${reason ? `NOT GRADED (${reason})` : `${r.score}/${r.max_score}`} (${r.execution_time} s)`,
          );
        },
      });
      console.log(
        `graded ${results.size - notGraded.length} submissions in ${seconds.toFixed(1)} s (${(results.size / seconds).toFixed(2)} per second); ${path.join(out, 'grades.csv')}`,
      );
      if (notGraded.length) {
        console.error(
          `genlab-grade: ${notGraded.length} submission${notGraded.length > 1 ? 's were' : ' was'} NOT GRADED, twice, because the grading machine failed before their code ran (their rows in grades.csv say why): ${notGraded.join(', ')}. Grade ${notGraded.length > 1 ? 'them' : 'it'} again.`,
        );
        return 3;
      }
      return 0;
    }
    case 'gradescope': {
      for (const f of exportGradescope(
        need(text('source'), '--source <source.ipynb>'),
        need(text('out'), '--out <dir>'),
      ))
        console.log(`wrote ${f}`);
      return 0;
    }
    default:
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      const text = err instanceof GenlabError ? err.message : (err as Error).stack;
      // A command-line error already names the command ("genlab-grade batch: unknown flag …").
      console.error(text?.startsWith('genlab-grade') ? text : `genlab-grade: ${text}`);
      process.exit(1);
    },
  );
}
