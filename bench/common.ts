/** What every benchmark script shares: its flags, where results go, and how it fails. */
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../jupyter/environment';

/** The value after `--name` on the command line, else `fallback`. */
export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** A numeric flag; a value that is not a number stops the benchmark with a sentence. */
export function numberFlag(name: string, fallback: number): number {
  const value = Number(flag(name, String(fallback)));
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number, got '${flag(name, '')}'.`);
  return value;
}

/** Writes `bench/results/<name>.json` (git-ignored) and returns its path. */
export function writeResult(name: string, data: unknown): string {
  const dir = path.join(projectRoot(), 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** Runs a benchmark's main, printing a failure as one line and exiting non-zero. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err) => {
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
