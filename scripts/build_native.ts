/**
 * Builds genlab's optional native kernels (native/, lib/engine/native/) with node-gyp, where a C++ compiler and
 * oneDNN are installed. Never fails setup: a machine without them runs the wasm kernels, and this says what to
 * install. `npm run setup` calls it (and skips it when the build is newer than its sources); `npm run build:native`
 * runs it alone (`-- --force` rebuilds).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../jupyter/environment';
import { findProgram } from '../jupyter/prerequisites';
import { parseCommandLine } from '../lib/command_line';
import { nativeAddonPath } from '../lib/engine/native';

/** Where oneDNN's headers are looked for (Debian's libdnnl-dev, or a build of one's own in /usr/local). */
const ONEDNN_HEADERS = ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/oneapi/dnnl/dnnl.hpp'];

/** node-gyp: the project's own, else the one npm ships with. */
function nodeGyp(): string | undefined {
  const candidates: string[] = [];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js', { paths: [projectRoot()] }));
  } catch {
    /* not a dependency here */
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

/** True when the built addon is newer than every source it is built from. */
function upToDate(): boolean {
  const addon = nativeAddonPath();
  if (!fs.existsSync(addon)) return false;
  const dir = path.join(projectRoot(), 'native');
  const sources = [
    path.join(dir, 'binding.gyp'),
    ...fs.readdirSync(path.join(dir, 'src')).map((f) => path.join(dir, 'src', f)),
  ];
  const built = fs.statSync(addon).mtimeMs;
  return sources.every((f) => fs.statSync(f).mtimeMs <= built);
}

/** Builds the addon unless it is up to date (`force` rebuilds). */
export function buildNative(force = false): NativeBuild {
  if (!force && upToDate())
    return { built: true, message: `native kernels up to date (${path.relative(projectRoot(), nativeAddonPath())}).` };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return {
      built: false,
      message: `native kernels not built: they are built on Linux x86-64 only so far (this is ${process.platform} ${process.arch}); the wasm kernels run instead.`,
    };
  const missing: string[] = [];
  if (!findProgram('g++')) missing.push('a C++ compiler (Debian: g++)');
  if (!findProgram('make')) missing.push('make');
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
  const r = spawnSync(
    process.execPath,
    [gyp!, 'rebuild', `--nodedir=${headers}`, '--directory', path.join(projectRoot(), 'native')],
    {
      encoding: 'utf8',
      env: { ...process.env, npm_config_nodedir: headers },
    },
  );
  if (r.status !== 0 || !fs.existsSync(nativeAddonPath())) {
    const log = path.join(projectRoot(), 'native', 'build-error.log');
    fs.writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
    return {
      built: false,
      message: `native kernels failed to build (the compiler's messages are in ${path.relative(process.cwd(), log)}); the wasm kernels run instead.`,
    };
  }
  return { built: true, message: `native kernels built (${path.relative(projectRoot(), nativeAddonPath())}, oneDNN).` };
}

if (require.main === module) {
  try {
    const { flags } = parseCommandLine('npm run build:native --', process.argv.slice(2), {
      force: { kind: 'boolean' },
    });
    console.log(`setup: ${buildNative(flags.force === true).message}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
