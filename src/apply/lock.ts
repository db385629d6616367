import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { XenplanError } from '../model/error.ts';

/**
 * The network-script lock: a file holding its owner's pid, under /run/xenplan (or
 * XENPLAN_RUN_DIR). Two network-script runs never interleave; vif-script waits while it is
 * held. A lock whose owner is dead is taken over.
 */
export function lockPath(env: Readonly<Record<string, string | undefined>>): string {
  return `${env.XENPLAN_RUN_DIR || '/run/xenplan'}/network.lock`;
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Held by a live process other than us? */
export function lockHolder(path: string): number | undefined {
  const pid = ownerOf(path);
  return pid !== undefined && pid !== process.pid && alive(pid) ? pid : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes the lock, waiting up to `waitMs` for a live owner; returns the release function. */
export async function acquireLock(path: string, waitMs: number): Promise<() => void> {
  mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        if (ownerOf(path) === process.pid) unlinkSync(path);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = lockHolder(path);
    if (holder === undefined) {
      // Stale (owner dead) or being written: take it over.
      try {
        if (ownerOf(path) !== undefined) unlinkSync(path);
      } catch {}
      await sleep(20);
      continue;
    }
    if (Date.now() > deadline)
      throw new XenplanError(
        'environment',
        `another network-script (pid ${holder}) holds ${path}; try again when it ends`,
      );
    await sleep(100);
  }
}

/** vif-script: wait while a live network-script holds the lock, at most `waitMs`. True if it had to give up. */
export async function waitForUnlock(path: string, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  while (lockHolder(path) !== undefined) {
    if (Date.now() > deadline) return true;
    await sleep(100);
  }
  return false;
}
