import { describe, expect, it } from 'vitest';
import { vifModeOf } from '../../../src/cli/dispatch.ts';
import type { OvsDesired, OvsState } from '../../../src/model/vif-mode.ts';
import { parseOvs } from '../../../src/observe/ovs.ts';
import { parseOvsBridge, planOvsOffline, planOvsOnline } from '../../../src/plan/ovs-port.ts';

const ids = {
  'xen-vm-name': 'web 1',
  'xen-vm-uuid': '6f0c0ad4-0000-4000-8000-000000000001',
  'attached-mac': '00:16:3e:00:05:00',
};
const want: OvsDesired = { name: 'vif5.0', bridge: 'ovsbr0', tag: 10, trunks: [], externalIds: ids };
const ovs: OvsState = { bridges: ['ovsbr0', 'ovsbr1'] };

describe('parseOvsBridge (Xen vif-openvswitch syntax)', () => {
  it('bridge, access tag, trunks, both', () => {
    expect(parseOvsBridge('ovsbr0', 'xenstore')).toEqual({ bridge: 'ovsbr0', trunks: [] });
    expect(parseOvsBridge('ovsbr0.10', 'xenstore')).toEqual({ bridge: 'ovsbr0', tag: 10, trunks: [] });
    expect(parseOvsBridge('ovsbr0:30:20', 'xenstore')).toEqual({ bridge: 'ovsbr0', trunks: [20, 30] });
    expect(parseOvsBridge('ovsbr0.10:20:30', 'xenstore')).toEqual({
      bridge: 'ovsbr0',
      tag: 10,
      trunks: [20, 30],
    });
  });

  it('refuses what is not the syntax, naming the value and what was expected', () => {
    expect(() => parseOvsBridge('ovsbr0.x', 'xenstore')).toThrow(
      'bridge "ovsbr0.x" (from xenstore) is not an Open vSwitch port spec; expected BRIDGE, BRIDGE.TAG, BRIDGE:TRUNK[:TRUNK...] or BRIDGE.TAG:TRUNK[:TRUNK...]',
    );
    expect(() => parseOvsBridge('ovsbr0.5000', 'xenstore')).toThrow('VLAN 5000 is past 4095');
    expect(() => parseOvsBridge('br;rm', 'xenstore')).toThrow('is not a valid interface name');
  });
});

describe('planOvsOnline', () => {
  it('a new port: one ovs-vsctl transaction (may-exist add-port, tag, trunks, external-ids), then up', () => {
    const up = {
      id: 'vif:vif5.0:up',
      phase: 'vif' as const,
      argv: ['ip', 'link', 'set', 'dev', 'vif5.0', 'up'],
      reason: 'down',
      disruptive: false,
    };
    const plan = planOvsOnline(want, ovs, [up]);
    expect(plan.steps.map((s) => s.argv)).toEqual([
      [
        'ovs-vsctl',
        '--timeout=30',
        '--',
        '--may-exist',
        'add-port',
        'ovsbr0',
        'vif5.0',
        '--',
        'set',
        'port',
        'vif5.0',
        'tag=10',
        '--',
        'clear',
        'port',
        'vif5.0',
        'trunks',
        '--',
        'set',
        'interface',
        'vif5.0',
        'external-ids:"xen-vm-name"="web 1"',
        'external-ids:"xen-vm-uuid"="6f0c0ad4-0000-4000-8000-000000000001"',
        'external-ids:"attached-mac"="00:16:3e:00:05:00"',
      ],
      ['ip', 'link', 'set', 'dev', 'vif5.0', 'up'],
    ]);
  });

  it('a port on another bridge is moved in the same transaction; a trunk port clears its tag', () => {
    const moved = planOvsOnline(
      { ...want, bridge: 'ovsbr1', tag: undefined, trunks: [20, 30] } as OvsDesired,
      { ...ovs, port: { bridge: 'ovsbr0', tag: 10, trunks: [], externalIds: ids } },
      [],
    );
    expect(moved.steps[0]!.argv.slice(0, 22)).toEqual([
      'ovs-vsctl',
      '--timeout=30',
      '--',
      '--if-exists',
      'del-port',
      'ovsbr0',
      'vif5.0',
      '--',
      '--may-exist',
      'add-port',
      'ovsbr1',
      'vif5.0',
      '--',
      'set',
      'port',
      'vif5.0',
      'trunks=20,30',
      '--',
      'clear',
      'port',
      'vif5.0',
      'tag',
    ]);
  });

  it('a converged port plans nothing', () => {
    expect(
      planOvsOnline(want, { ...ovs, port: { bridge: 'ovsbr0', tag: 10, trunks: [], externalIds: ids } }, [])
        .steps,
    ).toEqual([]);
  });

  it('a bridge OVS does not have is a config error listing the ones it has', () => {
    expect(() => planOvsOnline({ ...want, bridge: 'xenbr0' }, ovs, [])).toThrow(
      'Open vSwitch bridge xenbr0 does not exist; OVS bridges here: ovsbr0, ovsbr1',
    );
  });

  it('offline: --if-exists del-port when the port is there, nothing when not', () => {
    expect(
      planOvsOffline('vif5.0', { ...ovs, port: { bridge: 'ovsbr0', trunks: [], externalIds: {} } }).map(
        (s) => s.argv,
      ),
    ).toEqual([['ovs-vsctl', '--timeout=30', '--', '--if-exists', 'del-port', 'ovsbr0', 'vif5.0']]);
    expect(planOvsOffline('vif5.0', ovs)).toEqual([]);
  });
});

