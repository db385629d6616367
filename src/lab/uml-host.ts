/**
 * What a UML run needs from the host: the UML kernel binary, its modules directory, depmod and
 * modprobe; and the run's own modules tree, built from the package's without writing into it.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { XenplanError } from '../model/error.ts';

export const DEFAULT_UML_BINARY = '/usr/bin/linux.uml';
export const DEFAULT_UML_MODULES_ROOT = '/usr/lib/uml/modules';

/** Where host tools are looked for; also UML's own PATH on the host. */
export const UML_TOOL_DIRS: readonly string[] = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface UmlHostOptions {
  /** The UML kernel binary; default `/usr/bin/linux.uml`. */
  readonly binary?: string;
  /** Where the package keeps `<version>/kernel/...`; default `/usr/lib/uml/modules`. */
  readonly modulesRoot?: string;
}

export interface UmlAvailability {
  readonly ok: boolean;
  readonly reason?: string;
  readonly binary?: string;
  readonly version?: string;
  readonly modulesDir?: string;
}

export interface UmlModulesVersion {
  readonly version: string;
  /** `<modulesRoot>/<version>`. */
  readonly dir: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findTool(name: string): string | undefined {
  for (const dir of UML_TOOL_DIRS) {
    const path = join(dir, name);
    if (isExecutable(path)) return path;
  }
  return undefined;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isInteger(nx) && Number.isInteger(ny) ? nx - ny : x.localeCompare(y);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * Finds the UML modules directory: the versions under `modulesRoot` that hold `kernel/` and
 * `modules.order`; with several, the newest. (The kernel's own `uname -r` equals the directory
 * name in Debian's package; `linux.uml --version` prints it, but the directory is what matters
 * to modprobe.)
 */
export function findUmlModulesVersion(
  modulesRoot: string = DEFAULT_UML_MODULES_ROOT,
): UmlModulesVersion | undefined {
  let names: string[];
  try {
    names = readdirSync(modulesRoot);
  } catch {
    return undefined;
  }
  const versions = names
    .filter((name) => {
      const dir = join(modulesRoot, name);
      return existsSync(join(dir, 'kernel')) && existsSync(join(dir, 'modules.order'));
    })
    .sort(compareVersions);
  const version = versions.at(-1);
  return version === undefined ? undefined : { version, dir: join(modulesRoot, version) };
}

/** Whether runInUml can work here: the UML binary, its modules, depmod and modprobe. */
export function umlAvailable(options: UmlHostOptions = {}): UmlAvailability {
  const binary = options.binary ?? DEFAULT_UML_BINARY;
  const modulesRoot = options.modulesRoot ?? DEFAULT_UML_MODULES_ROOT;
  if (!isExecutable(binary)) {
    return { ok: false, reason: `UML kernel ${binary} is missing (install Debian package user-mode-linux)` };
  }
  const found = findUmlModulesVersion(modulesRoot);
  if (found === undefined) {
    return {
      ok: false,
      binary,
      reason: `no UML modules under ${modulesRoot} (expected ${modulesRoot}/<version>/kernel; package user-mode-linux)`,
    };
  }
  for (const tool of ['depmod', 'modprobe']) {
    if (findTool(tool) === undefined) {
      return { ok: false, binary, reason: `${tool} is missing (install Debian package kmod)` };
    }
  }
  return { ok: true, binary, version: found.version, modulesDir: found.dir };
}

function runTool(file: string, args: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (error, _stdout, stderr) => {
      if (error) {
        reject(
          new XenplanError('environment', `${file} ${args.join(' ')} failed: ${error.message}`, {
            detail: String(stderr),
            cause: error,
          }),
        );
      } else {
        resolve();
      }
    });
  });
}

/** Builds `<work>/mods/lib/modules/<version>` without writing into the package's directory. */
export async function prepareUmlModules(workDir: string, found: UmlModulesVersion): Promise<void> {
  const base = join(workDir, 'mods');
  const dir = join(base, 'lib', 'modules', found.version);
  mkdirSync(dir, { recursive: true });
  for (const name of ['kernel', 'modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
    if (existsSync(join(found.dir, name))) symlinkSync(join(found.dir, name), join(dir, name));
  }
  const depmod = findTool('depmod');
  if (depmod === undefined) throw new XenplanError('environment', 'depmod is missing (install kmod)');
  await runTool(depmod, ['-b', base, found.version], 30_000);
}
