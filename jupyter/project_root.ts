/**
 * The project's root folder: a module of its own, so that environment.ts and python_env.ts (which environment.ts
 * imports) both find the root in one place without importing each other.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The root of the project that holds this file (where package.json is, outside `dist`). */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') dir = path.dirname(dir);
  return dir;
}
