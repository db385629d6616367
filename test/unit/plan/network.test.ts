import { describe, expect, it } from 'vitest';
import { renderScript } from '../../../src/apply/render.ts';
import { XenplanError } from '../../../src/model/error.ts';
import type { HostState } from '../../../src/model/host.ts';
import { mergeRecords, planNetwork, planNetworkStart } from '../../../src/plan/network.ts';
import { planNetworkStop } from '../../../src/plan/network-stop.ts';
import { planSettingRestores } from '../../../src/plan/setting.ts';
import {
  bonded,
  bondState,
  bridge,
  host,
  link,
  MAC0,
  MAC1,
  route,
  rows,
  single,
  v4,
  v6,
} from '../../support/host.ts';

/** A dom0 with one NIC holding its IPv4 and IPv6 addresses and routes. */
function singleHost(): HostState {
  return host(
    [link('eth0', { mac: MAC0 })],
    [
      v4('eth0', '192.0.2.10/24', { broadcast: '192.0.2.255' }),
      v4('eth0', '192.0.2.11/24'),
      v6('eth0', '2001:db8::10/64'),
      v6('eth0', 'fe80::5054:ff:fe00:a0/64', 'link'),
    ],
    [
      route('default', 'eth0', { gateway: '192.0.2.1', protocol: 'boot', scope: 'global' }),
      route('192.0.2.0/24', 'eth0', { protocol: 'kernel', scope: 'link', prefsrc: '192.0.2.10' }),
      route('198.51.100.0/24', 'eth0', { gateway: '192.0.2.254', metric: 50, protocol: 'static' }),
      { dst: 'default', family: 'inet6', dev: 'eth0', gateway: '2001:db8::1', metric: 1024 },
      { dst: 'fe80::/64', family: 'inet6', dev: 'eth0', protocol: 'kernel', metric: 256 },
      route('192.0.2.10', 'eth0', { table: 'local', type: 'local', protocol: 'kernel' }),
    ],
  );
}

/** The bonded layout after start: bond0 of eth0+eth1 in xenbr0, a guest's vif beside it. */
function bondedDone(mode = 'active-backup'): HostState {
  return host(
    [
      link('eth0', { mac: MAC0, master: 'bond0' }),
      link('eth1', { mac: MAC0, master: 'bond0' }),
      link('bond0', { kind: 'bond', mac: MAC0, master: 'xenbr0', bond: bondState(mode, {}, 'eth0') }),
      bridge('xenbr0', MAC0),
      link('vif3.0', { master: 'xenbr0', mac: 'fe:ff:ff:ff:ff:ff' }),
      link('tap3.0', { master: 'xenbr0', mac: 'fe:ff:ff:ff:ff:ff', up: false }),
    ],
    [v4('xenbr0', '192.0.2.10/24'), v6('xenbr0', 'fe80::5054:ff:fe00:a0/64', 'link')],
    [
      route('default', 'xenbr0', { gateway: '192.0.2.1' }),
      route('192.0.2.0/24', 'xenbr0', { protocol: 'kernel', scope: 'link' }),
    ],
  );
}

