/**
 * Command lines read strictly: every program genlab ships (the grader, the benchmarks, the scripts) declares its
 * flags, and a flag it does not know, a value of the wrong kind or a missing value stops it with one sentence that
 * names what was wrong and the flags it accepts. A mistyped `--cell-timout 30` used to run with the default limit
 * and say nothing. Built on `node:util`'s `parseArgs` in strict mode.
 */
import { parseArgs } from 'util';
import { GenlabError } from './errors';

export type FlagKind = 'string' | 'number' | 'boolean' | 'list';

export interface FlagSpec {
  kind: FlagKind;
  /** What the flag's value is, for the usage line (e.g. 'S' for seconds); booleans have none. */
  value?: string;
  /** The values a string flag may take. */
  choices?: readonly string[];
}

export type FlagValue = string | number | boolean | string[];

export interface ParsedCommandLine {
  flags: Record<string, FlagValue | undefined>;
  positionals: string[];
}

/** The accepted flags, as a usage fragment: `--cell-timeout S  --profile smoke|full  --force`. */
export function describeFlags(spec: Record<string, FlagSpec>): string {
  return Object.entries(spec)
    .map(([name, s]) => {
      if (s.kind === 'boolean') return `--${name}`;
      return `--${name} ${s.choices ? s.choices.join('|') : (s.value ?? (s.kind === 'number' ? 'N' : 'VALUE'))}`;
    })
    .join('  ');
}

/** Levenshtein distance, to suggest the flag a typo meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const kept = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = kept;
    }
  }
  return row[b.length];
}

function suggestion(flag: string, names: string[]): string {
  const best = names.map((n) => ({ n, d: distance(flag, n) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(flag.length / 4)) ? ` (did you mean --${best.n}?)` : '';
}

/**
 * Parses `argv` (without node and the script) against `spec`. `program` names the command in messages;
 * `positionals.max` is how many non-flag arguments it takes at most (default none; a missing one is the caller's
 * to name, since only it knows what the argument is).
 */
export function parseCommandLine(
  program: string,
  argv: readonly string[],
  spec: Record<string, FlagSpec>,
  positionals: { max?: number } = {},
): ParsedCommandLine {
  const names = Object.keys(spec);
  const accepted = names.length ? `${program} accepts ${describeFlags(spec)}` : `${program} takes no flags`;
  const options = Object.fromEntries(
    names.map((n) => [
      n,
      {
        type: spec[n].kind === 'boolean' ? ('boolean' as const) : ('string' as const),
        multiple: spec[n].kind === 'list',
      },
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (err) {
    const e = err as { code?: string; message: string };
    const flag = /'(-{1,2}[^' =]+)/.exec(e.message)?.[1] ?? '';
    const bare = flag.replace(/^-+/, '');
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new GenlabError(`${program}: unknown flag '${flag}'${suggestion(bare, names)}; ${accepted}.`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new GenlabError(
        spec[bare]?.kind === 'boolean'
          ? `${program}: ${flag} is a switch and takes no value; ${accepted}.`
          : `${program}: ${flag} needs a value (${flag} ${spec[bare]?.value ?? 'VALUE'}); ${accepted}.`,
      );
    throw new GenlabError(`${program}: ${e.message}; ${accepted}.`);
  }
  const flags: Record<string, FlagValue | undefined> = {};
  for (const [name, raw] of Object.entries(parsed.values)) {
    const s = spec[name];
    if (s.kind === 'number') {
      const n = Number(raw);
      if (!(typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(n) && n > 0))
        throw new GenlabError(`${program}: --${name} must be a positive number, got '${String(raw)}'.`);
      flags[name] = n;
    } else if (s.choices && !s.choices.includes(raw as string)) {
      throw new GenlabError(`${program}: --${name} must be ${s.choices.join(', ')}, got '${String(raw)}'.`);
    } else flags[name] = raw as FlagValue;
  }
  const max = positionals.max ?? 0;
  if (parsed.positionals.length > max)
    throw new GenlabError(
      `${program}: unexpected argument '${parsed.positionals[max]}'${max === 0 ? ` (it takes none; a flag needs its two dashes)` : ''}; ${accepted}.`,
    );
  return { flags, positionals: parsed.positionals };
}
