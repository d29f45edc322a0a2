/** What the notebook tests share: the labs, where their executed copies go, and a run that fails with the cell's error. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../../jupyter/environment';
import { Output, readNotebook } from '../../jupyter/notebook';
import { describeFailure, runNotebook, RunResult } from '../../jupyter/notebook_runner';

export const ROOT = projectRoot();
export const NOTEBOOKS = path.join(ROOT, 'notebooks');
/** Kept for CI: executed notebooks, HTML exports and screenshots (git-ignored). */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');

export function outputsOf(file: string): Output[] {
  return readNotebook(file).cells.flatMap((c) => c.outputs ?? []);
}

export const LABS = fs
  .readdirSync(NOTEBOOKS)
  .filter((f) => /^\d\d-.*\.ipynb$/.test(f) && !f.includes('.executed.'))
  .sort();

export async function runOrFail(
  notebook: string,
  env: NodeJS.ProcessEnv = {},
  artifacts = ARTIFACTS,
): Promise<RunResult> {
  const result = await runNotebook(notebook, {
    output: path.join(artifacts, path.basename(notebook)),
    profile: 'smoke',
    env,
  });
  if (!result.ok) assert.fail(describeFailure(notebook, result));
  return result;
}
