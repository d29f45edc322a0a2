/**
 * Seeded randomness.
 *
 * Every random draw in genlab takes a seed or a `Random` generator, so the same
 * seed gives the same numbers on the same backend (tests and grading rely on it).
 * The generator is mulberry32 (a 32-bit state, period 2^32): small, fast and
 * good enough for shuffling, masks and noise seeds; tensors of normal or uniform
 * noise come from tfjs ops seeded by `nextSeed()`.
 */
import { GenlabError } from './errors';

export class Random {
  private state: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new GenlabError(`A random seed must be a finite number, got ${seed}.`);
    this.state = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A seed for a tfjs op or initializer (an integer in [0, 2^31)). */
  nextSeed(): number {
    return this.int(2 ** 31);
  }

  /** A standard normal draw (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

/** The seed `init()` uses when none is given: `GENLAB_SEED`, else 0. */
export function defaultSeed(): number {
  const raw = process.env.GENLAB_SEED;
  if (raw === undefined || raw.trim() === '') return 0;
  const seed = Number(raw);
  if (!Number.isInteger(seed))
    throw new GenlabError(`GENLAB_SEED is '${raw}', which is not an integer: set it to a whole number such as 42.`);
  return seed;
}

let globalRandom = new Random(defaultSeed());
let globalSeedValue = defaultSeed();

/** Reseeds the library's shared generator (`init({ seed })` calls this). */
export function setGlobalSeed(seed: number): void {
  globalRandom = new Random(seed);
  globalSeedValue = seed;
}

/** The seed the shared generator was last set to. */
export function globalSeed(): number {
  return globalSeedValue;
}

/** The next seed from the shared generator, for draws where the caller gave none. */
export function nextSeed(): number {
  return globalRandom.nextSeed();
}

/** A generator for `seed`, or the shared one when `seed` is undefined. */
export function rngFor(seed?: number | Random): Random {
  if (seed instanceof Random) return seed;
  return seed === undefined ? new Random(nextSeed()) : new Random(seed);
}
