import { describe, expect, it } from 'vitest';
import { groupSteps } from '../../../src/apply/apply.ts';
import type { Link } from '../../../src/model/host.ts';
import type { VifDesired } from '../../../src/model/vif.ts';
import { type PortVlan, parseVlanKey } from '../../../src/model/vlan.ts';
import { parsePortVlans, parseVlansByPort } from '../../../src/observe/port-vlan.ts';
import { planPortVlans, vlanWarnings } from '../../../src/plan/port-vlan.ts';
import { planVifOnline } from '../../../src/plan/vif.ts';
import { validateBackend } from '../../../src/xen/backend.ts';
import { link as anyLink, host as hostOf } from '../../support/host.ts';

const v = (vid: number, flags = ''): PortVlan => ({
  vid,
  pvid: flags.includes('p'),
  untagged: flags.includes('u'),
});

describe('parseVlanKey (libxl backend vlan key)', () => {
  it("reads xl-network-configuration(5)'s terms: VID[p|u], ranges, VID+STEPxCOUNT", () => {
    expect(parseVlanKey('10')).toEqual([v(10, 'pu')]);
    expect(parseVlanKey('10p/20')).toEqual([v(10, 'pu'), v(20)]);
    expect(parseVlanKey('20/10p/30-32u')).toEqual([v(10, 'pu'), v(20), v(30, 'u'), v(31, 'u'), v(32, 'u')]);
    // COUNT more entries after the first, each STEP higher.
    expect(parseVlanKey('10p/100+10x2')).toEqual([v(10, 'pu'), v(100), v(110), v(120)]);
  });

  it('refuses what is not the syntax, naming the value and what was expected', () => {
    expect(parseVlanKey('10p/abc')).toBe(
      'vlan "10p/abc": term "abc" is not a VLAN term; expected VLAN terms 1-4094 joined by /, like 10p/20/30-40 or 10p/100+10x4',
    );
    expect(parseVlanKey('10p/4095')).toMatch(/VLAN 4095 is out of range/);
    expect(parseVlanKey('10/20')).toBe(
      'vlan "10/20": no VLAN is marked as the PVID; mark exactly one with p, like 10p/20',
    );
    expect(parseVlanKey('10p/20p')).toMatch(/2 VLANs are marked as the PVID/);
    expect(parseVlanKey('10p/10')).toBe('vlan "10p/10": VLAN 10 is given twice');
    expect(parseVlanKey('10p/40-30')).toMatch(/range 40-30 runs backwards/);
  });

  it('a bad vlan key in xenstore is a config error with the other problems', () => {
    expect(() => validateBackend({ vlan: '10/20', mtu: 'x' })).toThrow(
      /not a valid MTU; .*no VLAN is marked as the PVID/,
    );
    expect(validateBackend({ vlan: '10p/20' }).vlans).toEqual([v(10, 'pu'), v(20)]);
  });
});

