import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, lockHolder, waitForUnlock } from '../../../src/apply/lock.ts';

// The network-script lock is a file holding its owner's pid; these use real processes.
describe('network-script lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-lock-'));
  const path = join(dir, 'run', 'network.lock');
  const children: ReturnType<typeof spawn>[] = [];
  const live = () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    return child.pid!;
  };
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(join(dir, 'run'), { recursive: true, force: true });
  });

  it('takes a free lock, records our pid, and releases it', async () => {
    const release = await acquireLock(path, 1000);
    expect(readFileSync(path, 'utf8')).toBe(`${process.pid}\n`);
    release();
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock whose owner is dead', async () => {
    const dead = spawn('true');
    await new Promise((resolve) => dead.on('exit', resolve));
    await acquireLock(path, 1000).then((release) => release());
    writeFileSync(path, `${dead.pid}\n`);
    expect(lockHolder(path)).toBeUndefined();
    const release = await acquireLock(path, 1000);
    expect(readFileSync(path, 'utf8')).toBe(`${process.pid}\n`);
    release();
  });

  it('waits for a live owner, then fails naming it', async () => {
    const pid = live();
    await acquireLock(path, 1000).then((release) => release());
    writeFileSync(path, `${pid}\n`);
    await expect(acquireLock(path, 300)).rejects.toMatchObject({
      kind: 'environment',
      message: `another network-script (pid ${pid}) holds ${path}; try again when it ends`,
    });
    expect(readFileSync(path, 'utf8')).toBe(`${pid}\n`);
  });

  it('lets vif-script wait while the owner lives, and go on once it is gone', async () => {
    const pid = live();
    await acquireLock(path, 1000).then((release) => release());
    writeFileSync(path, `${pid}\n`);
    expect(await waitForUnlock(path, 300)).toBe(true);
    children[0]?.kill('SIGKILL');
    await new Promise((resolve) => children[0]?.on('exit', resolve));
    expect(await waitForUnlock(path, 3000)).toBe(false);
  });
});
