/**
 * Checks for notebook exercises: compare a student's result with reference values
 * by relative error, and say in words what is wrong — including the usual mistakes,
 * recognised by the values they produce.
 */
import * as tf from '@tensorflow/tfjs';
import { GenlabError } from './errors';

/** A failed check: one sentence, no stack trace (it is a GenlabError). */
export class CheckFailed extends GenlabError {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

type Values = number | number[] | number[][] | ArrayLike<number> | tf.Tensor;

function flatten(v: Values): number[] {
  if (v instanceof tf.Tensor) return Array.from(v.dataSync());
  if (typeof v === 'number') return [v];
  const out: number[] = [];
  const walk = (x: unknown) => {
    if (typeof x === 'number') out.push(x);
    else if (x && typeof (x as ArrayLike<unknown>).length === 'number')
      for (const y of Array.from(x as ArrayLike<unknown>)) walk(y);
  };
  walk(v);
  return out;
}

/** rel_error(x, y) = max_i |x_i − y_i| / max(1e-8, |x_i| + |y_i|) (CS231n's). */
export function relativeError(actual: Values, expected: Values): number {
  const a = flatten(actual);
  const b = flatten(expected);
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    worst = Math.max(worst, Number.isNaN(d) ? Infinity : d / Math.max(1e-8, Math.abs(a[i]) + Math.abs(b[i])));
  }
  return worst;
}

export interface Mistake {
  /** What the values would be with this mistake. */
  values: Values;
  /** What to tell the student, e.g. "you used σ where σ² belongs". */
  says: string;
}

export interface ExpectCloseOptions {
  /** Largest accepted relative error (default 1e-5). */
  tolerance?: number;
  mistakes?: Mistake[];
  /** Expected shape of `actual` when it is a tensor. */
  shape?: number[];
}

function preview(values: number[]): string {
  const shown = values.slice(0, 6).map((v) => (Number.isInteger(v) ? String(v) : v.toPrecision(5)));
  return `[${shown.join(', ')}${values.length > 6 ? `, … (${values.length} values)` : ''}]`;
}

/**
 * Passes (printing one line) when `actual` matches `expected` within the tolerance;
 * otherwise throws a CheckFailed that names the recognised mistake, if any.
 */
export function expectClose(name: string, actual: Values, expected: Values, options: ExpectCloseOptions = {}): void {
  const tolerance = options.tolerance ?? 1e-5;
  if (actual === undefined || actual === null)
    throw new CheckFailed(`${name}: got ${actual}; the function must return a value.`);
  if (options.shape && actual instanceof tf.Tensor && !tf.util.arraysEqual(actual.shape, options.shape)) {
    throw new CheckFailed(
      `${name}: the result has shape [${actual.shape}] but should have shape [${options.shape}]${actual.rank === 0 ? ' — return one value per example, not their sum or mean' : ''}.`,
    );
  }
  const a = flatten(actual);
  const e = flatten(expected);
  if (a.length !== e.length) throw new CheckFailed(`${name}: expected ${e.length} values but got ${a.length}.`);
  const err = relativeError(a, e);
  if (err <= tolerance) {
    console.log(`✓ ${name}: relative error ${err.toExponential(1)}`);
    return;
  }
  for (const mistake of options.mistakes ?? []) {
    if (relativeError(a, mistake.values) <= Math.max(tolerance, 1e-4))
      throw new CheckFailed(`${name}: ${mistake.says} (got ${preview(a)}, expected ${preview(e)}).`);
  }
  throw new CheckFailed(
    `${name}: got ${preview(a)}, expected ${preview(e)} (relative error ${err.toExponential(2)} > ${tolerance}).`,
  );
}

/** Throws a CheckFailed with `message` unless `condition` holds; prints ✓ otherwise. */
export function expectTrue(name: string, condition: boolean, message: string): void {
  if (!condition) throw new CheckFailed(`${name}: ${message}`);
  console.log(`✓ ${name}`);
}
