import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireNetns } from '../support/env.ts';
import { dom0WithGateway, type Netns } from '../support/netns.ts';

// The Xen 3.x netloop layout on the host kernel, as network-script builds it by default (no
// dom0-mac=): dom0's veth0 takes eth0's MAC, so the LAN still sees dom0 at the MAC it knew
// (ARP caches, DHCP reservations, port security); eth0, xenbr0 and vif0.0 carry Xen's port MAC.
const can = requireNetns();
const PORT_MAC = 'fe:ff:ff:ff:ff:ff';

describe.runIf(can.ok)('netloop: veth0 takes the NIC MAC, as Xen 3.x did', () => {
  let dom0: Netns;
  let upstream: Netns;
  let nicMac: string;
  const scripts = new Scripts();
  const runDir = mkdtempSync(join(tmpdir(), 'xenplan-run-'));
  const env = { XENPLAN_RUN_DIR: runDir };
  const run = (...args: string[]) => scripts.run('network-script', args, { ns: dom0, env });
  const macOf = (dev: string) => String(dom0.link(dev).address);
  const KEYS = ['netdev=eth0', 'dom0-port=veth0:vif0.0'];

  beforeAll(() => {
    ({ dom0, upstream } = dom0WithGateway('nl'));
    nicMac = macOf('eth0');
  });

  afterAll(() => {
    for (const ns of [dom0, upstream]) ns?.delete();
    scripts.remove();
    rmSync(runDir, { recursive: true, force: true });
  });

  it('the dry-run says where each MAC goes and why', () => {
    const dry = run('start', ...KEYS, '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(
      `# [link] veth0 MAC: want ${nicMac} (eth0's, as Xen 3.x gave dom0's netloop device the NIC's MAC so dom0 keeps its identity on the LAN; dom0-mac= picks another), have `,
    );
    expect(dry.stdout).toContain(
      `# [link] eth0 MAC: want ${PORT_MAC}, as Xen 3.x gave the physical port once veth0 took its MAC ${nicMac}\nip link set dev eth0 address ${PORT_MAC}\n`,
    );
  });

  it('start: dom0 answers on veth0 with the MAC the LAN knew; the ports carry the port MAC', () => {
    const start = run('start', ...KEYS);
    expect(start.stderr.replace(/^network-script: doctor review:[\s\S]*?info\.\n/, '')).toBe('');
    expect(start.status).toBe(0);
    expect([macOf('veth0'), macOf('eth0'), macOf('xenbr0'), macOf('vif0.0')]).toEqual([
      nicMac,
      PORT_MAC,
      PORT_MAC,
      PORT_MAC,
    ]);
    expect(
      dom0
        .json<{ addr_info: { local: string }[] }[]>('address', 'show', 'dev', 'veth0')[0]
        ?.addr_info.map((a) => a.local),
    ).toContain('192.0.2.10');
    // Real traffic: the gateway reaches dom0, and learns it at the NIC's MAC.
    upstream.ip('neigh', 'flush', 'dev', 'up0');
    expect(upstream.ping('192.0.2.10')).toBe(true);
    expect(upstream.ip('neigh', 'show', '192.0.2.10', 'dev', 'up0')).toContain(`lladdr ${nicMac}`);
  });

  it('a second start plans nothing', () => {
    const again = run('start', ...KEYS, '--dry-run');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('# nothing to do: the host already matches (0 steps)');
  });

  it('stop gives eth0 its MAC and address back', () => {
    const stop = run('stop', ...KEYS);
    expect(stop.status).toBe(0);
    expect(dom0.hasLink('veth0')).toBe(false);
    expect(macOf('eth0')).toBe(nicMac);
    expect(dom0.ping('192.0.2.1')).toBe(true);
  });
});
