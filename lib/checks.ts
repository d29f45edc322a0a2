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

/**
 * The error of `actual` against `expected`, entry by entry, relative to the size of the answer:
 *
 *   max_i |a_i − e_i| / max(|a_i| + |e_i|, ⅒ · max_j |e_j|, 1e-8)
 *
 * CS231n's rel_error divides by |a_i| + |e_i| alone, which fails correct float32 work: an entry that should be
 * near 0 comes out as a rounding error of the large terms that cancel in it (the size of the answer's other
 * entries), so its relative error is of order 1. Measured on random hidden-test inputs on wasm, three correct
 * ways of writing each of projectPca, reparameterize and updateCentroids failed 1 to 2 % of draws that way
 * (25 of 1,500 for projectPca at 1e-5), so a check over 20 seeds would fail a correct answer about once in three.
 * Entries below a tenth of the largest are therefore measured against that tenth (0 failures in the same
 * 7,500 draws); a mistake still shows, since it moves the answer by an amount of the answer's own size.
 */
export function relativeError(actual: Values, expected: Values): number {
  const a = flatten(actual);
  const b = flatten(expected);
  if (a.length !== b.length) return Infinity;
  const largest = b.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  const floor = Math.max(1e-8, largest / 10);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    worst = Math.max(worst, Number.isNaN(d) ? Infinity : d / Math.max(floor, Math.abs(a[i]) + Math.abs(b[i])));
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
