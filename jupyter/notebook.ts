/**
 * The one notebook type: nbformat 4 JSON as genlab reads and writes it (the grader, the notebook runner, the
 * benchmarks and the tests all use it), parsed with errors that say which file and what is wrong. A cell's
 * metadata may carry nbgrader's fields (schema version 3), which grading/notebook.ts interprets.
 */
import * as fs from 'fs';
import { GenlabError } from '../lib/errors';

/** One output of a code cell, as nbformat stores it (stream, display_data, execute_result, error). */
export interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
  [key: string]: unknown;
}

export interface NbgraderMeta {
  grade?: boolean;
  solution?: boolean;
  locked?: boolean;
  /** A task cell: markdown graded by hand, with a mark scheme the release removes. */
  task?: boolean;
  grade_id?: string;
  points?: number;
  checksum?: string;
  schema_version?: number;
  cell_type?: string;
}

export interface Cell {
  cell_type: 'code' | 'markdown' | 'raw';
  id?: string;
  source: string | string[];
  metadata: {
    nbgrader?: NbgraderMeta;
    genlab?: { timeout?: number };
    /** When the kernel went busy and idle for this cell, as nbclient records them. */
    execution?: Record<string, string>;
    [key: string]: unknown;
  };
  outputs?: Output[];
  execution_count?: number | null;
  [key: string]: unknown;
}

export interface Notebook {
  cells: Cell[];
  metadata: { kernelspec?: { name?: string; display_name?: string; language?: string }; [key: string]: unknown };
  nbformat: number;
  nbformat_minor: number;
}

/** A notebook that cannot be read: the message says which file and what is wrong. */
export class NotebookError extends GenlabError {
  constructor(message: string) {
    super(message);
    this.name = 'NotebookError';
  }
}

/** Parses and validates notebook JSON; `name` appears in error messages. */
export function parseNotebook(text: string, name: string): Notebook {
  if (text.trim() === '') throw new NotebookError(`${name} is empty (0 bytes of notebook JSON).`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new NotebookError(
      `${name} is not valid JSON (${(err as Error).message}): it was probably edited outside Jupyter or truncated.`,
    );
  }
  const nb = data as Partial<Notebook>;
  if (!nb || typeof nb !== 'object' || Array.isArray(nb))
    throw new NotebookError(`${name} is JSON but not a notebook (expected an object with "cells").`);
  if (nb.nbformat !== 4)
    throw new NotebookError(
      `${name} is nbformat ${String(nb.nbformat)}; genlab reads nbformat 4 (save it from a current Jupyter).`,
    );
  if (!Array.isArray(nb.cells)) throw new NotebookError(`${name} has no "cells" list.`);
  nb.cells.forEach((cell, i) => {
    if (!cell || typeof cell !== 'object') throw new NotebookError(`${name}: cell ${i} is not an object.`);
    if (!['code', 'markdown', 'raw'].includes(cell.cell_type))
      throw new NotebookError(`${name}: cell ${i} has cell_type '${String(cell.cell_type)}'.`);
    if (typeof cell.source !== 'string' && !Array.isArray(cell.source))
      throw new NotebookError(`${name}: cell ${i} has no source.`);
    cell.metadata ??= {};
  });
  nb.metadata ??= {};
  nb.nbformat_minor ??= 4;
  return nb as Notebook;
}

export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new NotebookError(
      `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`,
    );
  }
  return parseNotebook(text, file);
}

export function writeNotebook(file: string, nb: Notebook): void {
  fs.writeFileSync(file, `${JSON.stringify(nb, null, 1)}\n`);
}

export function sourceOf(cell: Cell): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

/** Splits text into nbformat's list of lines (each but the last keeps its newline). */
export function toLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n').map((l) => `${l}\n`);
  lines[lines.length - 1] = lines[lines.length - 1].slice(0, -1);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A text field of nbformat (a string, or a list of lines) as one string. */
export function joined(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join('') : (value ?? '');
}