describe('planNetworkStart: single NIC', () => {
  it('creates the bridge with the NIC MAC, enslaves, then moves addresses and routes', () => {
    const { plan, record, holder } = planNetworkStart(single(), singleHost());
    expect(holder).toBe('xenbr0');
    expect(rows(plan.steps)).toEqual([
      [
        'bridge:xenbr0:create',
        'bridge',
        'ip link add name xenbr0 type bridge stp_state 0 forward_delay 0',
        false,
      ],
      ['bridge:xenbr0:mac', 'bridge', `ip link set dev xenbr0 address ${MAC0}`, false],
      ['port:eth0:master', 'port', 'ip link set dev eth0 master xenbr0', true],
      ['link:xenbr0:up', 'link', 'ip link set dev xenbr0 up', false],
      [
        'address:xenbr0:192.0.2.10/24',
        'address',
        'ip address add 192.0.2.10/24 broadcast 192.0.2.255 dev xenbr0',
        false,
      ],
      ['address:xenbr0:192.0.2.11/24', 'address', 'ip address add 192.0.2.11/24 dev xenbr0', false],
      ['address:xenbr0:2001:db8::10/64', 'address', 'ip address add 2001:db8::10/64 dev xenbr0', false],
      // Deleted last-first: deleting a primary IPv4 address takes its secondaries with it.
      ['address:eth0:2001:db8::10/64:del', 'address', 'ip address del 2001:db8::10/64 dev eth0', true],
      ['address:eth0:192.0.2.11/24:del', 'address', 'ip address del 192.0.2.11/24 dev eth0', true],
      ['address:eth0:192.0.2.10/24:del', 'address', 'ip address del 192.0.2.10/24 dev eth0', true],
      ['route:inet:main:default:', 'route', 'ip route replace default via 192.0.2.1 dev xenbr0', false],
      [
        'route:inet:main:198.51.100.0/24:50',
        'route',
        'ip route replace 198.51.100.0/24 via 192.0.2.254 dev xenbr0 metric 50 proto static',
        false,
      ],
      [
        'route:inet6:main:default:1024',
        'route',
        'ip route replace ::/0 via 2001:db8::1 dev xenbr0 metric 1024',
        false,
      ],
    ]);
    expect(plan.steps[1]?.reason).toBe(
      `xenbr0 MAC: want ${MAC0} (eth0's, pinned so it never changes as vifs come and go), have none yet`,
    );
    expect(plan.steps[10]?.reason).toBe('default via 192.0.2.1 lived on eth0; re-create it on xenbr0');
    expect(plan.warnings).toEqual([]);
    expect(record).toEqual({
      version: 1,
      bridge: 'xenbr0',
      created: ['xenbr0'],
      enslaved: [{ dev: 'eth0', master: 'xenbr0', up: true }],
      addresses: [
        { from: 'eth0', to: 'xenbr0', cidr: '192.0.2.10/24', family: 'inet', broadcast: '192.0.2.255' },
        { from: 'eth0', to: 'xenbr0', cidr: '192.0.2.11/24', family: 'inet' },
        { from: 'eth0', to: 'xenbr0', cidr: '2001:db8::10/64', family: 'inet6' },
      ],
      routes: [
        { to: 'xenbr0', route: singleHost().routes[0] },
        { to: 'xenbr0', route: singleHost().routes[2] },
        { to: 'xenbr0', route: singleHost().routes[3] },
      ],
      sysctls: [],
      settings: [],
    });
  });

  it('an explicit address list is the whole set: an address already on the bridge but not listed goes', () => {
    const converged = host(
      [link('eth0', { mac: MAC0, master: 'xenbr0' }), bridge('xenbr0', MAC0)],
      [v4('xenbr0', '192.0.2.11/24')],
      [route('default', 'xenbr0', { gateway: '192.0.2.1' })],
    );
    const { plan, record } = planNetworkStart(single({ addresses: ['192.0.2.12/24'] }), converged);
    expect(plan.steps.map((s) => [s.id, s.argv.join(' '), s.reason])).toEqual([
      [
        'address:xenbr0:192.0.2.12/24',
        'ip address add 192.0.2.12/24 dev xenbr0',
        '192.0.2.12/24 belongs on xenbr0 (given by address=)',
      ],
      [
        'address:xenbr0:192.0.2.11/24:del',
        'ip address del 192.0.2.11/24 dev xenbr0',
        "192.0.2.11/24 leaves xenbr0: not among dom0's addresses (address= lists the whole set)",
      ],
    ]);
    // stop puts it back.
    expect(record.addresses).toContainEqual({
      from: 'xenbr0',
      to: 'xenbr0',
      cidr: '192.0.2.11/24',
      family: 'inet',
    });
    // The same list again: nothing to do.
    const after = host(
      [link('eth0', { mac: MAC0, master: 'xenbr0' }), bridge('xenbr0', MAC0)],
      [v4('xenbr0', '192.0.2.12/24')],
      [route('default', 'xenbr0', { gateway: '192.0.2.1' })],
    );
    expect(planNetworkStart(single({ addresses: ['192.0.2.12/24'] }), after).plan.steps).toEqual([]);
  });

  it('step reasons name where the addresses come from (IPADDR in an ifcfg file, not address=)', () => {
    const { plan } = planNetworkStart(
      single({ addresses: ['192.0.2.12/24'], addressesFrom: 'IPADDR in ifcfg-xenbr0' }),
      host([link('eth0', { mac: MAC0, master: 'xenbr0' }), bridge('xenbr0', MAC0)]),
    );
    expect(plan.steps.map((s) => s.reason)).toEqual([
      '192.0.2.12/24 belongs on xenbr0 (given by IPADDR in ifcfg-xenbr0)',
    ]);
  });

  it('explicit address= and gateway= are put on the bridge; the NIC keeps none', () => {
    const { plan } = planNetworkStart(
      single({ addresses: ['198.51.100.7/24'], gateway: '198.51.100.1', bridgeNf: 'off' }),
      host(
        [link('eth0', { mac: MAC0 }), bridge('xenbr0', MAC0, { master: undefined })],
        [v4('eth0', '192.0.2.10/24')],
        [],
        { 'net.bridge.bridge-nf-call-iptables': '1', 'net.bridge.bridge-nf-call-ip6tables': '0' },
      ),
    );
    expect(rows(plan.steps)).toEqual([
      ['port:eth0:master', 'port', 'ip link set dev eth0 master xenbr0', true],
      ['address:xenbr0:198.51.100.7/24', 'address', 'ip address add 198.51.100.7/24 dev xenbr0', false],
      ['address:eth0:192.0.2.10/24:del', 'address', 'ip address del 192.0.2.10/24 dev eth0', true],
      ['route:inet:main:default:', 'route', 'ip route replace default via 198.51.100.1 dev xenbr0', false],
      [
        'sysctl:net.bridge.bridge-nf-call-iptables',
        'sysctl',
        'sysctl -q -w net.bridge.bridge-nf-call-iptables=0',
        false,
      ],
    ]);
    expect(plan.warnings).toEqual([
      'net.bridge.bridge-nf-call-arptables does not exist (br_netfilter is not loaded); bridge-nf=off has nothing to set',
    ]);
  });

  it('refuses a NIC that does not exist, naming it, before planning anything', () => {
    expect(() => planNetworkStart(single({ uplink: 'eth7' }), singleHost())).toThrow(
      new XenplanError('config', 'netdev=eth7: eth7 does not exist; expected the NIC to put in xenbr0'),
    );
  });
});

