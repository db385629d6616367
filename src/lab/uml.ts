/**
 * User-mode Linux harness: runs a shell scenario as root inside a UML kernel (Debian's
 * `user-mode-linux`, 6.1) that has bonding, bridge, veth and br_netfilter, which the host
 * kernel may lack.
 *
 * How a run works:
 * - The host makes a work dir `W` (default `/var/tmp/xenplan-uml-XXXXXX`), writes `init.sh`,
 *   `stage2.sh` and `script.sh` into it, and a modules tree `W/mods/lib/modules/<version>`
 *   whose `kernel/` links to the package's modules and whose index comes from `depmod -b`.
 * - `linux.uml` boots with the host's `/` as its root (hostfs) mounted READ-ONLY, and
 *   `init=W/init.sh`. Stage 1 mounts an overlay (host `/` as lower layer, a tmpfs inside UML
 *   as upper layer), fresh tmpfs on `/run` and `/var/log`, proc, sysfs, devtmpfs, and
 *   `W` itself as a writable hostfs mount, then chroots into the overlay and runs stage 2.
 *   So a scenario may write anywhere (`/etc`, `/var/lib/xen`, ...): writes land in UML's RAM
 *   and never reach the host, except under `W`. `/tmp` stays the host's (read through the
 *   overlay): a checkout, and so the bundle, may live there (CI clones do).
 * - Stage 2 links `/lib/modules/<version>` to the tree in `W` (plain `modprobe` works),
 *   loads `bridge veth bonding br_netfilter` (required) and `dummy tun` (optional), exports
 *   the environment, runs `script.sh` with stdout+stderr to `W/output`, writes its exit
 *   status to `W/status`, syncs and `poweroff -f`s.
 * - The host reads the files after UML exits (UML's exit status is not the script's), kills
 *   every process of the run on a timeout, and always removes `W`.
 */

import { execFile, spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kill } from 'node:process';
import { XenplanError } from '../model/error.ts';

export const DEFAULT_UML_BINARY = '/usr/bin/linux.uml';
export const DEFAULT_UML_MODULES_ROOT = '/usr/lib/uml/modules';
export const DEFAULT_UML_WORK_BASE = '/var/tmp';
export const DEFAULT_UML_TIMEOUT_MS = 120_000;
export const DEFAULT_UML_MEM_MB = 512;

/** Modules every run loads; a run fails if one of them cannot be loaded. */
export const UML_REQUIRED_MODULES: readonly string[] = ['bridge', 'veth', 'bonding', 'br_netfilter'];
/** Modules loaded when present. */
export const UML_OPTIONAL_MODULES: readonly string[] = ['dummy', 'tun', '8021q'];

/** PATH inside UML (the host's directories: the root is the host's filesystem). */
export const UML_GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const TOOL_DIRS: readonly string[] = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters allowed in paths that go onto the kernel command line and into scripts unquoted. */
const SAFE_PATH = /^\/[A-Za-z0-9._/+-]*$/;

export interface UmlHostOptions {
  /** The UML kernel binary; default `/usr/bin/linux.uml`. */
  readonly binary?: string;
  /** Where the package keeps `<version>/kernel/...`; default `/usr/lib/uml/modules`. */
  readonly modulesRoot?: string;
}

export interface UmlRunOptions extends UmlHostOptions {
  /** POSIX sh body, run as root inside UML by `/bin/sh`. */
  readonly script: string;
  /** Wall-clock limit for the whole run, boot included; default 120 s. */
  readonly timeoutMs?: number;
  /** UML memory in MiB; default 512. */
  readonly memMb?: number;
  /** Variables exported to the script (names must be shell identifiers). */
  readonly env?: Readonly<Record<string, string>>;
  /** Directories put in front of the guest PATH (e.g. the directory of the host's `node`). */
  readonly pathPrepend?: readonly string[];
  /** Working directory of the script; default the work dir (the only host dir writable inside). */
  readonly cwd?: string;
  /** Parent of the work dir; default `/var/tmp`. */
  readonly workBase?: string;
  /** Called with each new piece of the script's output while it runs (polled). */
  readonly onOutput?: (text: string) => void;
  /** Aborting stops the run (kills UML) as a timeout would. */
  readonly signal?: AbortSignal;
  /**
   * Gives the caller UML's console (con0) as pipes instead of the log file alone, so a
   * scenario can open an interactive shell on /dev/console (`xenplan lab --keep`). What UML
   * prints still goes to the log too.
   */
  readonly console?: (stdin: NodeJS.WritableStream, stdout: NodeJS.ReadableStream) => void;
  /** Told the work dir once it exists (it is removed before runInUml returns). */
  readonly onStart?: (workDir: string) => void;
}

