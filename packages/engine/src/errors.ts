/**
 * Errors a user can act on.
 *
 * A `SentenceError` carries one sentence that says what was wrong and what to do, and its stack is that sentence
 * (`Name: message`): a notebook cell (tslab prints a failing cell's error with util.inspect, and Node's vm prefixes
 * `err.stack` with the throwing line) and a command line show the sentence, not a trace through the code. The
 * engine throws `EngineError`s; genlab's `GenlabError` is a SentenceError too.
 */
export class SentenceError extends Error {
  constructor(message: string) {
    super(message);
    // Read when shown, so that a subclass's name (set after this constructor) leads the sentence.
    Object.defineProperty(this, 'stack', {
      get: () => `${this.name}: ${this.message}`,
      set: () => undefined,
      configurable: true,
      enumerable: false,
    });
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.name}: ${this.message}`;
  }
}

/** What the engine throws: a SentenceError named 'EngineError'. */
export class EngineError extends SentenceError {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}