describe('parseOvs (ovs-vsctl --format=json)', () => {
  it("reads the port's bridge, tag, trunks and the interface's external-ids", () => {
    const out = [
      '{"data":[[["uuid","aaaa"],"vif5.0",10,["set",[20,30]]]],"headings":["_uuid","name","tag","trunks"]}',
      '{"data":[["vif5.0",["map",[["attached-mac","00:16:3e:00:05:00"],["xen-vm-name","web"]]]]],"headings":["name","external_ids"]}',
      '{"data":[["ovsbr1",["set",[]]],["ovsbr0",["set",[["uuid","bbbb"],["uuid","aaaa"]]]]],"headings":["name","ports"]}',
      '',
    ].join('\n');
    expect(parseOvs(out)).toEqual({
      bridges: ['ovsbr0', 'ovsbr1'],
      port: {
        bridge: 'ovsbr0',
        tag: 10,
        trunks: [20, 30],
        externalIds: { 'attached-mac': '00:16:3e:00:05:00', 'xen-vm-name': 'web' },
      },
    });
  });

  it('a lone trunk and a lone port are atoms, not sets (ovsdb_datum_to_json)', () => {
    const out = [
      '{"data":[[["uuid","aaaa"],"vif5.0",["set",[]],20]],"headings":["_uuid","name","tag","trunks"]}',
      '{"data":[["vif5.0",["map",[]]]],"headings":["name","external_ids"]}',
      '{"data":[["ovsbr0",["uuid","aaaa"]]],"headings":["name","ports"]}',
    ].join('\n');
    expect(parseOvs(out)).toEqual({
      bridges: ['ovsbr0'],
      port: { bridge: 'ovsbr0', trunks: [20], externalIds: {} },
    });
  });

  it('no port: only the bridges (a lone port uuid is not a set)', () => {
    const out = [
      '{"data":[],"headings":["_uuid","name","tag","trunks"]}',
      '{"data":[],"headings":["name","external_ids"]}',
      '{"data":[["ovsbr0",["uuid","cccc"]]],"headings":["name","ports"]}',
    ].join('\n');
    expect(parseOvs(out)).toEqual({ bridges: ['ovsbr0'] });
  });
});

describe('vifModeOf', () => {
  it('picks the mode by the invoked name, as Xen picks a script', () => {
    expect(
      [
        '/etc/xen/scripts/vif-xenplan',
        'vif-xenplan-route',
        'vif-xenplan-nat',
        'vif-xenplan-ovs',
        'vif-xenplan-openvswitch',
        'vif-script',
      ].map(vifModeOf),
    ).toEqual(['bridge', 'route', 'nat', 'ovs', 'ovs', 'bridge']);
  });
});
