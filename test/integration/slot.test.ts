import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { slotName } from '../../src/cli/slot.ts';
import { Scripts } from '../support/bundle.ts';

// Slots of the cold path (src/cli/slot.ts): with XENPLAN_SLOTS=1 and the one slot taken, a
// vif event waits, and goes on when the holder goes, however it goes.
describe('cold path slots', () => {
  const scripts = new Scripts();
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-slot-'));
  afterAll(() => {
    scripts.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Holds slot 0 of `runDir` in this process; resolves with the first waiter's connection too. */
  function hold(runDir: string) {
    const waiters: Socket[] = [];
    let waiting: (() => void) | undefined;
    const server: Server = createServer((socket) => {
      waiters.push(socket);
      waiting?.();
    });
    const listening = new Promise<void>((resolve) =>
      server.listen({ path: slotName({ XENPLAN_RUN_DIR: runDir }, 0) }, resolve),
    );
    const waited = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const release = () => {
      server.close();
      for (const s of waiters) s.destroy();
    };
    return { listening, waited, release };
  }

  const vifVersion = (env: Record<string, string>) => {
    const child = spawn(scripts.path('vif-script'), ['--version'], {
      env: { PATH: process.env.PATH ?? '', XENPLAN_CACHE_DIR: scripts.cache, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const done = new Promise<{ status: number | null; out: string }>((resolve) =>
      child.on('close', (status) => resolve({ status, out })),
    );
    return { child, done };
  };

  it('a vif event waits while the only slot is taken, and runs when it is given back', async () => {
    const runDir = join(dir, 'one');
    const slot = hold(runDir);
    await slot.listening;
    const run = vifVersion({ XENPLAN_RUN_DIR: runDir, XENPLAN_SLOTS: '1' });
    await slot.waited;
    expect(run.child.exitCode).toBeNull();
    slot.release();
    expect(await run.done).toEqual({ status: 0, out: '0.1.0\n' });
  });

  it('a holder killed with SIGKILL gives its slot back (the kernel does)', async () => {
    const runDir = join(dir, 'killed');
    const name = JSON.stringify(slotName({ XENPLAN_RUN_DIR: runDir }, 0));
    const holder = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${name}, () => console.log('held'))`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const run = vifVersion({ XENPLAN_RUN_DIR: runDir, XENPLAN_SLOTS: '1' });
    holder.kill('SIGKILL');
    expect(await run.done).toEqual({ status: 0, out: '0.1.0\n' });
  });

  it('without XENPLAN_SLOTS (and with off) a vif event runs at once, slot taken or not', async () => {
    const runDir = join(dir, 'off');
    const slot = hold(runDir);
    await slot.listening;
    for (const slots of [{}, { XENPLAN_SLOTS: 'off' }] as Record<string, string>[]) {
      const run = vifVersion({ XENPLAN_RUN_DIR: runDir, ...slots });
      expect(await run.done).toEqual({ status: 0, out: '0.1.0\n' });
    }
    slot.release();
  });
});
