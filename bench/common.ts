/** What every benchmark script shares: its flags, where results go, and how it fails. */
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../jupyter/environment';
import { FlagSpec, FlagValue, parseCommandLine } from '../lib/command_line';

/** The flags given, as runBench read them against the benchmark's declared ones. */
let given: Record<string, FlagValue | undefined> | undefined;

function declared(name: string): FlagValue | undefined {
  if (!given) throw new Error(`bench: --${name} read before runBench parsed the command line`);
  return given[name];
}

/** The value of `--name`, else `fallback`. */
export function flag(name: string, fallback: string): string {
  const value = declared(name);
  return value === undefined ? fallback : String(value);
}

/** A numeric flag (declared with kind 'number', so a value that is not a number has already stopped the benchmark). */
export function numberFlag(name: string, fallback: number): number {
  const value = declared(name);
  return value === undefined ? fallback : Number(value);
}

/** Writes `bench/results/<name>.json` (git-ignored) and returns its path. */
export function writeResult(name: string, data: unknown): string {
  const dir = path.join(projectRoot(), 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/**
 * Runs a benchmark's main, printing a failure as one line and exiting non-zero. First the command line is read
 * against the flags the benchmark accepts: an unknown flag, a value of the wrong kind or a missing value stops it
 * with a sentence naming the flags it takes.
 */
export function runBench(program: string, flags: Record<string, FlagSpec>, main: () => Promise<void>): void {
  Promise.resolve()
    .then(() => {
      given = parseCommandLine(program, process.argv.slice(2), flags).flags;
      return main();
    })
    .catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}

/** Runs `run` `warmup` times, then times it until `seconds` have passed and at least `minRuns` runs (ms each). */
export async function timeRuns(
  run: () => Promise<void>,
  seconds: number,
  warmup: number,
  minRuns: number,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
  while (times.length < minRuns || elapsed() < seconds) {
    const t0 = process.hrtime.bigint();
    await run();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