describe('planPortVlans', () => {
  const state = { filtering: true, defaultPvid: 1 };
  const rows = (steps: { id: string; argv: readonly string[] }[]) =>
    steps.map((s) => [s.id, s.argv.join(' ')]);

  it('a new port: the PVID, tagged ranges in one step each, then the default PVID removed', () => {
    const want = parseVlanKey('10p/20-22/30u') as PortVlan[];
    expect(rows(planPortVlans('vif5.0', 'xenbr0', want, state, true))).toEqual([
      ['vlan:vif5.0:add:10', 'bridge vlan add dev vif5.0 vid 10 pvid untagged'],
      ['vlan:vif5.0:add:20-22', 'bridge vlan add dev vif5.0 vid 20-22'],
      ['vlan:vif5.0:add:30', 'bridge vlan add dev vif5.0 vid 30 untagged'],
      ['vlan:vif5.0:del:1', 'bridge vlan del dev vif5.0 vid 1'],
    ]);
  });

  it('a converged port plans nothing; a changed flag is one add', () => {
    const want = parseVlanKey('10p/20') as PortVlan[];
    expect(planPortVlans('vif5.0', 'xenbr0', want, { ...state, have: [v(10, 'pu'), v(20)] }, false)).toEqual(
      [],
    );
    expect(
      rows(planPortVlans('vif5.0', 'xenbr0', want, { ...state, have: [v(10, 'pu'), v(20, 'u')] }, false)),
    ).toEqual([['vlan:vif5.0:add:20', 'bridge vlan add dev vif5.0 vid 20']]);
  });

  it('a bridge that does not filter VLANs is a config error saying how to fix it', () => {
    expect(() =>
      planPortVlans('vif5.0', 'xenbr0', [v(10, 'pu')], { filtering: false, defaultPvid: 1 }, true),
    ).toThrow(
      "the vif's vlan key needs bridge xenbr0 to filter VLANs, and it does not; make it VLAN-aware (ip link set dev xenbr0 type bridge vlan_filtering 1) or drop vlan= from the vif config",
    );
  });

  it('planVifOnline puts the VLAN steps after enslaving and before up; they batch as one bridge -batch', () => {
    const bridge: Link = anyLink('xenbr0', { kind: 'bridge', mtu: 1500 });
    const vif: Link = anyLink('vif5.0', { mac: 'fe:ff:ff:ff:ff:ff', up: false });
    const want: VifDesired = {
      kind: 'vif',
      dev: 'vif5.0',
      name: 'vif5.0',
      bridge: 'xenbr0',
      mtu: 1500,
      vlans: [v(10, 'pu'), v(20)],
    };
    const plan = planVifOnline(want, hostOf([bridge, vif]), [], state);
    expect(plan.steps.map((s) => s.id)).toEqual([
      'vif:vif5.0:master',
      'vlan:vif5.0:add:10',
      'vlan:vif5.0:add:20',
      'vlan:vif5.0:del:1',
      'vif:vif5.0:up',
    ]);
    expect(groupSteps(plan.steps).map((g) => g.map((s) => s.argv[0]).join(','))).toEqual([
      'ip',
      'bridge,bridge,bridge',
      'ip',
    ]);
  });
});

describe('parsePortVlans (bridge -j vlan show)', () => {
  it('reads flags and expands ranges', () => {
    const text =
      '[{"ifname":"vif5.0","vlans":[{"vlan":10,"flags":["PVID","Egress Untagged"]},{"vlan":20,"vlanEnd":21}]}]';
    expect(parsePortVlans(text)).toEqual([v(10, 'pu'), v(20), v(21)]);
  });
});

describe('vlanWarnings (a VID on the guest port but on no uplink)', () => {
  it('names the VIDs, what each uplink carries, and the fix', () => {
    const state = { filtering: true, defaultPvid: 1, uplinks: { bond0: [1, 10] } };
    expect(vlanWarnings('vif5.0', 'xenbr0', [v(10, 'pu'), v(20), v(30)], state)).toEqual([
      'VLAN 20, 30 of vif5.0 is on no uplink port of xenbr0 (bond0 carries 1,10): its traffic never leaves dom0; add it there, e.g. bridge vlan add dev bond0 vid 20',
    ]);
    expect(vlanWarnings('vif5.0', 'xenbr0', [v(10, 'pu')], state)).toEqual([]);
    // A bridge with no uplink port (a host-only network) is not a mistake to warn about.
    expect(
      vlanWarnings('vif5.0', 'xenbr0', [v(20, 'pu')], { filtering: true, defaultPvid: 1, uplinks: {} }),
    ).toEqual([]);
  });

  it('parseVlansByPort groups bridge -j vlan show by port', () => {
    const text =
      '[{"ifname":"bond0","vlans":[{"vlan":1,"flags":["PVID","Egress Untagged"]},{"vlan":10}]},{"ifname":"vif5.0","vlans":[{"vlan":10,"flags":["PVID","Egress Untagged"]}]}]';
    expect([...parseVlansByPort(text)]).toEqual([
      ['bond0', [v(1, 'pu'), v(10)]],
      ['vif5.0', [v(10, 'pu')]],
    ]);
  });
});
