import { describe, expect, it } from 'vitest';
import { reviewNetwork } from '../../../src/doctor/review.ts';
import { projectStart } from '../../../src/plan/project.ts';
import {
  BRIDGE_STATE,
  bonded,
  bondState,
  bridge,
  host,
  link,
  MAC0,
  MAC1,
  route,
  single,
  v4,
  v6,
} from '../../support/host.ts';

const NF = 'net.bridge.bridge-nf-call-iptables';

describe('projectStart', () => {
  it('moves dom0 addresses and routes from the NIC to the bridge, and puts the NIC in the bridge', () => {
    const before = host(
      [link('eth0', { mac: MAC0, noarp: true })],
      [
        v4('eth0', '192.0.2.10/24'),
        v6('eth0', 'fe80::1/64', 'link'),
        v4('eth0', '192.0.2.20/32', { peer: '192.0.2.99' }),
      ],
      [
        route('default', 'eth0', { gateway: '192.0.2.1' }),
        route('192.0.2.0/24', 'eth0', { protocol: 'kernel', scope: 'link' }),
      ],
    );
    const after = projectStart(before, single());
    expect(after.addresses.map((a) => `${a.local}/${a.prefixlen} ${a.dev}`)).toEqual([
      '192.0.2.10/24 xenbr0',
      'fe80::1/64 eth0',
      '192.0.2.20/32 eth0',
    ]);
    expect(after.routes.map((r) => `${r.dst} ${r.dev}`)).toEqual(['default xenbr0', '192.0.2.0/24 eth0']);
    const eth0 = after.links.find((l) => l.name === 'eth0');
    expect(eth0?.master).toBe('xenbr0');
    // What start does not touch stays as observed.
    expect(eth0?.noarp).toBe(true);
    expect(before.links.find((l) => l.name === 'eth0')?.master).toBeUndefined();
  });

  it("sets a live bridge's STP, timers and MAC as the settings say", () => {
    const live = bridge('xenbr0', MAC1, {
      macPinned: false,
      bridge: { ...BRIDGE_STATE, stp: true, forwardDelay: 1500 },
    });
    const after = projectStart(host([link('eth0', { mac: MAC0 }), live]), single());
    const xenbr0 = after.links.find((l) => l.name === 'xenbr0');
    expect(xenbr0?.bridge).toEqual({ stp: false, forwardDelay: 0, helloTime: 200, maxAge: 2000 });
    expect(xenbr0?.mac).toBe(MAC0);
    expect(xenbr0?.macPinned).toBe(true);
  });

  it("sets a live bond's mode, options and slaves as the settings say", () => {
    const before = host([
      link('bond0', { kind: 'bond', mac: MAC0, bond: bondState('balance-rr', { miimon: '0' }) }),
      link('eth0', { mac: MAC0, master: 'bond0' }),
      link('eth1', { mac: MAC1 }),
    ]);
    const after = projectStart(before, bonded('active-backup'));
    const bond0 = after.links.find((l) => l.name === 'bond0');
    expect(bond0?.master).toBe('xenbr0');
    expect(bond0?.bond?.mode).toBe('active-backup');
    expect(bond0?.bond?.miimon).toBe(100);
    expect(bond0?.bond?.options.miimon).toBe('100');
    expect(after.links.find((l) => l.name === 'eth1')?.master).toBe('bond0');
  });

  it('sets the bridge-nf sysctls that exist; keep leaves them', () => {
    const before = host([link('eth0', { mac: MAC0 })], [], [], { [NF]: '1' });
    expect(projectStart(before, single({ bridgeNf: 'off' })).sysctls).toEqual({ [NF]: '0' });
    expect(projectStart(before, single({ bridgeNf: 'keep' })).sysctls).toEqual({ [NF]: '1' });
    expect(projectStart(host([link('eth0')]), single({ bridgeNf: 'on' })).sysctls).toEqual({});
  });

  it('keeps the review from reporting what start is about to fix (IP001), not what it keeps (ARP001)', () => {
    const before = host(
      [link('eth0', { mac: MAC0 }), bridge('xenbr0', MAC0, { noarp: true })],
      [v4('eth0', '192.0.2.10/24')],
      [route('default', 'eth0', { gateway: '192.0.2.1' })],
    );
    const want = single();
    expect(reviewNetwork({ desired: want, observed: before }).map((f) => f.id)).toEqual(['ARP001', 'IP001']);
    expect(reviewNetwork({ desired: want, observed: projectStart(before, want) }).map((f) => f.id)).toEqual([
      'ARP001',
    ]);
  });
});
