/**
 * Run profiles.
 *
 * `GENLAB_PROFILE=full` (the default) is what a student runs: real data sizes and
 * step counts, where the lab's quality targets hold. `GENLAB_PROFILE=smoke` shrinks
 * steps and data so a whole notebook runs in seconds in tests and CI. Both take the
 * same code path; only the numbers differ, and notebooks pick them with `pick()`.
 */
import { GenlabError } from './errors';

export type ProfileName = 'full' | 'smoke';
export const PROFILE_NAMES: readonly ProfileName[] = ['full', 'smoke'];

/** The active profile, read from `GENLAB_PROFILE` (default `full`). */
export function profile(): ProfileName {
  const raw = (process.env.GENLAB_PROFILE ?? '').trim().toLowerCase();
  if (raw === '') return 'full';
  if ((PROFILE_NAMES as readonly string[]).includes(raw)) return raw as ProfileName;
  throw new GenlabError(
    `GENLAB_PROFILE is '${process.env.GENLAB_PROFILE}', which is not a profile: use 'full' (what students run) or 'smoke' (a few steps, for tests).`,
  );
}

export function isSmoke(): boolean {
  return profile() === 'smoke';
}

/**
 * The value for the active profile: `pick({ full: 20_000, smoke: 20 })`.
 * Notebooks use it for step counts and data sizes so the code path never forks.
 */
export function pick<T>(values: { full: T; smoke: T }): T {
  return values[profile()];
}
