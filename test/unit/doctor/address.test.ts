import { describe, expect, it } from 'vitest';
import { bridgedBond, network, run } from './host.ts';

describe('IP001 address-or-route-on-port', () => {
  it('fires for an address and the default route left on the bond', () => {
    const input = bridgedBond('active-backup')
      .addr('bond0', '192.0.2.11/24')
      .route('default', 'bond0', { gateway: '192.0.2.1' })
      .desired(network())
      .input();
    const [f, ...rest] = run('IP001', input);
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('error');
    expect(f?.objects).toEqual(['bond0', 'xenbr0']);
    expect(f?.message).toMatch(
      /^bond0 is an enslaved device but carries address 192.0.2.11\/24 and route default via 192.0.2.1: /,
    );
    expect(f?.fix).toBe(
      'move them to xenbr0 in one step: ip addr del 192.0.2.11/24 dev bond0; ip addr add 192.0.2.11/24 dev xenbr0; ip route replace default via 192.0.2.1 dev xenbr0',
    );
  });

  it('fires for a global IPv6 address on a bridge port vif', () => {
    const input = bridgedBond('active-backup')
      .port('vif2.0', 'xenbr0')
      .addr('vif2.0', '2001:db8::5/64')
      .input();
    expect(run('IP001', input).map((f) => [f.objects, f.message.split(':')[0]])).toEqual([
      [['vif2.0', 'xenbr0'], 'vif2.0 is an enslaved device but carries address 2001'],
    ]);
  });

  it('does not fire for a routed vif outside the bridge (vif-route)', () => {
    const input = bridgedBond('active-backup')
      .link('vif3.0')
      .addr('vif3.0', '192.0.2.1/32')
      .route('198.51.100.7', 'vif3.0')
      .input();
    expect(run('IP001', input)).toEqual([]);
  });

  it('does not fire for addresses on the bridge or link-local ones on ports', () => {
    const input = bridgedBond('active-backup')
      .addr('xenbr0', '192.0.2.11/24')
      .route('default', 'xenbr0', { gateway: '192.0.2.1' })
      .addr('bond0', 'fe80::1/64', 'link')
      .input();
    expect(run('IP001', input)).toEqual([]);
  });
});

describe('ARP001 noarp-on-ip-interface', () => {
  it('fires for NOARP on the live IP interface', () => {
    const input = bridgedBond('active-backup').addr('xenbr0', '192.0.2.11/24').noarp('xenbr0').input();
    const findings = run('ARP001', input);
    expect(findings.map((f) => [f.severity, f.objects, f.fix])).toEqual([
      ['error', ['xenbr0'], 'ip link set xenbr0 arp on (and drop "arp off" for xenbr0 from the setup)'],
    ]);
  });

  it('fires for declared arp off on the netloop veth that will carry dom0 addresses', () => {
    const desired = network({
      dom0: { kind: 'netloop', veth: 'veth0', vif: 'vif0.0' },
      addresses: ['192.0.2.11/24'],
    });
    expect(run('ARP001', { desired, noarp: ['veth0'] }).map((f) => f.objects)).toEqual([['veth0']]);
  });

  it('does not fire for NOARP on a device without IPv4, nor on tunnels (no Ethernet MAC)', () => {
    const input = bridgedBond('active-backup')
      .addr('xenbr0', '192.0.2.11/24')
      .noarp('eth0')
      .link('tun0', { kind: 'tun', mac: undefined, noarp: true })
      .addr('tun0', '198.51.100.1/30')
      .link('sit1', { kind: 'sit', mac: '203.0.113.9', noarp: true })
      .addr('sit1', '203.0.113.10/30')
      .input();
    expect(run('ARP001', input)).toEqual([]);
  });
});

describe('ARP002 noarp-on-ports', () => {
  it('fires once for all L2 devices with ARP off', () => {
    const input = bridgedBond('balance-rr')
      .port('vif1.0', 'xenbr0')
      .noarp('eth0', 'eth1', 'bond0', 'vif1.0')
      .input();
    const [f, ...rest] = run('ARP002', input);
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.objects).toEqual(['bond0', 'eth0', 'eth1', 'vif1.0']);
    expect(f?.fix).toBe(
      'ip link set bond0 arp on; ip link set eth0 arp on; ip link set eth1 arp on; ip link set vif1.0 arp on; then look at BOND001/BR002 for the real fault',
    );
  });

  it('does not fire for ARP off on a device outside the bridge and bond', () => {
    const input = bridgedBond('active-backup').link('eth2', { noarp: true }).input();
    expect(run('ARP002', input)).toEqual([]);
  });
});
