import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, lockHeld, waitForUnlock } from '../../../src/apply/lock.ts';

/** Polls `test` until it holds or 10 s pass (never a fixed sleep). */
async function until(test: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!test() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

// The network-script lock is flock(2) held through util-linux flock; these use real processes.
describe('network-script lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-lock-'));
  const path = join(dir, 'run', 'network.lock');
  const children: ReturnType<typeof spawn>[] = [];
  /** Another process holding the lock until killed (-o: sleep does not inherit it). */
  const holder = () => {
    const child = spawn('flock', ['-x', '-o', path, 'sleep', '30'], { stdio: 'ignore' });
    children.push(child);
    return child;
  };
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(join(dir, 'run'), { recursive: true, force: true });
  });

  it('takes a free lock, holds it after flock(1) exits, and releases it', async () => {
    const release = await acquireLock(path, 1000);
    expect(lockHeld(path)).toBe(true);
    release();
    expect(lockHeld(path)).toBe(false);
    release();
  });

  it('ignores a pid written in the file: a reused pid of a live process locks nobody out', async () => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(sleeper);
    await acquireLock(path, 1000).then((release) => release());
    writeFileSync(path, `${sleeper.pid}\n`);
    expect(lockHeld(path)).toBe(false);
    const release = await acquireLock(path, 0);
    release();
    expect(await waitForUnlock(path, 0)).toBe(false);
  });

  it('waits for a live holder, then fails', async () => {
    await acquireLock(path, 1000).then((release) => release());
    holder();
    await until(() => lockHeld(path));
    await expect(acquireLock(path, 1000)).rejects.toMatchObject({ kind: 'environment' });
  });

  it('is released by the kernel when its holder dies, and lets vif-script go on', async () => {
    await acquireLock(path, 1000).then((release) => release());
    const child = holder();
    await until(() => lockHeld(path));
    expect(await waitForUnlock(path, 300)).toBe(true);
    child.kill('SIGKILL');
    expect(await waitForUnlock(path, 5000)).toBe(false);
    const release = await acquireLock(path, 1000);
    release();
  });
});
