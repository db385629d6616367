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
 *
 * Its parts: uml-options.ts (options, defaults, checks), uml-host.ts (the binary, modules and
 * tools the host must have), uml-init.ts (the two init scripts), uml-process.ts (killing a run).
 */

import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { XenplanError } from '../model/error.ts';
import { findUmlModulesVersion, prepareUmlModules, UML_TOOL_DIRS, umlAvailable } from './uml-host.ts';
import { renderUmlInit, renderUmlStage2, UML_GUEST_PATH, type UmlInitParams } from './uml-init.ts';
import {
  DEFAULT_UML_MEM_MB,
  DEFAULT_UML_TIMEOUT_MS,
  DEFAULT_UML_WORK_BASE,
  UML_SAFE_PATH,
  type UmlRunOptions,
  validateUmlRunOptions,
} from './uml-options.ts';
import { killUmlRun } from './uml-process.ts';

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
  validateUmlRunOptions(options);
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
    if (!UML_SAFE_PATH.test(workDir)) {
      throw new XenplanError(
        'usage',
        `UML work dir ${workDir} has characters unsafe for the kernel command line`,
      );
    }
    options.onStart?.(workDir);
    await prepareUmlModules(workDir, found);
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
      env: { PATH: UML_TOOL_DIRS.join(':') },
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
    const left = await killUmlRun(groupPid, workDir);
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
    if (groupPid !== undefined) await killUmlRun(groupPid, workDir);
    rmSync(workDir, { recursive: true, force: true });
  }
}
