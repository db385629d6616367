/**
 * The launcher's slots (bin/vif-xenplan): a cold vif event waits for one of XENPLAN_SLOTS
 * slots in bash, before Node starts, and Node keeps the slot (the fd it inherits) until the
 * event's last process ends. The "node" here is a stand-in that marks that it started and then
 * stays, so the test decides when an event ends; the real bundle runs in the last case.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../support/agent.ts';
import { BUNDLE } from '../support/bundle.ts';

describe('launcher slots: cold vif events wait in bash, before Node starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-launcher-slot-'));
  const launcher = join(dir, 'vif-xenplan');
  copyFileSync(resolve('bin/vif-xenplan'), launcher);
  symlinkSync(BUNDLE, join(dir, 'xenplan.cjs'));
  const fakeNode = join(dir, 'fake-node');
  writeFileSync(fakeNode, '#!/bin/bash\necho "$XENPLAN_SLOTS $XENPLAN_STARTED" > "$MARK"\nexec sleep 600\n');
  chmodSync(fakeNode, 0o755);
  const children: ChildProcess[] = [];
  let n = 0;

  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** One vif event through the launcher, with the stand-in node; `mark` appears once it runs. */
  function event(runDir: string, slots: string) {
    const mark = join(dir, `mark${n++}`);
    const child = spawn(launcher, ['online', 'type_if=vif'], {
      env: {
        PATH: process.env.PATH ?? '',
        XENPLAN_RUN_DIR: runDir,
        XENPLAN_SLOTS: slots,
        XENPLAN_NODE: fakeNode,
        MARK: mark,
      },
      stdio: 'ignore',
    });
    children.push(child);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    return { child, mark, started: () => existsSync(mark), exited };
  }

  /** Whether the launcher `pid` waits in flock(1), its child. */
  function waiting(pid: number): boolean {
    for (const entry of readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8').trim();
        const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(stat)!;
        if (comm === 'flock' && Number(rest!.split(' ')[1]) === pid) return true;
      } catch {}
    }
    return false;
  }

  /** Whether process `pid` (the event, after exec) holds a slot: an fd on slot.N with its flock. */
  function holdsSlot(pid: number): boolean {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {}
      if (
        /\/slot\.[0-9]+$/.test(target) &&
        /^lock:.*FLOCK/m.test(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))
      )
        return true;
    }
    return false;
  }

  it('with one slot, a second event waits until the first event ends (SIGKILL), then runs', async () => {
    const runDir = join(dir, 'one');
    const first = event(runDir, '1');
    expect(await until(first.started)).toBe(true);
    // Node takes no slot of its own: the launcher holds it for the event. Its deadline counts
    // from when the launcher began to wait (bash's $EPOCHREALTIME).
    const [slots, started] = readFileSync(first.mark, 'utf8').trim().split(' ');
    expect(slots).toBe('off');
    expect(started).toMatch(/^[0-9]+[.,][0-9]{6}$/);
    expect(Number(started!.replace(',', '.')) * 1000).toBeLessThanOrEqual(Date.now());
    expect(holdsSlot(first.child.pid!)).toBe(true);
    const second = event(runDir, '1');
    expect(await until(() => waiting(second.child.pid!))).toBe(true);
    expect(second.started()).toBe(false);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await until(second.started)).toBe(true);
    // It got the slot (had it gone ahead at the end of its budget, it would hold none).
    expect(holdsSlot(second.child.pid!)).toBe(true);
    second.child.kill('SIGKILL');
  });

  it('with two slots, two events run at once: the second finds the free slot', async () => {
    const runDir = join(dir, 'two');
    const first = event(runDir, '2');
    expect(await until(first.started)).toBe(true);
    const second = event(runDir, '2');
    expect(await until(second.started)).toBe(true);
    expect([first, second].map((e) => holdsSlot(e.child.pid!))).toEqual([true, true]);
    const third = event(runDir, '2');
    expect(await until(() => waiting(third.child.pid!))).toBe(true);
    expect(third.started()).toBe(false);
    // It waits on one of the two (one flock(1) per event): both end, it runs with a slot.
    for (const e of [first, second]) e.child.kill('SIGKILL');
    expect(await until(third.started)).toBe(true);
    expect(holdsSlot(third.child.pid!)).toBe(true);
    third.child.kill('SIGKILL');
  });

  it('never waits past its budget (20 s): with the slot held for good, the event goes ahead without it', async () => {
    const runDir = join(dir, 'held');
    const holder = event(runDir, '1');
    expect(await until(holder.started)).toBe(true);
    const late = event(runDir, '1');
    expect(await until(() => waiting(late.child.pid!))).toBe(true);
    expect(await until(late.started, 40_000)).toBe(true);
    expect(holdsSlot(late.child.pid!)).toBe(false);
    expect(holdsSlot(holder.child.pid!)).toBe(true);
    for (const e of [holder, late]) e.child.kill('SIGKILL');
  }, 60_000);

  it('runs the real bundle with the default slots, and nothing but vif events takes one', async () => {
    const runDir = join(dir, 'real');
    const run = (name: string) =>
      new Promise<{ status: number | null; out: string }>((done) => {
        const child = spawn(join(dir, name), ['--version'], {
          env: { PATH: process.env.PATH ?? '', XENPLAN_RUN_DIR: runDir, XENPLAN_CODE_CACHE: 'off' },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
        });
        child.on('close', (status) => done({ status, out }));
      });
    symlinkSync('vif-xenplan', join(dir, 'network-xenplan'));
    expect(await run('network-xenplan')).toEqual({ status: 0, out: '0.1.0\n' });
    expect(existsSync(runDir)).toBe(false);
    expect(await run('vif-xenplan')).toEqual({ status: 0, out: '0.1.0\n' });
    expect(readdirSync(runDir).filter((name) => name.startsWith('slot.')).length).toBeGreaterThanOrEqual(2);
  });
});