describe('planNetworkStart: bonded', () => {
  function bareHost(): HostState {
    return host(
      [link('eth0', { mac: MAC0 }), link('eth1', { mac: MAC1, up: false, carrier: false })],
      [v4('eth0', '192.0.2.10/24'), v6('eth0', '2001:db8::10/64')],
      [route('default', 'eth0', { gateway: '192.0.2.1' })],
    );
  }

  it('creates the bond down with its mode first, slaves down then in, bridge with the bond MAC, then addresses', () => {
    const { plan, record } = planNetworkStart(
      bonded('active-backup', {
        bond: {
          name: 'bond0',
          slaves: ['eth0', 'eth1'],
          mode: 'active-backup',
          options: { miimon: '100', fail_over_mac: 'active', primary: 'eth0', peer_notif_delay: '200' },
        },
      }),
      bareHost(),
    );
    expect(rows(plan.steps)).toEqual([
      [
        'bond:bond0:create',
        'bond',
        'ip link add name bond0 type bond mode active-backup miimon 100 fail_over_mac active peer_notify_delay 200',
        false,
      ],
      // A port of xenbr0 with its MAC: no link-local of its own to collide with the bridge's.
      ['link:bond0:addrgenmode', 'bond', 'ip link set dev bond0 addrgenmode none', false],
      ['slave:eth0:down', 'slave', 'ip link set dev eth0 down', true],
      ['slave:eth0:master', 'slave', 'ip link set dev eth0 master bond0', true],
      ['slave:eth1:master', 'slave', 'ip link set dev eth1 master bond0', true],
      ['bond:bond0:primary', 'bond', 'ip link set dev bond0 type bond primary eth0', false],
      [
        'bridge:xenbr0:create',
        'bridge',
        'ip link add name xenbr0 type bridge stp_state 0 forward_delay 0',
        false,
      ],
      ['bridge:xenbr0:mac', 'bridge', `ip link set dev xenbr0 address ${MAC0}`, false],
      ['port:bond0:master', 'port', 'ip link set dev bond0 master xenbr0', true],
      ['link:bond0:up', 'link', 'ip link set dev bond0 up', false],
      ['link:xenbr0:up', 'link', 'ip link set dev xenbr0 up', false],
      ['address:xenbr0:192.0.2.10/24', 'address', 'ip address add 192.0.2.10/24 dev xenbr0', false],
      ['address:xenbr0:2001:db8::10/64', 'address', 'ip address add 2001:db8::10/64 dev xenbr0', false],
      // eth0's IPv6 address went when eth0 went down: only the IPv4 one is deleted.
      ['address:eth0:192.0.2.10/24:del', 'address', 'ip address del 192.0.2.10/24 dev eth0', true],
      ['route:inet:main:default:', 'route', 'ip route replace default via 192.0.2.1 dev xenbr0', false],
    ]);
    expect(record.created).toEqual(['bond0', 'xenbr0']);
    expect(record.enslaved).toEqual([
      { dev: 'eth0', master: 'bond0', up: true },
      { dev: 'eth1', master: 'bond0', up: false },
      { dev: 'bond0', master: 'xenbr0', up: false },
    ]);
  });

  it('plans nothing on a converged host, and leaves vif and tap ports alone', () => {
    const plan = planNetwork(bonded(), bondedDone());
    expect(plan.steps).toEqual([]);
    expect(plan.warnings).toEqual([]);
    expect(renderScript(plan, { title: 't' })).toContain(
      '# nothing to do: the host already matches (0 steps)\n',
    );
  });

  it('plans nothing on a converged single-NIC host', () => {
    const done = host(
      [
        link('eth0', { mac: MAC0, master: 'xenbr0' }),
        bridge('xenbr0', MAC0),
        link('vif1.0', { master: 'xenbr0' }),
      ],
      [v4('xenbr0', '192.0.2.10/24')],
      [route('default', 'xenbr0', { gateway: '192.0.2.1' })],
    );
    expect(planNetwork(single(), done).steps).toEqual([]);
  });

  it('finishes a start that was interrupted half way', () => {
    const half = host(
      [
        link('eth0', { mac: MAC0, master: 'bond0' }),
        link('eth1', { mac: MAC1 }),
        link('bond0', { kind: 'bond', mac: MAC0, bond: bondState('active-backup', {}, 'eth0'), up: false }),
        bridge('xenbr0', '52:54:00:00:00:ff', { macPinned: false, up: false }),
      ],
      // The address reached the bridge but was not yet deleted from eth0; the default route went with eth0's down.
      [v4('eth0', '192.0.2.10/24'), v4('xenbr0', '192.0.2.10/24')],
      [route('192.0.2.0/24', 'xenbr0', { protocol: 'kernel', scope: 'link' })],
    );
    const { plan } = planNetworkStart(bonded('active-backup', { gateway: '192.0.2.1' }), half);
    expect(rows(plan.steps)).toEqual([
      ['slave:eth1:down', 'slave', 'ip link set dev eth1 down', true],
      ['slave:eth1:master', 'slave', 'ip link set dev eth1 master bond0', true],
      ['bridge:xenbr0:mac', 'bridge', `ip link set dev xenbr0 address ${MAC0}`, false],
      ['port:bond0:master', 'port', 'ip link set dev bond0 master xenbr0', true],
      ['link:bond0:up', 'link', 'ip link set dev bond0 up', false],
      ['link:xenbr0:up', 'link', 'ip link set dev xenbr0 up', false],
      ['address:eth0:192.0.2.10/24:del', 'address', 'ip address del 192.0.2.10/24 dev eth0', true],
      ['route:inet:main:default:', 'route', 'ip route replace default via 192.0.2.1 dev xenbr0', false],
    ]);
  });

  it('fixes a wrong bond mode: down, slaves out, mode, slaves back, up; marked disruptive in the dry-run', () => {
    const { plan, record } = planNetworkStart(bonded(), bondedDone('balance-rr'));
    expect(rows(plan.steps)).toEqual([
      ['bond:bond0:down', 'bond', 'ip link set dev bond0 down', true],
      ['slave:eth0:release', 'slave', 'ip link set dev eth0 nomaster', true],
      ['slave:eth1:release', 'slave', 'ip link set dev eth1 nomaster', true],
      ['bond:bond0:options', 'bond', 'ip link set dev bond0 type bond mode active-backup', true],
      ['slave:eth0:master', 'slave', 'ip link set dev eth0 master bond0', true],
      ['slave:eth1:master', 'slave', 'ip link set dev eth1 master bond0', true],
      ['link:bond0:up', 'link', 'ip link set dev bond0 up', false],
    ]);
    expect(plan.steps[0]?.reason).toBe(
      'bond0 mode: want active-backup, have balance-rr: the kernel changes this only while bond0 is down; traffic through it stops until it is up again',
    );
    const script = renderScript(plan, { title: 'network-script start' });
    expect(script).toContain(
      '# [bond] bond0 mode: want active-backup, have balance-rr: the kernel changes this only while bond0 is down; traffic through it stops until it is up again (interrupts traffic)\nip link set dev bond0 down\n',
    );
    expect(script).toContain(
      '# [slave] eth0 leaves bond0 for a moment: the kernel changes mode only on a bond without slaves (interrupts traffic)\n',
    );
    // Nothing was created or moved; the mode it had is what stop puts back.
    expect(record).toEqual({
      version: 1,
      bridge: 'xenbr0',
      created: [],
      enslaved: [],
      addresses: [],
      routes: [],
      sysctls: [],
      settings: [{ dev: 'bond0', kind: 'bond-option', name: 'mode', before: 'balance-rr' }],
    });
  });

  it('changes an option the kernel takes live without taking the bond down', () => {
    const plan = planNetwork(
      bonded('active-backup', {
        bond: { name: 'bond0', slaves: ['eth0', 'eth1'], mode: 'active-backup', options: { miimon: '200' } },
      }),
      bondedDone(),
    );
    expect(rows(plan.steps)).toEqual([
      ['bond:bond0:options', 'bond', 'ip link set dev bond0 type bond miimon 200', false],
    ]);
  });

  it('refuses a slave that does not exist, naming the key and the value', () => {
    const want = bonded('active-backup', {
      bond: { name: 'bond0', slaves: ['eth0', 'eth9'], mode: 'active-backup', options: {} },
    });
    expect(() => planNetworkStart(want, bareHost())).toThrow(
      'slaves=eth0,eth9: eth9 does not exist; expected existing NICs to put in bond0',
    );
  });
});

