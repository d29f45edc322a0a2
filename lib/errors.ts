import { SentenceError } from 'genlab-engine';

/**
 * Errors a user can act on.
 *
 * A `GenlabError` carries one sentence that says what was wrong and what to do. It is the engine's
 * `SentenceError` (genlab-engine, packages/engine/src/errors.ts) named for genlab: its stack is that
 * sentence, so a notebook cell and a CLI show the sentence, not a trace through the library.
 */
export class GenlabError extends SentenceError {
  constructor(message: string) {
    super(message);
    this.name = 'GenlabError';
  }
}
