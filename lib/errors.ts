/**
 * Errors a user can act on.
 *
 * A `GenlabError` carries one sentence that says what was wrong and what to do.
 * Its stack is that sentence, so a notebook cell and a CLI show the sentence, not
 * a trace through the library. tslab prints a failing cell's error with
 * `console.error(err)` (util.inspect), and Node's vm prefixes `err.stack` with the
 * throwing source line; so the stack ignores writes and inspect prints the sentence.
 */
export class GenlabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GenlabError';
    const sentence = `${this.name}: ${message}`;
    Object.defineProperty(this, 'stack', {
      get: () => sentence,
      set: () => undefined,
      configurable: true,
      enumerable: false,
    });
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.name}: ${this.message}`;
  }
}
