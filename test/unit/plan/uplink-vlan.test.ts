import { describe, expect, it } from 'vitest';
import type { HostState } from '../../../src/model/host.ts';
import { planNetwork, planNetworkStart } from '../../../src/plan/network.ts';
import { planNetworkStop } from '../../../src/plan/network-stop.ts';
import { bonded, bondState, bridge, host, link, MAC0, route, rows, v4 } from '../../support/host.ts';

/** bond0 of eth0+eth1 in xenbr0, converged; `extra` links beside it. */
function bondedHost(extra: ReturnType<typeof link>[] = []): HostState {
  return host(
    [
      link('eth0', { mac: MAC0, master: 'bond0' }),
      link('eth1', { mac: MAC0, master: 'bond0' }),
      link('bond0', {
        kind: 'bond',
        mac: MAC0,
        master: 'xenbr0',
        bond: bondState('active-backup', {}, 'eth0'),
      }),
      bridge('xenbr0', MAC0),
      ...extra,
    ],
    [v4('xenbr0', '192.0.2.10/24')],
    [route('default', 'xenbr0', { gateway: '192.0.2.1' })],
  );
}

const withVlans = bonded('active-backup', { vlans: [100, 200] });

describe('vlans= on the uplink', () => {
  it('makes bond0.VID and a bridge xenbrVID each, the VLAN device in it, all up; recorded as created', () => {
    const { plan, record } = planNetworkStart(withVlans, bondedHost());
    expect(rows(plan.steps)).toEqual([
      ['vlan:bond0.100:create', 'link', 'ip link add link bond0 name bond0.100 type vlan id 100', false],
      ['link:bond0.100:addrgenmode', 'link', 'ip link set dev bond0.100 addrgenmode none', false],
      [
        'bridge:xenbr100:create',
        'bridge',
        'ip link add name xenbr100 type bridge stp_state 0 forward_delay 0',
        false,
      ],
      ['bridge:xenbr100:mac', 'bridge', `ip link set dev xenbr100 address ${MAC0}`, false],
      ['port:bond0.100:master', 'port', 'ip link set dev bond0.100 master xenbr100', true],
      ['link:bond0.100:up', 'port', 'ip link set dev bond0.100 up', false],
      ['link:xenbr100:up', 'link', 'ip link set dev xenbr100 up', false],
      ['vlan:bond0.200:create', 'link', 'ip link add link bond0 name bond0.200 type vlan id 200', false],
      ['link:bond0.200:addrgenmode', 'link', 'ip link set dev bond0.200 addrgenmode none', false],
      [
        'bridge:xenbr200:create',
        'bridge',
        'ip link add name xenbr200 type bridge stp_state 0 forward_delay 0',
        false,
      ],
      ['bridge:xenbr200:mac', 'bridge', `ip link set dev xenbr200 address ${MAC0}`, false],
      ['port:bond0.200:master', 'port', 'ip link set dev bond0.200 master xenbr200', true],
      ['link:bond0.200:up', 'port', 'ip link set dev bond0.200 up', false],
      ['link:xenbr200:up', 'link', 'ip link set dev xenbr200 up', false],
    ]);
    expect(record.created).toEqual(['bond0.100', 'xenbr100', 'bond0.200', 'xenbr200']);
  });

  it('pins an existing VLAN bridge to the uplink MAC when the kernel chose it, as the main bridge', () => {
    const drifted = bondedHost([
      link('bond0.100', { kind: 'vlan', master: 'xenbr100' }),
      { ...bridge('xenbr100', MAC0), macPinned: false },
      link('bond0.200', { kind: 'vlan', master: 'xenbr200' }),
      bridge('xenbr200', MAC0),
    ]);
    expect(rows(planNetwork(withVlans, drifted).steps)).toEqual([
      ['bridge:xenbr100:mac', 'bridge', `ip link set dev xenbr100 address ${MAC0}`, false],
    ]);
  });

  it('plans nothing when the VLANs and their bridges are there', () => {
    const done = bondedHost([
      link('bond0.100', { kind: 'vlan', master: 'xenbr100' }),
      bridge('xenbr100', MAC0),
      link('bond0.200', { kind: 'vlan', master: 'xenbr200' }),
      bridge('xenbr200', MAC0),
    ]);
    expect(planNetwork(withVlans, done).steps).toEqual([]);
  });

  it('stop deletes the VLAN bridges and devices it made, before the bond', () => {
    const { record } = planNetworkStart(withVlans, bondedHost());
    const done = bondedHost([
      link('bond0.100', { kind: 'vlan', master: 'xenbr100' }),
      bridge('xenbr100', MAC0),
      link('bond0.200', { kind: 'vlan', master: 'xenbr200' }),
      bridge('xenbr200', MAC0),
    ]);
    expect(planNetworkStop(record, done).steps.map((s) => s.argv.join(' '))).toEqual([
      'ip link del dev xenbr200',
      'ip link del dev bond0.200',
      'ip link del dev xenbr100',
      'ip link del dev bond0.100',
    ]);
  });

  it('refuses a name that is taken by another kind of device', () => {
    expect(() => planNetwork(withVlans, bondedHost([link('bond0.100', { kind: 'veth' })]))).toThrow(
      'vlans=100: bond0.100 exists and is a veth, not a VLAN of bond0',
    );
  });
});
