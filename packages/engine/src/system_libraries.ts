/**
 * Where a Linux machine keeps its shared libraries, for the few that the engine (and genlab's setup) looks for
 * before it asks a native module to open them (Dawn's Vulkan loader, Mesa's GL for the
 * tests), so that a missing one gets a sentence rather than a failed dlopen deep inside.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Debian's multiarch folder first (x86_64-linux-gnu, aarch64-linux-gnu), then the usual others. */
function libraryDirs(): string[] {
  const triplet = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  return [`/usr/lib/${triplet}`, `/lib/${triplet}`, '/usr/lib64', '/usr/lib', '/usr/local/lib'];
}

/** The path of a shared library (`libvulkan.so.1`, or one under a subfolder: `dri/swrast_dri.so`), or undefined. */
export function findSystemLibrary(name: string): string | undefined {
  return libraryDirs()
    .map((dir) => path.join(dir, name))
    .find((file) => fs.existsSync(file));
}
