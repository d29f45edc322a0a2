/**
 * Measured figures a notebook reports (an accuracy, a test NLL, a training time).
 *
 * `reportFigure` prints the figure for the student and, when `GENLAB_FIGURES` names a
 * file, appends it there as one JSON line. That is how `npm run bench:labs` collects
 * a lab's figures from a full-profile run of the notebook itself, so the benchmark
 * measures exactly what students run.
 */
import * as fs from 'fs';
import { GenlabError } from './errors';

export interface Figure {
  name: string;
  value: number;
  unit?: string;
}

/** Prints `name: value unit` (with `digits` decimals, default 4 significant) and records it. */
export function reportFigure(name: string, value: number, options: { unit?: string; digits?: number } = {}): void {
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new GenlabError(`reportFigure('${name}'): the value must be a number, got ${value}.`);
  const shown = options.digits === undefined ? value.toPrecision(4) : value.toFixed(options.digits);
  console.log(`${name}: ${shown}${options.unit ? ` ${options.unit}` : ''}`);
  const file = process.env.GENLAB_FIGURES;
  if (file) fs.appendFileSync(file, `${JSON.stringify({ name, value, unit: options.unit } satisfies Figure)}\n`);
}

/** The figures recorded in a `GENLAB_FIGURES` file, in order. */
export function readFigures(file: string): Figure[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Figure);
}
