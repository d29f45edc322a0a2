/**
 * How a failing cell's error reads in a notebook: as its sentence.
 *
 * tslab reports a cell that throws with `console.error(err)`, and Node prints
 * `err.stack`, which for code run by `vm` starts with the compiled line and a
 * caret (`evalmachine.<anonymous>:4`, `    ^`) and goes on through frames inside
 * the kernel. A student who hits `throw new Error('not implemented: klNormal …')`
 * should read that sentence and nothing else. So, inside a kernel, an error that
 * tslab itself prints for a failed cell (and only that: a `console.log(err)` of the
 * student's own stays as Node prints it) shows as `Name: message`.
 *
 * `GENLAB_TRACEBACK=1` keeps Node's full trace (instructors debugging a lab; the
 * test suite's notebook runner sets it).
 */
import * as util from 'util';
import { inKernel } from './display';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** The kernel's own reporting sites: the executor (a failed cell) and its uncaught-error handlers. */
const TSLAB_REPORTER = /[\\/]tslab[\\/]dist[\\/](executor|main)\.js:/;
/** genlab's kernel (jupyter/kernel.js), which passes tslab's console.error on: not the one reporting. */
const KERNEL_LAUNCHER = /[\\/]jupyter[\\/]kernel\.js:/;
const THIS_FILE = __filename;

/** `Name: message`, with the chain of causes, as one line each. */
export function errorSentence(err: Error): string {
  const lines = [`${err.name || 'Error'}: ${err.message}`];
  let cause = (err as { cause?: unknown }).cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    lines.push(
      cause instanceof Error
        ? `  caused by ${cause.name || 'Error'}: ${cause.message}`
        : `  caused by ${String(cause)}`,
    );
    cause = cause instanceof Error ? (cause as { cause?: unknown }).cause : undefined;
  }
  return lines.join('\n');
}

/** True when the code that asked to print an error is tslab reporting a failed cell. */
function printedByKernel(): boolean {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  // The first frame outside Node's own modules and this file is whoever called console.error.
  const caller = stack
    .split('\n')
    .slice(1)
    .find((line) => !/\(node:|at node:/.test(line) && !line.includes(THIS_FILE) && !KERNEL_LAUNCHER.test(line));
  return caller !== undefined && TSLAB_REPORTER.test(caller);
}

let installed = false;

/**
 * In a tslab kernel, makes errors that fail a cell print as their sentence. Does
 * nothing outside a kernel, when `GENLAB_TRACEBACK=1`, or where `Error.prototype`
 * is frozen (the grader's lockdown, which reads errors its own way).
 */
export function showCellErrorsAsSentences(): void {
  if (installed || !inKernel() || process.env.GENLAB_TRACEBACK === '1') return;
  if (Object.isFrozen(Error.prototype) || Object.prototype.hasOwnProperty.call(Error.prototype, INSPECT)) return;
  Object.defineProperty(Error.prototype, INSPECT, {
    value: function (this: Error, _depth: number, options: util.InspectOptions) {
      if (printedByKernel()) return errorSentence(this);
      return util.inspect(this, { ...options, customInspect: false });
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
  installed = true;
}
