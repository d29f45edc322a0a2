/**
 * Notebooks as the grader sees them: nbformat 4 JSON, parsed with errors that say
 * what is wrong, and nbgrader's cell metadata (schema version 3).
 */
import * as fs from 'fs';
import { GenlabError } from '../lib/errors';

export interface NbgraderMeta {
  grade?: boolean;
  solution?: boolean;
  locked?: boolean;
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
  metadata: { nbgrader?: NbgraderMeta; genlab?: { timeout?: number }; [key: string]: unknown };
  outputs?: unknown[];
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

export function nbgraderOf(cell: Cell): NbgraderMeta | undefined {
  const meta = cell.metadata?.nbgrader;
  return meta && typeof meta === 'object' ? meta : undefined;
}

export const isGrade = (cell: Cell) => Boolean(nbgraderOf(cell)?.grade);
export const isSolution = (cell: Cell) => Boolean(nbgraderOf(cell)?.solution);
/** nbgrader treats grade cells that are not solutions as locked, whatever the flag says. */
export const isLocked = (cell: Cell) => Boolean(nbgraderOf(cell)?.locked) || (isGrade(cell) && !isSolution(cell));
export const gradeId = (cell: Cell) => nbgraderOf(cell)?.grade_id;

/** An auto-graded test: a code cell with grade = true and solution = false. */
export const isAutoTest = (cell: Cell) => cell.cell_type === 'code' && isGrade(cell) && !isSolution(cell);
/** A written answer graded by hand: grade = true and solution = true. */
export const isManualAnswer = (cell: Cell) => isGrade(cell) && isSolution(cell);

/** The library answer keys a source notebook withholds while it is graded (`metadata.genlab.withheld`). */
export function withheldNames(nb: Notebook): string[] {
  const genlab = nb.metadata.genlab as { withheld?: unknown } | undefined;
  const list = genlab?.withheld;
  return Array.isArray(list) ? list.filter((n): n is string => typeof n === 'string') : [];
}

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
