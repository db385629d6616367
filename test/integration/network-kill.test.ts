import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireNetns } from '../support/env.ts';
import { cable, Netns } from '../support/netns.ts';

// Defect: a start killed after the address left eth0 (the kernel drops eth0's routes with it)
// re-ran as "already as wanted (0 steps)" with no default and no static route. Here
// network-script is SIGKILLed after every line of its apply batch, of start and of stop, then
// run again; the address and route tables must equal those of an uninterrupted run.
const can = requireNetns();

const REAL_IP = execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim();

/**
 * An `ip` earlier on PATH: the first `ip -batch -` of a run is kept in $XPT_BATCH_LOG; with
 * $XPT_KILL_AFTER=N only its first N lines run, then it SIGKILLs network-script (its parent).
 */
const WRAPPER = `#!/bin/sh
if [ "$1" = -batch ] && [ "$2" = - ] && [ -n "$XPT_BATCH_LOG" ] && [ ! -e "$XPT_BATCH_LOG" ]; then
  cat > "$XPT_BATCH_LOG"
  if [ -n "$XPT_KILL_AFTER" ]; then
    head -n "$XPT_KILL_AFTER" "$XPT_BATCH_LOG" | "$XPT_REAL_IP" -batch -
    kill -9 "$PPID"
    exit 137
  fi
  exec "$XPT_REAL_IP" -batch - < "$XPT_BATCH_LOG"
fi
exec "$XPT_REAL_IP" "$@"
`;

describe.runIf(can.ok)('network-script killed at every line of its batch converges on a rerun', () => {
  const scripts = new Scripts();
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-kill-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'ip'), WRAPPER);
  chmodSync(join(bin, 'ip'), 0o755);
  const made: Netns[] = [];
  let round = 0;

  afterAll(() => {
    for (const ns of made) ns.delete();
    scripts.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh dom0 on eth0 (v4 and v6 addresses, default routes, a static route) and its gateway. */
  function host() {
    for (const ns of made.splice(0)) ns.delete();
    round += 1;
    const dom0 = new Netns('kill-dom0');
    const upstream = new Netns('kill-up');
    made.push(dom0, upstream);
    cable(dom0, 'eth0', upstream, 'up0');
    upstream.ip('address', 'add', '192.0.2.1/24', 'dev', 'up0');
    upstream.ip('address', 'add', '2001:db8::1/64', 'dev', 'up0', 'nodad');
    upstream.ip('link', 'set', 'up0', 'up');
    dom0.ip('address', 'add', '192.0.2.10/24', 'dev', 'eth0');
    dom0.ip('address', 'add', '2001:db8::10/64', 'dev', 'eth0', 'nodad');
    dom0.ip('link', 'set', 'eth0', 'up');
    dom0.ip('route', 'add', 'default', 'via', '192.0.2.1');
    dom0.ip('route', 'add', '198.51.100.0/24', 'via', '192.0.2.1', 'metric', '50');
    dom0.ip('-6', 'route', 'add', 'default', 'via', '2001:db8::1');
    dom0.settle();
    const runDir = join(dir, `run-${round}`);
    const env = { XENPLAN_RUN_DIR: runDir, XENPLAN_LOG_DIR: join(runDir, 'log') };
    const run = (command: 'start' | 'stop', kill?: number) => {
      const batch = join(runDir, `batch-${command}-${kill ?? 'all'}`);
      mkdirSync(runDir, { recursive: true });
      const wrapped: Record<string, string> =
        kill === undefined
          ? {}
          : {
              PATH: `${bin}:${process.env.PATH}`,
              XPT_REAL_IP: REAL_IP,
              XPT_BATCH_LOG: batch,
              XPT_KILL_AFTER: String(kill),
            };
      const args = command === 'start' ? ['start', 'netdev=eth0'] : ['stop'];
      const result = scripts.run('network-script', args, { ns: dom0, env: { ...env, ...wrapped } });
      return { ...result, batch: existsSync(batch) ? readFileSync(batch, 'utf8') : '' };
    };
    return { dom0, run };
  }

  /** dom0's global addresses and every route of every table, but link-local and multicast ones. */
  function tables(dom0: Netns): string {
    dom0.settle();
    const addresses = dom0
      .json<{ ifname: string; addr_info: { local: string; prefixlen: number; scope: string }[] }[]>(
        'address',
        'show',
      )
      .flatMap((l) =>
        l.addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen} ${l.ifname}`),
      );
    const routes = [
      ...dom0.ip('-4', 'route', 'show', 'table', 'all').split('\n'),
      ...dom0.ip('-6', 'route', 'show', 'table', 'all').split('\n'),
    ]
      .map((r) => r.trim())
      .filter((r) => r !== '' && !/fe80:|ff00::\/8|^multicast /.test(r));
    return [...addresses.sort(), ...routes.sort()].join('\n');
  }

  /** Lines of start's and stop's batch, and the tables before start and after an uninterrupted one. */
  function reference() {
    const { dom0, run } = host();
    const original = tables(dom0);
    const started = run('start', Number.MAX_SAFE_INTEGER);
    expect(started.status).toBe(-1);
    const startLines = started.batch.trimEnd().split('\n').length;
    expect(run('start').status).toBe(0);
    const afterStart = tables(dom0);
    const stopped = run('stop', Number.MAX_SAFE_INTEGER);
    expect(stopped.status).toBe(-1);
    const stopLines = stopped.batch.trimEnd().split('\n').length;
    expect(run('stop').status).toBe(0);
    expect(tables(dom0)).toBe(original);
    return { original, afterStart, startLines, stopLines };
  }

  it('start and stop, each killed after every line of its batch, then run again: 0 divergences', () => {
    const ref = reference();
    expect(ref.afterStart).toContain('default via 192.0.2.1 dev xenbr0');
    expect(ref.afterStart).toContain('198.51.100.0/24 via 192.0.2.1 dev xenbr0 metric 50');
    const divergences: string[] = [];
    let kills = 0;
    for (let n = 0; n <= ref.startLines; n += 1) {
      const { dom0, run } = host();
      const killed = run('start', n);
      kills += 1;
      if (killed.status !== -1) divergences.push(`start killed after ${n} line(s): exit ${killed.status}`);
      const again = run('start');
      if (again.status !== 0) divergences.push(`start rerun after a kill at ${n}: ${again.stderr}`);
      const got = tables(dom0);
      if (got !== ref.afterStart) divergences.push(`start killed after ${n} line(s), rerun:\n${got}`);
      const stopped = run('stop');
      if (stopped.status !== 0 || tables(dom0) !== ref.original)
        divergences.push(`stop after a start killed at ${n}: ${stopped.stderr}\n${tables(dom0)}`);
    }
    for (let n = 0; n <= ref.stopLines; n += 1) {
      const { dom0, run } = host();
      if (run('start').status !== 0) divergences.push(`start before a stop killed at ${n} failed`);
      const killed = run('stop', n);
      kills += 1;
      if (killed.status !== -1) divergences.push(`stop killed after ${n} line(s): exit ${killed.status}`);
      const again = run('stop');
      const got = tables(dom0);
      if (again.status !== 0 || got !== ref.original)
        divergences.push(`stop killed after ${n} line(s), rerun (exit ${again.status}):\n${got}`);
    }
    console.log(
      `kill test: start batch ${ref.startLines} lines, stop batch ${ref.stopLines} lines; ${kills} kills, ${divergences.length} divergences`,
    );
    expect(divergences).toEqual([]);
  }, 900_000);
});
