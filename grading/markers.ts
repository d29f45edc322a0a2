/**
 * nbgrader's region markers, written as `//` comments in TypeScript cells:
 *
 *   // BEGIN SOLUTION … // END SOLUTION         replaced in the release by a stub
 *   // BEGIN HIDDEN TESTS … // END HIDDEN TESTS  removed from the release, restored at grading
 *   BEGIN MARK SCHEME … END MARK SCHEME          (in a task cell) removed from the release
 *
 * As in nbgrader, a marker is recognised by substring on its line.
 */
import { GenlabError } from '../lib/errors';

const REGIONS = {
  solution: ['BEGIN SOLUTION', 'END SOLUTION'],
  hidden: ['BEGIN HIDDEN TESTS', 'END HIDDEN TESTS'],
  markScheme: ['BEGIN MARK SCHEME', 'END MARK SCHEME'],
} as const;

export type RegionKind = keyof typeof REGIONS;

/** Throws when a region is opened without being closed (or the other way round), naming the cell. */
export function checkRegions(source: string, where: string): void {
  for (const [kind, [begin, end]] of Object.entries(REGIONS)) {
    let open = -1;
    source.split('\n').forEach((line, i) => {
      if (line.includes(begin)) {
        if (open >= 0)
          throw new GenlabError(
            `${where}: '${begin}' on line ${i + 1} opens a ${kind} region inside another one (opened on line ${open + 1}).`,
          );
        open = i;
      } else if (line.includes(end)) {
        if (open < 0) throw new GenlabError(`${where}: '${end}' on line ${i + 1} has no matching '${begin}'.`);
        open = -1;
      }
    });
    if (open >= 0) throw new GenlabError(`${where}: '${begin}' on line ${open + 1} is never closed with '${end}'.`);
  }
}

export function hasRegion(source: string, kind: RegionKind): boolean {
  return source.includes(REGIONS[kind][0]);
}

/**
 * Replaces each region of `kind` (marker lines included) by `replacement(indent)`,
 * or removes it when that returns undefined.
 */
export function replaceRegions(
  source: string,
  kind: RegionKind,
  replacement: (indent: string) => string | undefined,
): string {
  const [begin, end] = REGIONS[kind];
  const out: string[] = [];
  let inside = false;
  for (const line of source.split('\n')) {
    if (!inside && line.includes(begin)) {
      inside = true;
      const text = replacement(/^\s*/.exec(line)![0]);
      if (text !== undefined) out.push(text);
    } else if (inside) {
      if (line.includes(end)) inside = false;
    } else {
      out.push(line);
    }
  }
  return out.join('\n');
}

/**
 * What a solution region implements, for its stub's message: the name of the
 * function it sits in (the nearest `function name(` or `name = (…) =>` above it),
 * else the cell's grade_id.
 */
export function solutionName(source: string, fallback: string): string {
  const before = source.slice(0, source.indexOf(REGIONS.solution[0]));
  const names = [
    ...before.matchAll(
      /function\s+([A-Za-z_$][\w$]*)\s*\(|(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s*)?\(/g,
    ),
  ];
  const last = names[names.length - 1];
  return last ? (last[1] ?? last[2]) : fallback;
}