export interface UmlRunResult {
  /** True when the script ran to its end and exited 0. */
  readonly ok: boolean;
  /** The script's exit status; -1 when it did not finish (timeout, boot failure). */
  readonly exitCode: number;
  /** The script's stdout and stderr, interleaved. */
  readonly output: string;
  /** UML's console (kernel messages, init's progress lines). */
  readonly log: string;
  /** Why ok is false. */
  readonly reason?: string;
  /** Host wall-clock time of the run, setup and cleanup included. */
  readonly durationMs: number;
  /** Guest uptime when the script started (kernel boot + init + module loading), when known. */
  readonly bootMs?: number;
  /** The work dir the run used; it no longer exists when runInUml returns. */
  readonly workDir: string;
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

/** Single-quotes a value for POSIX sh: `it's` becomes `'it'\''s'`. */
export function quoteShell(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
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
  for (const dir of TOOL_DIRS) {
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

export interface UmlInitParams {
  readonly workDir: string;
  readonly version: string;
  readonly env: Readonly<Record<string, string>>;
  readonly path: string;
  readonly cwd: string;
  /** Guest-side watchdog: power off after this many seconds even if the host side is gone. */
  readonly watchdogSeconds: number;
}

/** Stage 1, PID 1 on the read-only hostfs root: build the overlay root and chroot into it. */
export function renderUmlInit(params: UmlInitParams): string {
  const w = params.workDir;
  return `#!/bin/sh
# xenplan UML init, stage 1 (generated by src/lab/uml.ts)
export PATH=${quoteShell(UML_GUEST_PATH)}
W=${quoteShell(w)}
R=/run/xenplan-root
say() { up=; read -r up _ < /proc/uptime 2>/dev/null; echo "xenplan-uml \${up:-?}s: $*"; }
die() {
  say "init failed: $*"
  mount -t hostfs -o "sync,$W" hostfs "$W" 2>/dev/null
  echo "$*" > "$W/init-error"
  sync
  poweroff -f
}
mount -t proc proc /proc || die "mount proc"
say "stage 1"
mount -t tmpfs -o mode=0755 tmpfs /run || die "mount tmpfs /run"
modprobe -d "$W/mods" overlay || die "modprobe overlay"
mkdir -p /run/ov/upper /run/ov/work "$R" || die "mkdir overlay dirs"
mount -t overlay overlay -o lowerdir=/,upperdir=/run/ov/upper,workdir=/run/ov/work "$R" || die "mount overlay root"
mount -t proc proc "$R/proc" || die "mount proc in root"
mount -t sysfs sysfs "$R/sys" || die "mount sysfs"
mount -t devtmpfs devtmpfs "$R/dev" || die "mount devtmpfs"
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts devpts "$R/dev/pts"
for d in /run /var/log; do
  mount -t tmpfs -o mode=0755 tmpfs "$R$d" || die "mount tmpfs $d"
done
chmod 1777 "$R/tmp" "$R/dev/shm"
mkdir -p "$R$W" || die "mkdir work dir in root"
mount -t hostfs -o "sync,$W" hostfs "$R$W" || die "mount work dir"
say "stage 1 done"
exec chroot "$R" /bin/sh "$W/stage2.sh"
`;
}

/** Stage 2, PID 1 inside the overlay root: modules, environment, the script, the result. */
export function renderUmlStage2(params: UmlInitParams): string {
  const exports = Object.entries(params.env)
    .map(([name, value]) => `export ${name}=${quoteShell(value)}`)
    .join('\n');
  return `#!/bin/sh
# xenplan UML init, stage 2 (generated by src/lab/uml.ts)
export PATH=${quoteShell(params.path)}
W=${quoteShell(params.workDir)}
V=${quoteShell(params.version)}
say() { up=; read -r up _ < /proc/uptime 2>/dev/null; echo "xenplan-uml \${up:-?}s: $*"; }
die() {
  say "init failed: $*"
  echo "$*" > "$W/init-error"
  sync
  poweroff -f
}
(
  sleep ${params.watchdogSeconds}
  say "watchdog: scenario still running after ${params.watchdogSeconds} s"
  echo "guest watchdog fired after ${params.watchdogSeconds} s" > "$W/init-error"
  sync
  poweroff -f
) &
say "stage 2"
mkdir -p /lib/modules || die "mkdir /lib/modules"
if [ -e "/lib/modules/$V" ] || [ -L "/lib/modules/$V" ]; then rm -rf "/lib/modules/$V"; fi
ln -s "$W/mods/lib/modules/$V" "/lib/modules/$V" || die "link /lib/modules/$V"
modprobe -a ${UML_REQUIRED_MODULES.join(' ')} || die "modprobe -a ${UML_REQUIRED_MODULES.join(' ')}"
for m in ${UML_REQUIRED_MODULES.join(' ')}; do
  [ -d "/sys/module/$m" ] || die "module $m is not loaded"
done
modprobe -a -q ${UML_OPTIONAL_MODULES.join(' ')} 2>/dev/null
for m in ${UML_OPTIONAL_MODULES.join(' ')}; do
  [ -d "/sys/module/$m" ] || say "optional module $m is not loaded"
done
say "modules loaded"
ip link set lo up
hostname xenplan-uml
export HOME=/root TERM=dumb LANG=C.UTF-8
export XENPLAN_UML_WORK="$W"
${exports}
read -r up _ < /proc/uptime
echo "$up" > "$W/started"
say "running scenario"
cd ${quoteShell(params.cwd)} || die "cd ${params.cwd}"
/bin/sh "$W/script.sh" > "$W/output" 2>&1 < /dev/null
rc=$?
echo "$rc" > "$W/status"
say "scenario exited with status $rc"
sync
poweroff -f
`;
}

function checkOptions(options: UmlRunOptions): void {
  for (const name of Object.keys(options.env ?? {})) {
    if (!ENV_NAME.test(name)) {
      throw new XenplanError('usage', `UML env name ${JSON.stringify(name)} is not a shell identifier`);
    }
  }
  const memMb = options.memMb ?? DEFAULT_UML_MEM_MB;
  if (!Number.isInteger(memMb) || memMb < 64 || memMb > 16384) {
    throw new XenplanError('usage', `UML memMb ${memMb} is not an integer between 64 and 16384`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_UML_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new XenplanError('usage', `UML timeoutMs ${timeoutMs} is not a positive number`);
  }
  for (const dir of [options.workBase ?? DEFAULT_UML_WORK_BASE, ...(options.pathPrepend ?? [])]) {
    if (!SAFE_PATH.test(dir)) {
      throw new XenplanError(
        'usage',
        `UML path ${JSON.stringify(dir)} must be absolute and use only letters, digits and ._/+-`,
      );
    }
  }
  if (options.pathPrepend?.some((dir) => dir.includes(':'))) {
    throw new XenplanError('usage', 'UML pathPrepend entries must not contain ":"');
  }
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
async function prepareModules(workDir: string, found: UmlModulesVersion): Promise<void> {
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

/** Host processes whose command line mentions the work dir (UML and its helper processes). */
async function findRunProcesses(workDir: string): Promise<number[]> {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'latin1');
      if (cmdline.includes(`init=${workDir}/init.sh`)) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    kill(pid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Kills UML's process group and any straggler naming the work dir, until none is left. */
async function killRun(groupPid: number | undefined, workDir: string): Promise<number[]> {
  if (groupPid !== undefined) trySignal(-groupPid, 'SIGKILL');
  let left: number[] = [];
  for (let i = 0; i < 50; i++) {
    left = await findRunProcesses(workDir);
    if (left.length === 0) return left;
    for (const pid of left) trySignal(pid, 'SIGKILL');
    await sleep(100);
  }
  return left;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Boots UML, runs `options.script` as root inside it and returns its exit status and output.
 * Never leaves a UML process or the work dir behind (a timeout kills the run). Throws
 * XenplanError('environment') when UML is not available, ('usage') for bad options.
 */
export async function runInUml(options: UmlRunOptions): Promise<UmlRunResult> {
  const started = Date.now();
  checkOptions(options);
  const availability = umlAvailable(options);
  if (!availability.ok || availability.binary === undefined) {
    throw new XenplanError('environment', `User-mode Linux is not available: ${availability.reason}`);
  }
  const found = findUmlModulesVersion(options.modulesRoot);
  if (found === undefined) throw new XenplanError('environment', 'UML modules directory vanished');

  const timeoutMs = options.timeoutMs ?? DEFAULT_UML_TIMEOUT_MS;
  const memMb = options.memMb ?? DEFAULT_UML_MEM_MB;
  const workDir = mkdtempSync(join(options.workBase ?? DEFAULT_UML_WORK_BASE, 'xenplan-uml-'));
  let groupPid: number | undefined;
  let logFd: number | undefined;
  try {
    if (!SAFE_PATH.test(workDir)) {
      throw new XenplanError(
        'usage',
        `UML work dir ${workDir} has characters unsafe for the kernel command line`,
      );
    }
    options.onStart?.(workDir);
    await prepareModules(workDir, found);
    const params: UmlInitParams = {
      workDir,
      version: found.version,
      env: options.env ?? {},
      path: [...(options.pathPrepend ?? []), UML_GUEST_PATH].join(':'),
      cwd: options.cwd ?? workDir,
      watchdogSeconds: Math.ceil(timeoutMs / 1000) + 30,
    };
    writeFileSync(join(workDir, 'init.sh'), renderUmlInit(params), { mode: 0o755 });
    writeFileSync(join(workDir, 'stage2.sh'), renderUmlStage2(params), { mode: 0o755 });
    writeFileSync(join(workDir, 'script.sh'), options.script, { mode: 0o755 });
    mkdirSync(join(workDir, 'uml'));

    const logPath = join(workDir, 'console.log');
    logFd = openSync(logPath, 'w');
    const args = [
      `mem=${memMb}M`,
      'rootfstype=hostfs',
      'rootflags=/',
      'ro',
      `init=${workDir}/init.sh`,
      `uml_dir=${workDir}/uml`,
      `umid=${workDir.split('/').at(-1)}`,
      'con=null',
      'con0=fd:0,fd:1',
    ];
    const child = spawn(availability.binary, args, {
      detached: true,
      stdio: options.console ? ['pipe', 'pipe', logFd] : ['ignore', logFd, logFd],
      env: { PATH: TOOL_DIRS.join(':') },
    });
    groupPid = child.pid;
    if (options.console && child.stdin && child.stdout) {
      const fd = logFd;
      child.stdout.on('data', (chunk: Buffer) => writeSync(fd, chunk));
      child.stdin.on('error', () => undefined);
      options.console(child.stdin, child.stdout);
    }
    if (!options.console) {
      closeSync(logFd);
      logFd = undefined;
    }

    const outputPath = join(workDir, 'output');
    let shown = 0;
    const poll = () => {
      if (!options.onOutput) return;
      const text = readIfExists(outputPath);
      if (text !== undefined && text.length > shown) {
        options.onOutput(text.slice(shown));
        shown = text.length;
      }
    };
    const poller = options.onOutput ? setInterval(poll, 250) : undefined;
    const outcome = await new Promise<{
      timedOut: boolean;
      aborted?: boolean;
      error?: Error;
      code: number | null;
      signal: string | null;
    }>((resolve) => {
      const timer = setTimeout(() => resolve({ timedOut: true, code: null, signal: null }), timeoutMs);
      options.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve({ timedOut: false, aborted: true, code: null, signal: null });
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        resolve({ timedOut: false, error, code: null, signal: null });
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ timedOut: false, code, signal });
      });
    });
    if (poller) clearInterval(poller);
    const left = await killRun(groupPid, workDir);
    groupPid = undefined;
    poll();

    const log = readIfExists(logPath) ?? '';
    const output = readIfExists(join(workDir, 'output')) ?? '';
    const status = readIfExists(join(workDir, 'status'))?.trim();
    const initError = readIfExists(join(workDir, 'init-error'))?.trim();
    const startedUptime = Number(readIfExists(join(workDir, 'started'))?.trim());
    const exitCode = status !== undefined && /^\d+$/.test(status) ? Number(status) : -1;
    const bootMs =
      Number.isFinite(startedUptime) && startedUptime > 0 ? Math.round(startedUptime * 1000) : undefined;

    let reason: string | undefined;
    if (outcome.aborted) {
      reason = 'UML run stopped (interrupted)';
    } else if (outcome.timedOut) {
      reason = `UML run timed out after ${timeoutMs} ms${bootMs === undefined ? ' (before the script started)' : ''}`;
    } else if (outcome.error !== undefined) {
      reason = `could not start ${availability.binary}: ${outcome.error.message}`;
    } else if (initError !== undefined) {
      reason = `UML init failed: ${initError}`;
    } else if (exitCode === -1) {
      reason = `UML exited (code ${outcome.code}, signal ${outcome.signal}) without a script status; console tail:\n${tail(log, 15)}`;
    } else if (exitCode !== 0) {
      reason = `script exited with status ${exitCode}`;
    }
    if (left.length > 0) {
      reason = `${reason ?? 'ok'}; UML processes ${left.join(' ')} could not be killed`;
    }
    const base = {
      exitCode,
      output,
      log,
      durationMs: 0,
      workDir,
      ...(bootMs === undefined ? {} : { bootMs }),
    };
    rmSync(workDir, { recursive: true, force: true });
    return reason === undefined
      ? { ...base, ok: true, durationMs: Date.now() - started }
      : { ...base, ok: false, reason, durationMs: Date.now() - started };
  } finally {
    if (logFd !== undefined) closeSync(logFd);
    if (groupPid !== undefined) await killRun(groupPid, workDir);
    rmSync(workDir, { recursive: true, force: true });
  }
}