describe('planNetworkStart: netloop', () => {
  it('puts vif0.0 in the bridge and dom0 addresses and routes on veth0', () => {
    const pre = host(
      [
        link('eth0', { mac: MAC0 }),
        link('veth0', { kind: 'veth', peer: 'vif0.0', mac: '52:54:00:00:00:b0', up: false }),
        link('vif0.0', { kind: 'veth', peer: 'veth0', up: false }),
      ],
      [v4('eth0', '192.0.2.10/24')],
      [route('default', 'eth0', { gateway: '192.0.2.1' })],
    );
    const want = single({
      dom0: { kind: 'netloop', veth: 'veth0', vif: 'vif0.0', mac: '52:54:00:00:00:c0' },
    });
    const { plan, holder } = planNetworkStart(want, pre);
    expect(holder).toBe('veth0');
    expect(rows(plan.steps)).toEqual([
      [
        'bridge:xenbr0:create',
        'bridge',
        'ip link add name xenbr0 type bridge stp_state 0 forward_delay 0',
        false,
      ],
      ['bridge:xenbr0:mac', 'bridge', `ip link set dev xenbr0 address ${MAC0}`, false],
      ['bridge:xenbr0:arp', 'bridge', 'ip link set dev xenbr0 arp off', false],
      ['port:eth0:master', 'port', 'ip link set dev eth0 master xenbr0', true],
      ['link:veth0:mac', 'link', 'ip link set dev veth0 address 52:54:00:00:00:c0', false],
      ['link:vif0.0:mac', 'link', 'ip link set dev vif0.0 address fe:ff:ff:ff:ff:ff', false],
      ['port:vif0.0:master', 'port', 'ip link set dev vif0.0 master xenbr0', false],
      ['link:xenbr0:up', 'link', 'ip link set dev xenbr0 up', false],
      ['link:vif0.0:up', 'link', 'ip link set dev vif0.0 up', false],
      ['link:veth0:up', 'link', 'ip link set dev veth0 up', false],
      ['address:veth0:192.0.2.10/24', 'address', 'ip address add 192.0.2.10/24 dev veth0', false],
      ['address:eth0:192.0.2.10/24:del', 'address', 'ip address del 192.0.2.10/24 dev eth0', true],
      ['route:inet:main:default:', 'route', 'ip route replace default via 192.0.2.1 dev veth0', false],
    ]);
  });

  it('creates the veth pair when neither end exists, and refuses half a pair', () => {
    const want = single({ dom0: { kind: 'netloop', veth: 'veth0', vif: 'vif0.0' } });
    const plan = planNetwork(want, host([link('eth0', { mac: MAC0 })]));
    expect(rows(plan.steps).filter(([id]) => String(id).startsWith('link:veth0'))).toEqual([
      ['link:veth0:create', 'link', 'ip link add name veth0 type veth peer name vif0.0', false],
      ['link:veth0:mac', 'link', `ip link set dev veth0 address ${MAC0}`, false],
      ['link:veth0:up', 'link', 'ip link set dev veth0 up', false],
    ]);
    // vif0.0 is the bridge port: no link-local; veth0 keeps IPv6 (it holds dom0's addresses).
    expect(rows(plan.steps).filter(([id]) => String(id).endsWith(':addrgenmode'))).toEqual([
      ['link:vif0.0:addrgenmode', 'link', 'ip link set dev vif0.0 addrgenmode none', false],
    ]);
    expect(() => planNetwork(want, host([link('eth0'), link('veth0', { kind: 'veth' })]))).toThrow(
      'dom0-port=veth0:vif0.0: vif0.0 does not exist but veth0 does; expected both ends of a veth pair, or neither',
    );
  });
});

