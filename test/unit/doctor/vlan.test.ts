import { describe, expect, it } from 'vitest';
import type { PortVlan } from '../../../src/model/vlan.ts';
import { bridgedBond, host, run } from './host.ts';

const tagged = (...vids: number[]): PortVlan[] => vids.map((vid) => ({ vid, pvid: false, untagged: false }));
const pvid = (vid: number): PortVlan => ({ vid, pvid: true, untagged: true });

/** bond0 (eth0+eth1) with bond0.100 in xenbr100 and a guest port vif1.0 there. */
function vlanBridge(guestMtu: number) {
  return host()
    .bond('bond0', { mode: 'active-backup', miimon: 100 })
    .slave('eth0', 'bond0')
    .slave('eth1', 'bond0')
    .link('bond0.100', { kind: 'vlan', vlan: { id: 100, parent: 'bond0' } })
    .bridge('xenbr100')
    .port('bond0.100', 'xenbr100')
    .port('vif1.0', 'xenbr100', { mtu: guestMtu });
}

/** A VLAN-aware xenbr0 with bond0 carrying uplinkVids and vif1.0 carrying guestVids. */
function filteringBridge(uplinkVids: number[], guestVids: number[], guestMtu = 1500) {
  return bridgedBond('active-backup')
    .bridge('xenbr0', { vlanFiltering: true })
    .port('vif1.0', 'xenbr0', { mtu: guestMtu })
    .with({
      bridgeVlans: {
        xenbr0: [pvid(1)],
        bond0: [pvid(1), ...tagged(...uplinkVids)],
        'vif1.0': [pvid(guestVids[0]!), ...tagged(...guestVids.slice(1))],
      },
    });
}

describe('VLAN001 vlan-mtu', () => {
  it('fires when a guest port on a VLAN bridge has a larger MTU than the VLAN’s real device', () => {
    const [f, ...rest] = run('VLAN001', vlanBridge(9000).input());
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.message).toMatch(/^VLAN 100 \(bond0\.100\): vif1\.0 9000 above bond0 1500; tagged frames /);
    expect(f?.fix).toBe(
      'ip link set vif1.0 mtu 1500 (or raise bond0, slaves first, if the switch takes jumbo frames)',
    );
    expect(f?.objects).toEqual(['vif1.0', 'bond0']);
  });

  it('fires for a tagged guest on a VLAN-aware bridge above the uplink carrying its VID', () => {
    const [f, ...rest] = run('VLAN001', filteringBridge([100], [100], 9000).input());
    expect(rest).toEqual([]);
    expect(f?.message).toMatch(/^the VLANs of xenbr0 that bond0 carries: vif1\.0 9000 above bond0 1500; /);
  });

  it('does not fire at MTU 1500 everywhere: the 802.1Q tag is not part of the MTU', () => {
    // Near miss: a 1500 uplink under tagged traffic is right, not "too small for the tag".
    expect(run('VLAN001', vlanBridge(1500).input())).toEqual([]);
    expect(run('VLAN001', filteringBridge([100], [100]).input())).toEqual([]);
  });

  it('does not fire when the oversized guest is not on a VLAN the uplink carries', () => {
    expect(run('VLAN001', filteringBridge([100], [200], 9000).input())).toEqual([]);
  });
});

describe('VLAN002 vlan-not-on-uplink', () => {
  it('fires when a guest port carries a VID no uplink port has', () => {
    const [f, ...rest] = run('VLAN002', filteringBridge([100], [100, 200]).input());
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.message).toBe(
      'VLAN 200 on vif1.0, but on no uplink port of xenbr0 (bond0): that traffic never leaves dom0',
    );
    expect(f?.fix).toBe('bridge vlan add dev bond0 vid 200');
    expect(f?.objects).toEqual(['xenbr0', 'vif1.0', 'bond0']);
  });

  it('does not fire when the uplink carries every VID of the guest ports', () => {
    expect(run('VLAN002', filteringBridge([100, 200], [100, 200]).input())).toEqual([]);
  });

  it('does not fire on a bridge that does not filter VLANs, or on a host-only bridge', () => {
    const plain = filteringBridge([100], [100, 200]).bridge('xenbr0', { vlanFiltering: false });
    expect(run('VLAN002', plain.input())).toEqual([]);
    const hostOnly = host()
      .bridge('xenbr9', { vlanFiltering: true })
      .port('vif1.0', 'xenbr9')
      .with({ bridgeVlans: { 'vif1.0': tagged(300) } });
    expect(run('VLAN002', hostOnly.input())).toEqual([]);
  });
});
