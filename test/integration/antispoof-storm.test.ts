import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireCommand, requireNetns } from '../support/env.ts';
import { Netns } from '../support/netns.ts';
import { libxlEnv, XenHost } from '../support/xen.ts';

// A host booting 100 filtered guests at once, then shutting them down: every guest's rules
// exactly once, then none; and a vif-script killed in the middle of an online.
const can = requireNetns();
const tools = can.ok && requireCommand('nft');
const GUESTS = 100;
/** A hundred node processes on a busy 2-core machine: a bound, not a measure. */
const STORM_MS = 600_000;

interface Table {
  chains: Map<string, number>;
  elements: string[];
  baseRules: number;
}

describe.runIf(tools)('antispoofing under a storm of events', () => {
  const scripts = new Scripts();
  const xen = new XenHost();
  let dom0: Netns;

  const env = (domid: number, extra: Record<string, string> = {}) => ({
    ...xen.env(),
    ...libxlEnv(domid, 0),
    ...extra,
  });

  /** The table as nft lists it: rules per guest chain, map elements, base chain rules. */
  function table(): Table {
    const run = dom0.exec(['nft', '-j', 'list', 'table', 'bridge', 'xenplan']);
    const out: Table = { chains: new Map(), elements: [], baseRules: 0 };
    if (run.status !== 0) return out;
    type O = {
      chain?: { name: string };
      rule?: { chain: string };
      map?: { elem?: [string, unknown][] };
    };
    for (const o of (JSON.parse(run.stdout) as { nftables: O[] }).nftables) {
      if (o.chain?.name.startsWith('guest-')) out.chains.set(o.chain.name, 0);
      if (o.rule?.chain === 'prerouting') out.baseRules += 1;
      else if (o.rule) out.chains.set(o.rule.chain, (out.chains.get(o.rule.chain) ?? 0) + 1);
      if (o.map) out.elements.push(...(o.map.elem ?? []).map((e) => e[0]));
    }
    return out;
  }

  function all(command: 'online' | 'offline', domids: number[]) {
    return Promise.all(
      domids.map((d) => scripts.start('vif-script', [command, 'type_if=vif'], { ns: dom0, env: env(d) })),
    );
  }

  beforeAll(async () => {
    await xen.start();
    dom0 = new Netns('as-storm');
    const lines = ['link add xenbr0 type bridge stp_state 0 forward_delay 0', 'link set xenbr0 up'];
    const keys: Record<string, string> = {};
    for (let d = 1; d <= GUESTS + 1; d++) {
      lines.push(`link add vif${d}.0 type veth peer name p${d}`, `link set p${d} up`);
      const base = `backend/vif/${d}/0`;
      keys[`${base}/frontend`] = `/local/domain/${d}/device/vif/0`;
      keys[`${base}/mac`] = `00:16:3e:00:${(d % 256).toString(16).padStart(2, '0')}:00`;
      keys[`${base}/bridge`] = 'xenbr0';
      keys[`${base}/ip`] = `198.51.100.${d}`;
    }
    const batch = dom0.exec(['ip', '-batch', '-'], { input: `${lines.join('\n')}\n` });
    expect(batch.stderr).toBe('');
    xen.write(keys);
  });

  afterAll(async () => {
    dom0?.delete();
    scripts.remove();
    await xen.stop();
  });

  const domids = Array.from({ length: GUESTS }, (_, i) => i + 1);

  it(
    '100 concurrent onlines: 0 failures, every guest filtered exactly once',
    async () => {
      const runs = await all('online', domids);
      expect(runs.filter((r) => r.status !== 0).map((r) => r.stderr)).toEqual([]);
      const t = table();
      expect(t.baseRules).toBe(1);
      expect(t.elements.sort()).toEqual(domids.map((d) => `vif${d}.0`).sort());
      expect([...t.chains.keys()].sort()).toEqual(domids.map((d) => `guest-vif${d}.0`).sort());
      // 12 rules each (mac, vlan, ARP ×2, DHCP server ×2, RA, DHCP client, IPv4, ::, EUI-64, IPv6).
      expect(new Set(t.chains.values())).toEqual(new Set([12]));
      expect(domids.every((d) => xen.read(`backend/vif/${d}/0/hotplug-status`) === 'connected')).toBe(true);
    },
    STORM_MS,
  );

  it(
    '100 concurrent onlines again: still exactly once, nothing changed',
    async () => {
      const runs = await all('online', domids);
      expect(runs.filter((r) => r.status !== 0).map((r) => r.stderr)).toEqual([]);
      const t = table();
      expect(t.chains.size).toBe(GUESTS);
      expect(t.elements.length).toBe(GUESTS);
      expect(new Set(t.chains.values())).toEqual(new Set([12]));
    },
    STORM_MS,
  );

  it(
    '100 concurrent offlines: no rule and no mark left',
    async () => {
      const runs = await all('offline', domids);
      expect(runs.filter((r) => r.status !== 0).map((r) => r.stderr)).toEqual([]);
      const t = table();
      expect(t.chains.size).toBe(0);
      expect(t.elements).toEqual([]);
      expect(readdirSync(join(xen.dir, 'run', 'antispoof'))).toEqual([]);
    },
    STORM_MS,
  );

  describe('SIGKILL during an online', () => {
    const d = GUESTS + 1;
    const fake = join(xen.dir, 'fake-bin');
    const applied = join(xen.dir, 'nft-applied');

    /**
     * An `nft` that runs the real one (after it, or never) then hangs, recording its pid, so
     * the test kills vif-script at a known point: the transaction committed (or not), the mark
     * not yet written.
     */
    function hangingNft(runFirst: boolean): void {
      spawnSync('mkdir', ['-p', fake]);
      const real = spawnSync('sh', ['-c', 'command -v nft'], { encoding: 'utf8' }).stdout.trim();
      const body = runFirst ? `${real} "$@"\n` : 'cat >/dev/null\n';
      writeFileSync(join(fake, 'nft'), `#!/bin/sh\n${body}echo $$ > ${applied}\nexec sleep 60\n`);
      chmodSync(join(fake, 'nft'), 0o755);
      spawnSync('rm', ['-f', applied]);
    }

    async function killedOnline(): Promise<void> {
      const child = spawn(
        'ip',
        ['netns', 'exec', dom0.name, scripts.path('vif-script'), 'online', 'type_if=vif'],
        { env: { ...env(d), PATH: `${fake}:${process.env.PATH ?? ''}` }, stdio: 'ignore' },
      );
      const closed = new Promise((resolve) => child.on('close', resolve));
      const deadline = Date.now() + 20_000;
      while (!existsSync(applied) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
      expect(existsSync(applied)).toBe(true);
      child.kill('SIGKILL');
      await closed;
      const sleeper = Number(readFileSync(applied, 'utf8'));
      if (sleeper > 0) spawnSync('kill', ['-KILL', String(sleeper)]);
    }

    it('after the transaction committed: the next online replaces the rules, exactly once', async () => {
      hangingNft(true);
      await killedOnline();
      expect(table().chains.get(`guest-vif${d}.0`)).toBe(12);
      expect(readFileSync(join(xen.dir, 'run', 'antispoof', `vif${d}.0`), 'utf8')).toBe('pending\n');
      const again = await scripts.start('vif-script', ['online', 'type_if=vif'], { ns: dom0, env: env(d) });
      expect(again.stderr).toBe('');
      expect(again.status).toBe(0);
      const t = table();
      expect(t.chains.get(`guest-vif${d}.0`)).toBe(12);
      expect(t.elements).toEqual([`vif${d}.0`]);
      const dry = scripts.run('vif-script', ['online', 'type_if=vif', '--dry-run', '--json'], {
        ns: dom0,
        env: env(d),
      });
      expect(JSON.parse(dry.stdout).steps).toEqual([]);
    });

    it('before the transaction: nothing half done, and an offline still removes what may be there', async () => {
      expect(
        (await scripts.start('vif-script', ['offline', 'type_if=vif'], { ns: dom0, env: env(d) })).status,
      ).toBe(0);
      hangingNft(false);
      await killedOnline();
      expect(table().chains.has(`guest-vif${d}.0`)).toBe(false);
      const off = await scripts.start('vif-script', ['offline', 'type_if=vif'], { ns: dom0, env: env(d) });
      expect(off.status).toBe(0);
      expect(table().chains.has(`guest-vif${d}.0`)).toBe(false);
      expect(existsSync(join(xen.dir, 'run', 'antispoof', `vif${d}.0`))).toBe(false);
    });
  });
});