describe('planNetworkStart: netloop MACs as Xen 3.x set them', () => {
  const want = single({ dom0: { kind: 'netloop', veth: 'veth0', vif: 'vif0.0' } });
  const PORT = 'fe:ff:ff:ff:ff:ff';

  it("without dom0-mac=, veth0 takes the NIC's MAC; the NIC, the bridge and vif0.0 carry fe:ff:ff:ff:ff:ff", () => {
    const pre = host(
      [
        link('eth0', { mac: MAC0 }),
        link('veth0', { kind: 'veth', peer: 'vif0.0', mac: '52:54:00:00:00:b0', up: false }),
        link('vif0.0', { kind: 'veth', peer: 'veth0', up: false }),
      ],
      [v4('eth0', '192.0.2.10/24')],
      [route('default', 'eth0', { gateway: '192.0.2.1' })],
    );
    const { plan } = planNetworkStart(want, pre);
    expect(
      plan.steps.filter((s) => s.id.endsWith(':mac')).map((s) => [s.id, s.argv.join(' '), s.reason]),
    ).toEqual([
      [
        'bridge:xenbr0:mac',
        `ip link set dev xenbr0 address ${PORT}`,
        `xenbr0 MAC: want ${PORT} (Xen's port MAC: eth0's MAC belongs to dom0's netloop device), have none yet`,
      ],
      [
        'link:veth0:mac',
        `ip link set dev veth0 address ${MAC0}`,
        `veth0 MAC: want ${MAC0} (eth0's, as Xen 3.x gave dom0's netloop device the NIC's MAC so dom0 keeps its identity on the LAN; dom0-mac= picks another), have 52:54:00:00:00:b0`,
      ],
      [
        'link:eth0:mac',
        `ip link set dev eth0 address ${PORT}`,
        `eth0 MAC: want ${PORT}, as Xen 3.x gave the physical port once veth0 took its MAC ${MAC0}`,
      ],
      [
        'link:vif0.0:mac',
        `ip link set dev vif0.0 address ${PORT}`,
        expect.stringContaining('vif0.0 MAC: want'),
      ],
    ]);
    // veth0 has its MAC before eth0 gives it up: an interrupted run loses nothing.
    const ids = plan.steps.map((s) => s.id);
    expect(ids.indexOf('link:veth0:mac')).toBeLessThan(ids.indexOf('link:eth0:mac'));
  });

  it('plans nothing once converged, and after an interruption between the two MAC steps only the rest', () => {
    const done = host(
      [
        link('eth0', { mac: PORT, master: 'xenbr0' }),
        bridge('xenbr0', PORT, { noarp: true }),
        link('veth0', { kind: 'veth', peer: 'vif0.0', mac: MAC0 }),
        link('vif0.0', { kind: 'veth', peer: 'veth0', mac: PORT, master: 'xenbr0' }),
      ],
      [v4('veth0', '192.0.2.10/24')],
      [route('default', 'veth0', { gateway: '192.0.2.1' })],
    );
    expect(planNetworkStart(want, done).plan.steps).toEqual([]);
    const half = host(
      [
        link('eth0', { mac: MAC0, master: 'xenbr0' }),
        bridge('xenbr0', PORT, { noarp: true }),
        link('veth0', { kind: 'veth', peer: 'vif0.0', mac: MAC0 }),
        link('vif0.0', { kind: 'veth', peer: 'veth0', mac: PORT, master: 'xenbr0' }),
      ],
      [v4('veth0', '192.0.2.10/24')],
      [route('default', 'veth0', { gateway: '192.0.2.1' })],
    );
    expect(planNetworkStart(want, half).plan.steps.map((s) => s.id)).toEqual(['link:eth0:mac']);
  });

  it("turns ARP off on the bridge, so it never answers for veth0's addresses; stop turns it back on", () => {
    const pre = host([link('eth0', { mac: MAC0, master: 'xenbr0' }), bridge('xenbr0', MAC0)]);
    const { plan, record } = planNetworkStart(want, pre);
    expect(
      plan.steps.filter((s) => s.id === 'bridge:xenbr0:arp').map((s) => [s.argv.join(' '), s.reason]),
    ).toEqual([
      [
        'ip link set dev xenbr0 arp off',
        "xenbr0 ARP: want off, have on: dom0's addresses live on veth0, and xenbr0 would answer ARP for them with its own MAC (Xen 3.x's create_bridge did the same)",
      ],
    ]);
    expect(record.settings).toContainEqual({ dev: 'xenbr0', kind: 'arp', before: 'on' });
  });

  it('with dom0-mac=, veth0 gets it and the NIC keeps its MAC, as before', () => {
    const { plan } = planNetworkStart(
      single({ dom0: { kind: 'netloop', veth: 'veth0', vif: 'vif0.0', mac: '52:54:00:00:00:c0' } }),
      host([link('eth0', { mac: MAC0 })]),
    );
    expect(plan.steps.filter((s) => s.id.endsWith(':mac')).map((s) => s.argv.join(' '))).toEqual([
      `ip link set dev xenbr0 address ${MAC0}`,
      'ip link set dev veth0 address 52:54:00:00:00:c0',
      `ip link set dev vif0.0 address ${PORT}`,
    ]);
  });
});

