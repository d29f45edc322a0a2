#!/usr/bin/env node
/**
 * `genlab-engine-build`: builds the engine's optional native kernels (native/, src/native/) with node-gyp, where a
 * C++ compiler and oneDNN are installed. Never fails: a machine without them runs the wasm kernels, and this says what
 * to install. genlab's `npm run setup` calls `buildNative()` (which skips the build when it is newer than its
 * sources); `npm run build:native` in genlab, or `npx genlab-engine-build` anywhere, runs it alone (`--force`
 * rebuilds).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { nativeAddonPath, nativeSourceDir } from './native';

/** Where oneDNN's headers are looked for (Debian's libdnnl-dev, or a build of one's own in /usr/local). */
const ONEDNN_HEADERS = ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/oneapi/dnnl/dnnl.hpp'];

/** A program on the PATH, or undefined. */
function onPath(name: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .find((file) => {
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** node-gyp: one installed beside this package, else the one npm ships with. */
function nodeGyp(): string | undefined {
  const candidates: string[] = [];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed here */
  }
  if (process.env.npm_execpath)
    candidates.push(
      path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    );
  candidates.push(
    path.join(
      path.dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  );
  return candidates.find((c) => fs.existsSync(c));
}

/** Node's own headers, so that node-gyp never tries to download them: npm's nodedir, else next to this Node. */
function nodeHeadersDir(): string | undefined {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..')];
  return candidates.find((d) => d && fs.existsSync(path.join(d, 'include', 'node', 'node_api.h')));
}

export interface NativeBuild {
  built: boolean;
  /** What happened, in a sentence. */
  message: string;
}

/** The addon's path as a message shows it: relative to the working folder where that is shorter. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.length < file.length ? relative : file;
}

/** True when the built addon is newer than every source it is built from. */
function upToDate(): boolean {
  const addon = nativeAddonPath();
  if (!fs.existsSync(addon)) return false;
  const dir = nativeSourceDir();
  const sources = [
    path.join(dir, 'binding.gyp'),
    ...fs.readdirSync(path.join(dir, 'src')).map((f) => path.join(dir, 'src', f)),
  ];
  const built = fs.statSync(addon).mtimeMs;
  return sources.every((f) => fs.statSync(f).mtimeMs <= built);
}

/** Builds the addon unless it is up to date (`force` rebuilds). */
export function buildNative(force = false): NativeBuild {
  if (!force && upToDate()) return { built: true, message: `native kernels up to date (${shown(nativeAddonPath())}).` };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return {
      built: false,
      message: `native kernels not built: they are built on Linux x86-64 only so far (this is ${process.platform} ${process.arch}); the wasm kernels run instead.`,
    };
  const missing: string[] = [];
  if (!onPath('g++')) missing.push('a C++ compiler (Debian: g++)');
  if (!onPath('make')) missing.push('make');
  if (!ONEDNN_HEADERS.some((h) => fs.existsSync(h))) missing.push('oneDNN (Debian: libdnnl-dev)');
  const gyp = nodeGyp();
  if (!gyp) missing.push('node-gyp (it comes with npm)');
  const headers = nodeHeadersDir();
  if (!headers) missing.push("Node's headers (Debian: libnode-dev)");
  if (missing.length > 0)
    return {
      built: false,
      message: `native kernels not built: missing ${missing.join(', ')}; the wasm kernels run instead.`,
    };
  const r = spawnSync(process.execPath, [gyp!, 'rebuild', `--nodedir=${headers}`, '--directory', nativeSourceDir()], {
    encoding: 'utf8',
    env: { ...process.env, npm_config_nodedir: headers },
  });
  if (r.status !== 0 || !fs.existsSync(nativeAddonPath())) {
    const log = path.join(nativeSourceDir(), 'build-error.log');
    fs.writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
    return {
      built: false,
      message: `native kernels failed to build (the compiler's messages are in ${shown(log)}); the wasm kernels run instead.`,
    };
  }
  return { built: true, message: `native kernels built (${shown(nativeAddonPath())}, oneDNN).` };
}

/** The command line: `genlab-engine-build [--force]`; anything else stops with a sentence naming it. */
export function main(argv: string[]): number {
  let force = false;
  try {
    force = parseArgs({ args: argv, options: { force: { type: 'boolean' } }, strict: true }).values.force === true;
  } catch (err) {
    // node:util's own messages explain its syntax; say what was typed, and what is accepted.
    const typed = /'([^']*)'/.exec((err as Error).message)?.[1] ?? argv.join(' ');
    const what = typed.startsWith('-')
      ? `unknown flag '${typed}'${typed.startsWith('--f') ? ' (did you mean --force?)' : ''}`
      : `unexpected argument '${typed}'`;
    console.error(`genlab-engine-build: ${what}; it accepts --force (rebuild even when the build is up to date).`);
    return 2;
  }
  console.log(`genlab-engine: ${buildNative(force).message}`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
