/**
 * What went wrong in a cell, read from what the kernel printed.
 *
 * tslab does not send Jupyter `error` outputs: it prints a failing cell's error to
 * stderr (`console.error(err)`), and a TypeScript compile error as
 * `line:col - message`. This reads either into a name and a message — never the
 * code around it, so a grader can show it without revealing hidden tests.
 */
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const NAMED = /^(\[)?((?:[A-Za-z_$][\w$]*)?(?:Error|Exception|Failure|Failed))(?: \[\w+\])?: (.*?)(\])?$/;
const COMPILE = /^(\d+):(\d+) - (.*)$/;

export interface CellError {
  ename: string;
  evalue: string;
}

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export function summarizeError(stderr: string): CellError | undefined {
  const lines = stripAnsi(stderr)
    .split('\n')
    .map((l) => l.trimEnd());
  const compile = lines.map((l) => COMPILE.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  if (compile.length > 0) {
    return { ename: 'TypeScriptError', evalue: compile.map((m) => `line ${m[1]}: ${m[3]}`).join('; ') };
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = NAMED.exec(lines[i]);
    if (m && Boolean(m[1]) === Boolean(m[4])) return { ename: m[2], evalue: m[3] };
  }
  const first = lines.find((l) => l.trim() !== '');
  return first ? { ename: 'Error', evalue: first.slice(0, 300) } : undefined;
}