describe('planNetworkStop', () => {
  it('undoes a bonded start: bridge and bond deleted, eth0 up again with its address and route', () => {
    const before = host(
      [link('eth0', { mac: MAC0 }), link('eth1', { mac: MAC1, up: false })],
      [v4('eth0', '192.0.2.10/24')],
      [route('default', 'eth0', { gateway: '192.0.2.1' })],
    );
    const { record } = planNetworkStart(bonded(), before);
    const plan = planNetworkStop(record, bondedDone());
    expect(rows(plan.steps)).toEqual([
      ['link:xenbr0:delete', 'link', 'ip link del dev xenbr0', true],
      ['link:bond0:delete', 'link', 'ip link del dev bond0', true],
      ['link:eth0:up', 'link', 'ip link set dev eth0 up', false],
      ['address:eth0:192.0.2.10/24', 'address', 'ip address add 192.0.2.10/24 dev eth0', false],
      ['route:inet:main:default:', 'route', 'ip route replace default via 192.0.2.1 dev eth0', false],
    ]);
    // Once undone, a second stop plans nothing.
    expect(planNetworkStop(record, before).steps).toEqual([]);
  });

  it('releases the NIC from a bridge it did not create and takes the addresses off it', () => {
    const pre = host(
      [link('eth0', { mac: MAC0 }), bridge('xenbr0', MAC0)],
      [v4('eth0', '192.0.2.10/24')],
      [],
      { 'net.bridge.bridge-nf-call-iptables': '1' },
    );
    const { record } = planNetworkStart(single({ bridgeNf: 'off' }), pre);
    const post = host(
      [link('eth0', { mac: MAC0, master: 'xenbr0' }), bridge('xenbr0', MAC0)],
      [v4('xenbr0', '192.0.2.10/24')],
      [],
      { 'net.bridge.bridge-nf-call-iptables': '0' },
    );
    expect(rows(planNetworkStop(record, post).steps)).toEqual([
      ['port:eth0:release', 'port', 'ip link set dev eth0 nomaster', true],
      ['address:eth0:192.0.2.10/24', 'address', 'ip address add 192.0.2.10/24 dev eth0', false],
      ['address:xenbr0:192.0.2.10/24:del', 'address', 'ip address del 192.0.2.10/24 dev xenbr0', true],
      [
        'sysctl:net.bridge.bridge-nf-call-iptables',
        'sysctl',
        'sysctl -q -w net.bridge.bridge-nf-call-iptables=1',
        false,
      ],
    ]);
  });

  it('mergeRecords keeps what an earlier, interrupted run recorded', () => {
    const first = planNetworkStart(single(), singleHost()).record;
    const second = { ...first, created: [], enslaved: [], addresses: first.addresses.slice(2) };
    const merged = mergeRecords(first, second);
    expect(merged.created).toEqual(['xenbr0']);
    expect(merged.addresses).toEqual(first.addresses);
    expect(mergeRecords(undefined, second)).toBe(second);
  });
});

