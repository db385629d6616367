import { spawn } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { XenplanError } from '../model/error.ts';

/**
 * The network-script lock: flock(2) on /run/xenplan/network.lock (or XENPLAN_RUN_DIR). Two
 * network-script runs never interleave; vif-script waits while it is held.
 *
 * The kernel releases it when its holder dies, however it dies: no pid file, no takeover, no
 * pid reuse to be fooled by. Node has no flock(2), so util-linux `flock` locks the file through
 * a descriptor it inherits as fd 3: an flock lock belongs to the open file description, which
 * the child shares with Node's own descriptor. After `flock` exits the lock stays held through
 * Node's descriptor, until release() closes it or the process ends. (Node's other children
 * do not inherit the descriptor: libuv opens files close-on-exec.) The file's text, our pid,
 * is only for messages.
 */
export function lockPath(env: Readonly<Record<string, string | undefined>>): string {
  return `${env.XENPLAN_RUN_DIR || '/run/xenplan'}/network.lock`;
}

/** The pid written in the lock file by its last holder (for messages only). */
function writtenPid(path: string): string {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^[0-9]+$/.test(text) ? `pid ${text}` : 'a process';
  } catch {
    return 'a process';
  }
}

/** Runs `flock ARGS 3` on the open file description of `fd`; resolves with its exit code. */
function flockOn(fd: number, args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('flock', [...args, '3'], {
      stdio: ['ignore', 'ignore', 'pipe', fd],
      env: { PATH: process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += String(chunk);
    });
    child.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ code: 127, stderr: error.code ?? error.message }),
    );
    child.on('close', (code) => resolve({ code: code ?? 127, stderr }));
  });
}

/** Takes the lock, waiting up to `waitMs` for its holder; returns the release function. */
export async function acquireLock(path: string, waitMs: number): Promise<() => void> {
  mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
  const fd = openSync(path, 'a+', 0o644);
  const seconds = Math.max(0, Math.ceil(waitMs / 1000));
  const { code, stderr } = await flockOn(fd, ['-x', '-w', String(seconds)]);
  if (code !== 0) {
    closeSync(fd);
    if (code === 1)
      throw new XenplanError(
        'environment',
        `another network-script (${writtenPid(path)}) has held ${path} for ${seconds} s; try again when it ends`,
      );
    throw new XenplanError(
      'environment',
      `cannot lock ${path} with util-linux flock: ${stderr.trim() || `exit ${code}`}; expected flock(1) on PATH`,
    );
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`);
  let open = true;
  return () => {
    // Closing the last descriptor of the open file description releases the lock.
    if (open) closeSync(fd);
    open = false;
  };
}

/** /proc/locks' name for a file: "MAJ:MIN:INODE", the device numbers in hex. */
function lockKey(path: string): string | undefined {
  try {
    const { dev, ino } = statSync(path);
    const major = (dev >> 8) & 0xfff;
    const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Is the lock held? Read from /proc/locks without a process (vif-script's hot path): a granted
 * FLOCK line on the file's inode. Waiters ("->" lines) do not count.
 */
export function lockHeld(path: string, procLocks = '/proc/locks'): boolean {
  const key = lockKey(path);
  if (key === undefined) return false;
  let text: string;
  try {
    text = readFileSync(procLocks, 'utf8');
  } catch {
    return false;
  }
  return text.split('\n').some((line) => {
    const words = line.trim().split(/\s+/);
    return words[1] === 'FLOCK' && words[5] === key;
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** vif-script: wait while a network-script holds the lock, at most `waitMs`. True if it had to give up. */
export async function waitForUnlock(path: string, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  while (lockHeld(path)) {
    if (Date.now() > deadline) return true;
    await sleep(100);
  }
  return false;
}
