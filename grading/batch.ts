/**
 * `genlab-grade batch <folder> --source <source.ipynb> --jobs N --out <dir>`: grades
 * every submission in a folder (`<student>.ipynb`, or `<student>/<anything>.ipynb`),
 * N at a time (default: the number of cores), one output folder per student and a
 * grades.csv with one row per student and one column per test, then the flags for the
 * instructor (a call to a withheld answer key) and the problems. A submission that
 * fails in any way gets its row and never stops the batch.
 *
 * A submission the grading machine failed on before any of its code ran (no kernel would
 * start, the grader itself threw) is graded once more after the rest, when the machine
 * is quieter; if it fails again its row says NOT GRADED with empty scores, never a 0
 * that would pass for a grade, and the batch lists it for regrading.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GenlabError } from '../lib/errors';
import { autograde, GradeOptions } from './autograde';
import { isAutoTest, readNotebook } from './notebook';
import { notGradedReason, Results } from './results';
import { chooseSandbox } from './runner';

export interface Submission {
  student: string;
  file: string;
}

export function findSubmissions(folder: string): Submission[] {
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory())
    throw new GenlabError(`${folder} is not a folder of submissions.`);
  const found: Submission[] = [];
  for (const entry of fs.readdirSync(folder).sort()) {
    const full = path.join(folder, entry);
    if (entry.startsWith('.')) continue;
    if (fs.statSync(full).isDirectory()) {
      const nb = fs
        .readdirSync(full)
        .filter((f) => f.endsWith('.ipynb') && !f.startsWith('.'))
        .sort()[0];
      found.push({ student: entry, file: nb ? path.join(full, nb) : path.join(full, '(no notebook submitted).ipynb') });
    } else if (entry.endsWith('.ipynb')) {
      found.push({ student: entry.replace(/\.ipynb$/, ''), file: full });
    }
  }
  return found;
}

/**
 * One CSV field. Numbers stay numbers. Text that a spreadsheet would read as a formula
 * (it starts with =, +, -, @, a tab or a carriage return: OWASP's CSV-injection list)
 * gets a leading apostrophe, which spreadsheets show as text; then RFC 4180 quoting.
 */
export function csvField(v: string | number): string {
  if (typeof v === 'number') return String(v);
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function gradeOne(s: Submission, options: GradeOptions): Promise<Results> {
  try {
    return await autograde(s.file, { ...options, out: path.join(options.out, s.student) });
  } catch (err) {
    // autograde reports student problems itself; this is the grader failing.
    const reason = `the grader failed on this submission: ${(err as Error).message}`;
    return {
      score: 0,
      max_score: 0,
      execution_time: 0,
      output: `NOT GRADED: ${reason}. The 0 is not a grade: grade this submission again.`,
      output_format: 'text',
      visibility: 'visible',
      stdout_visibility: 'hidden',
      tests: [],
      extra_data: { not_graded: reason },
    };
  }
}

export async function batch(
  folder: string,
  options: GradeOptions & { jobs?: number; onDone?: (s: Submission, r: Results) => void },
): Promise<{ csv: string; results: Map<string, Results>; seconds: number; notGraded: string[] }> {
  const started = Date.now();
  const submissions = findSubmissions(folder);
  // Choose (and prove) the sandbox once, so a forced kind that cannot work stops the batch with one sentence.
  await chooseSandbox(options.sandbox);
  const testIds = readNotebook(options.source)
    .cells.filter(isAutoTest)
    .map((c) => c.metadata.nbgrader!.grade_id!);
  const jobs = Math.max(1, options.jobs ?? os.cpus().length);
  const results = new Map<string, Results>();
  let next = 0;
  const worker = async () => {
    while (next < submissions.length) {
      const s = submissions[next++];
      const r = await gradeOne(s, options);
      results.set(s.student, r);
      if (!notGradedReason(r)) options.onDone?.(s, r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, submissions.length) }, worker));
  // The second chance, one at a time.
  for (const s of submissions.filter((s) => notGradedReason(results.get(s.student)!))) {
    const r = await gradeOne(s, options);
    results.set(s.student, r);
    options.onDone?.(s, r);
  }
  const notGraded = submissions.map((s) => s.student).filter((name) => notGradedReason(results.get(name)!));
  const header = ['student', 'score', 'max_score', ...testIds, 'flags', 'problems'];
  const rows = submissions.map((s) => {
    const r = results.get(s.student)!;
    const reason = notGradedReason(r);
    if (reason)
      return [s.student, '', '', ...testIds.map(() => ''), '', `NOT GRADED (grade again): ${reason}`]
        .map(csvField)
        .join(',');
    const byTest = new Map(r.tests.map((t) => [t.name, t.score]));
    const flags = ((r.extra_data.flags as string[] | undefined) ?? []).join(' | ');
    const problems = ((r.extra_data.problems as string[] | undefined) ?? (r.tests.length ? [] : [r.output])).join(
      ' | ',
    );
    return [s.student, r.score, r.max_score, ...testIds.map((id) => byTest.get(id) ?? 0), flags, problems]
      .map(csvField)
      .join(',');
  });
  const csv = `${header.map(csvField).join(',')}\n${rows.join('\n')}\n`;
  fs.mkdirSync(options.out, { recursive: true });
  fs.writeFileSync(path.join(options.out, 'grades.csv'), csv);
  return { csv, results, seconds: (Date.now() - started) / 1000, notGraded };
}