describe('settings start changed on devices it did not create', () => {
  /** bond0 (balance-rr) of eth0+eth1 in xenbr0 with a 15 s forward delay, all made by someone else. */
  function preHost(): HostState {
    const done = bondedDone('balance-rr');
    return {
      ...done,
      links: done.links.map((l) =>
        l.name === 'xenbr0' && l.bridge ? { ...l, bridge: { ...l.bridge, forwardDelay: 1500 } } : l,
      ),
    };
  }

  it('start records the bond mode and forward delay it changes, with the values before', () => {
    const { plan, record } = planNetworkStart(bonded(), preHost());
    expect(rows(plan.steps)).toEqual([
      ['bond:bond0:down', 'bond', 'ip link set dev bond0 down', true],
      ['slave:eth0:release', 'slave', 'ip link set dev eth0 nomaster', true],
      ['slave:eth1:release', 'slave', 'ip link set dev eth1 nomaster', true],
      ['bond:bond0:options', 'bond', 'ip link set dev bond0 type bond mode active-backup', true],
      ['slave:eth0:master', 'slave', 'ip link set dev eth0 master bond0', true],
      ['slave:eth1:master', 'slave', 'ip link set dev eth1 master bond0', true],
      ['bridge:xenbr0:options', 'bridge', 'ip link set dev xenbr0 type bridge forward_delay 0', false],
      ['link:bond0:up', 'link', 'ip link set dev bond0 up', false],
    ]);
    expect(record).toEqual({
      version: 1,
      bridge: 'xenbr0',
      created: [],
      enslaved: [],
      addresses: [],
      routes: [],
      sysctls: [],
      settings: [
        { dev: 'bond0', kind: 'bond-option', name: 'mode', before: 'balance-rr' },
        { dev: 'xenbr0', kind: 'bridge-option', name: 'forward_delay', before: '1500' },
      ],
    });
  });

  it('stop puts balance-rr back with the bond down and empty, then the 15 s forward delay', () => {
    const { record } = planNetworkStart(bonded(), preHost());
    const plan = planNetworkStop(record, bondedDone('active-backup'));
    expect(rows(plan.steps)).toEqual([
      ['bond:bond0:down', 'bond', 'ip link set dev bond0 down', true],
      ['slave:eth0:release', 'slave', 'ip link set dev eth0 nomaster', true],
      ['slave:eth1:release', 'slave', 'ip link set dev eth1 nomaster', true],
      ['bond:bond0:options', 'bond', 'ip link set dev bond0 type bond mode balance-rr', true],
      ['slave:eth0:master', 'slave', 'ip link set dev eth0 master bond0', true],
      ['slave:eth1:master', 'slave', 'ip link set dev eth1 master bond0', true],
      ['link:bond0:up', 'link', 'ip link set dev bond0 up', false],
      ['bridge:xenbr0:options', 'bridge', 'ip link set dev xenbr0 type bridge forward_delay 1500', false],
    ]);
    expect(plan.steps[3]?.reason).toBe('bond0 mode: want balance-rr, have active-backup (as before start)');
    expect(plan.steps[7]?.reason).toBe('xenbr0 forward delay back to 15s (have 0s)');
    expect(plan.warnings).toEqual([]);
    expect(renderScript(plan, { title: 'network-script stop' })).toContain(
      '# [bond] bond0 mode: want balance-rr, have active-backup: the kernel changes this only while bond0 is down; traffic through it stops until it is up again (interrupts traffic)\nip link set dev bond0 down\n',
    );
    // Once put back, a second stop plans nothing; the bond and bridge it did not create stay.
    expect(planNetworkStop(record, preHost()).steps).toEqual([]);
  });

  it('mergeRecords keeps the oldest value before: a second start does not overwrite it', () => {
    const first = planNetworkStart(bonded(), preHost()).record;
    // Someone set balance-xor and a 4 s forward delay after the first start; a second start fixes both.
    const drifted = preHost();
    const second = planNetworkStart(bonded(), {
      ...drifted,
      links: drifted.links.map((l) => {
        if (l.name === 'bond0') return { ...l, bond: bondState('balance-xor', {}, 'eth0') };
        if (l.name === 'xenbr0' && l.bridge) return { ...l, bridge: { ...l.bridge, forwardDelay: 400 } };
        return l;
      }),
    }).record;
    expect(second.settings).toEqual([
      { dev: 'bond0', kind: 'bond-option', name: 'mode', before: 'balance-xor' },
      { dev: 'xenbr0', kind: 'bridge-option', name: 'forward_delay', before: '400' },
    ]);
    const extra = {
      ...second,
      settings: [...second.settings, { dev: 'eth0', kind: 'mtu' as const, before: '1500' }],
    };
    expect(mergeRecords(first, extra).settings).toEqual([
      { dev: 'bond0', kind: 'bond-option', name: 'mode', before: 'balance-rr' },
      { dev: 'xenbr0', kind: 'bridge-option', name: 'forward_delay', before: '1500' },
      { dev: 'eth0', kind: 'mtu', before: '1500' },
    ]);
  });

  it('records and puts back the uplink MTU, the bridge STP, timers and MTU, and the MAC it pinned', () => {
    const OLD = '52:54:00:00:00:ff';
    const pre = host([
      link('eth0', { mac: MAC0 }),
      bridge('xenbr0', OLD, { bridge: { stp: true, forwardDelay: 1500, helloTime: 200, maxAge: 2000 } }),
    ]);
    const want = single({ bridge: { name: 'xenbr0', stp: false, forwardDelay: 0, mtu: 9000 } });
    const { plan, record } = planNetworkStart(want, pre);
    expect(rows(plan.steps)).toEqual([
      ['link:eth0:mtu', 'link', 'ip link set dev eth0 mtu 9000', false],
      [
        'bridge:xenbr0:options',
        'bridge',
        'ip link set dev xenbr0 type bridge stp_state 0 forward_delay 0',
        false,
      ],
      ['bridge:xenbr0:mtu', 'bridge', 'ip link set dev xenbr0 mtu 9000', false],
      ['bridge:xenbr0:mac', 'bridge', `ip link set dev xenbr0 address ${MAC0}`, false],
      ['port:eth0:master', 'port', 'ip link set dev eth0 master xenbr0', true],
    ]);
    expect(record.settings).toEqual([
      { dev: 'eth0', kind: 'mtu', before: '1500' },
      { dev: 'xenbr0', kind: 'bridge-option', name: 'stp_state', before: '1' },
      { dev: 'xenbr0', kind: 'bridge-option', name: 'forward_delay', before: '1500' },
      { dev: 'xenbr0', kind: 'mtu', before: '1500' },
      { dev: 'xenbr0', kind: 'mac', before: OLD },
    ]);
    const post = host([
      link('eth0', { mac: MAC0, master: 'xenbr0', mtu: 9000 }),
      bridge('xenbr0', MAC0, { mtu: 9000 }),
    ]);
    const stop = planNetworkStop(record, post);
    expect(rows(stop.steps)).toEqual([
      ['port:eth0:release', 'port', 'ip link set dev eth0 nomaster', true],
      // STP comes back after the timers: the kernel range-checks forward_delay only with STP on.
      ['bridge:xenbr0:options', 'bridge', 'ip link set dev xenbr0 type bridge forward_delay 1500', false],
      ['bridge:xenbr0:stp', 'bridge', 'ip link set dev xenbr0 type bridge stp_state 1', true],
      ['link:eth0:mtu', 'link', 'ip link set dev eth0 mtu 1500', false],
      ['link:xenbr0:mtu', 'link', 'ip link set dev xenbr0 mtu 1500', false],
      ['link:xenbr0:mac', 'link', `ip link set dev xenbr0 address ${OLD}`, false],
    ]);
    expect(stop.steps[2]?.reason).toBe(
      'xenbr0 stp back to on (have off): its ports listen and learn again before they forward',
    );
    expect(planNetworkStop(record, pre).steps).toEqual([]);
  });

  it('stop skips settings of a device an earlier start created: deleting it is enough', () => {
    const record = {
      ...planNetworkStart(bonded(), preHost()).record,
      created: ['bond0'],
    };
    expect(rows(planNetworkStop(record, bondedDone('active-backup')).steps)).toEqual([
      ['link:bond0:delete', 'link', 'ip link del dev bond0', true],
      ['bridge:xenbr0:options', 'bridge', 'ip link set dev xenbr0 type bridge forward_delay 1500', false],
    ]);
  });
});

describe('planSettingRestores: ARP', () => {
  it('turns ARP back on where start turned it off, and only there', () => {
    const changes = [{ dev: 'xenbr0', kind: 'arp', before: 'on' } as const];
    const off = host([bridge('xenbr0', MAC0, { noarp: true })]);
    expect(planSettingRestores(changes, off).steps.map((s) => s.argv.join(' '))).toEqual([
      'ip link set dev xenbr0 arp on',
    ]);
    expect(planSettingRestores(changes, host([bridge('xenbr0', MAC0)])).steps).toEqual([]);
  });
});
