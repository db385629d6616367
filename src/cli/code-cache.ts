/**
 * A V8 code cache for the bundle's application code. Node 18 has no compile cache of its own,
 * and compiling the bundle is about a third of a cold vif event; with `vm.Script`'s
 * `cachedData` V8 deserializes the code the last run compiled instead.
 *
 * The cache is code that runs as root, so it is only trusted from a directory and a file
 * owned by this user and writable by no one else. Its name carries the application's hash, the
 * Node version, the architecture and the V8 flags, and V8 checks its own (cachedDataRejected):
 * a stale or damaged cache is ignored and rewritten, never run. Written atomically (a
 * temporary file renamed over), at exit, so it holds the functions this run compiled.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';

export const DEFAULT_CACHE_DIR = '/var/cache/xenplan/v8';

type Env = Readonly<Record<string, string | undefined>>;

/** The function the application's CommonJS code runs in, as Node's own loader wraps it. */
type Wrapped = (
  exports: unknown,
  require: NodeJS.Require,
  module: unknown,
  filename: string,
  dirname: string,
) => void;

/**
 * Where the cache of this application on this Node lives, or undefined when caching is off:
 * XENPLAN_CODE_CACHE=off, or no XENPLAN_CACHE_DIR and no /var/cache/xenplan/v8 (an admin
 * makes it, mode 0700), so a bundle merely run on a host (or by its tests) leaves nothing.
 */
export function cacheFile(env: Env, appHash: string): string | undefined {
  if (env.XENPLAN_CODE_CACHE === 'off') return undefined;
  const dir = env.XENPLAN_CACHE_DIR || DEFAULT_CACHE_DIR;
  if (!env.XENPLAN_CACHE_DIR && !existsSync(dir)) return undefined;
  const flags = `${process.execArgv.join(' ')} ${env.NODE_OPTIONS ?? ''}`.trim();
  return join(dir, `xenplan-${appHash}-${process.version}-${process.arch}-${fnv1a(flags)}.v8`);
}

/** Compiles the application (from the cache when it is valid) and returns its module function. */
export function compileApp(source: string, filename: string, file: string | undefined): Wrapped {
  const cachedData = file === undefined ? undefined : readTrusted(file);
  // Same line as the code, so stack traces keep the application's line numbers.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  if (file !== undefined && (cachedData === undefined || script.cachedDataRejected === true))
    process.once('exit', () => writeCache(file, script));
  return script.runInThisContext() as Wrapped;
}

function readTrusted(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    if (!trusted(statSync(join(file, '..')))) return undefined;
    fd = openSync(file, 'r');
    if (!trusted(fstatSync(fd))) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Owned by whoever runs us, writable by no one else. */
function trusted(stat: { uid: number; mode: number }): boolean {
  return stat.uid === process.geteuid?.() && (stat.mode & 0o022) === 0;
}

function writeCache(file: string, script: Script): void {
  const dir = join(file, '..');
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!trusted(statSync(dir))) return;
    writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
    renameSync(temporary, file);
    // Caches of other bundles or Nodes are dead weight once this one exists.
    const own = file.slice(dir.length + 1);
    for (const name of readdirSync(dir))
      if (name !== own && name.startsWith('xenplan-') && name.endsWith('.v8')) unlinkSync(join(dir, name));
  } catch {
    // A cache is only a speed-up: a read-only /var or a full disk must not fail the event.
    try {
      unlinkSync(temporary);
    } catch {}
  }
}

/** A short, stable hash of a string (32-bit FNV-1a), for the flags part of the name. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}
