/**
 * Gradescope's results.json (gradescope/autograder_samples, docs/specs.md): top level
 * `score`, `execution_time`, `output`, `output_format`, `visibility`,
 * `stdout_visibility`, `extra_data`, `tests`; each test `score`, `max_score`,
 * `status`, `name`, `number`, `output`, `output_format`, `visibility`.
 */
export type Visibility = 'hidden' | 'after_due_date' | 'after_published' | 'visible';

export interface TestResult {
  name: string;
  number: string;
  score: number;
  max_score: number;
  status: 'passed' | 'failed';
  output: string;
  output_format: 'text';
  visibility: Visibility;
  tags: string[];
}

export interface Results {
  score: number;
  max_score: number;
  execution_time: number;
  output: string;
  output_format: 'text';
  visibility: Visibility;
  stdout_visibility: Visibility;
  tests: TestResult[];
  extra_data: Record<string, unknown>;
}

export const RESULT_FIELDS = [
  'score',
  'execution_time',
  'output',
  'output_format',
  'visibility',
  'stdout_visibility',
  'extra_data',
  'tests',
] as const;
export const TEST_FIELDS = [
  'name',
  'number',
  'score',
  'max_score',
  'status',
  'output',
  'output_format',
  'visibility',
] as const;

/** Checks a results object against the field list above; returns the problems (empty when valid). */
export function validateResults(r: unknown): string[] {
  const problems: string[] = [];
  const o = r as Record<string, unknown>;
  if (!o || typeof o !== 'object') return ['results is not an object'];
  for (const f of RESULT_FIELDS) if (!(f in o)) problems.push(`missing top-level '${f}'`);
  if (typeof o.score !== 'number' || !Number.isFinite(o.score)) problems.push('score is not a finite number');
  if (typeof o.execution_time !== 'number') problems.push('execution_time is not a number');
  if (!Array.isArray(o.tests)) return [...problems, 'tests is not a list'];
  (o.tests as Record<string, unknown>[]).forEach((t, i) => {
    for (const f of TEST_FIELDS) if (!(f in t)) problems.push(`test ${i} is missing '${f}'`);
    if (t.status !== 'passed' && t.status !== 'failed') problems.push(`test ${i} has status '${String(t.status)}'`);
    if (
      typeof t.score !== 'number' ||
      typeof t.max_score !== 'number' ||
      (t.score as number) > (t.max_score as number) ||
      (t.score as number) < 0
    ) {
      problems.push(`test ${i} has score ${String(t.score)} of ${String(t.max_score)}`);
    }
  });
  const sum = (o.tests as { score: number }[]).reduce((s, t) => s + (t.score ?? 0), 0);
  if (Math.abs(sum - (o.score as number)) > 1e-9)
    problems.push(`score ${String(o.score)} is not the sum of the tests' scores (${sum})`);
  return problems;
}

/**
 * Why the grading machine could not grade this submission (it failed before any of the
 * submission's code ran), or undefined when the results are a grade.
 */
export function notGradedReason(r: Results): string | undefined {
  return (r.extra_data.not_graded as string | null | undefined) ?? undefined;
}
