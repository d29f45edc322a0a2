/**
 * Errors a user can act on.
 *
 * A `GenlabError` carries one sentence that says what was wrong and what to do.
 * Its stack is replaced by that sentence, so a notebook cell (tslab prints
 * `error.stack`) and a CLI show the sentence, not a trace through the library.
 */
export class GenlabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GenlabError';
    this.stack = `${this.name}: ${message}`;
  }
}

/** Throws a GenlabError with `message` unless `condition` holds. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new GenlabError(typeof message === 'function' ? message() : message);
}
