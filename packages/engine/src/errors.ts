/**
 * Errors a user can act on, from the engine.
 *
 * An `EngineError` carries one sentence that says what was wrong and what to do, and its stack is that sentence:
 * a notebook cell (tslab prints a failing cell's error with util.inspect, and Node's vm prefixes `err.stack` with
 * the throwing line) and a command line show the sentence, not a trace through the engine. genlab's own
 * `GenlabError` behaves the same way.
 */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
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
