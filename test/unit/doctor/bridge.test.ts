import { describe, expect, it } from 'vitest';
import { bridgedBond, host, network, run } from './host.ts';

const BOND_MAC = '00:16:3e:00:00:01';

describe('BR001 bridge-mac-unpinned', () => {
  it('fires when the bridge MAC was not set by user space', () => {
    const input = bridgedBond('active-backup').mac('bond0', BOND_MAC).mac('xenbr0', BOND_MAC, false).input();
    const [f, ...rest] = run('BR001', input);
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.message).toMatch(/^xenbr0's MAC 00:16:3e:00:00:01 was not set by user space: /);
    expect(f?.fix).toBe('ip link set xenbr0 address 00:16:3e:00:00:01; give vifs fe:ff:ff:ff:ff:ff');
  });

  it('fires when a vif has a MAC below the uplink MAC', () => {
    const input = bridgedBond('active-backup')
      .mac('bond0', BOND_MAC)
      .mac('xenbr0', BOND_MAC, true)
      .port('vif3.0', 'xenbr0', { mac: '00:16:3e:00:00:00' })
      .input();
    expect(run('BR001', input).map((f) => f.objects)).toEqual([['xenbr0', 'vif3.0']]);
  });

  it('does not fire for a pinned bridge with the bond MAC and dummy-MAC vifs', () => {
    const input = bridgedBond('active-backup')
      .mac('bond0', BOND_MAC)
      .mac('xenbr0', BOND_MAC, true)
      .port('vif3.0', 'xenbr0')
      .input();
    expect(run('BR001', input)).toEqual([]);
  });
});

describe('BR002 loop-or-duplicate-mac', () => {
  it('fires on the kernel own-address line', () => {
    const kernelLog = [
      'Jan 1 00:00:00 dom0 kernel: xenbr0: received packet on bond0 with own address as source address',
      'Jan 1 00:00:01 dom0 kernel: xenbr0: port 2(vif1.0) entered forwarding state',
    ];
    const [f, ...rest] = run('BR002', { kernelLog });
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('error');
    expect(f?.objects).toEqual(['bond0']);
  });

  it('fires when the netloop veth shares a MAC with a bridge port', () => {
    const desired = network({ dom0: { kind: 'netloop', veth: 'veth0', vif: 'vif0.0' } });
    const input = bridgedBond('active-backup')
      .mac('bond0', BOND_MAC)
      .veth('veth0', 'vif0.0', { mac: BOND_MAC })
      .port('vif0.0', 'xenbr0')
      .desired(desired)
      .input();
    const findings = run('BR002', input);
    expect(findings.map((f) => [f.objects, f.fix])).toEqual([
      [
        ['bond0', 'veth0'],
        'keep the real MAC on veth0 and give the other ports fe:ff:ff:ff:ff:ff (ip link set <port> address fe:ff:ff:ff:ff:ff)',
      ],
    ]);
  });

  it('does not fire for vifs sharing the Xen dummy MAC', () => {
    const input = bridgedBond('active-backup')
      .port('vif1.0', 'xenbr0')
      .port('vif2.0', 'xenbr0')
      .with({ kernelLog: ['xenbr0: port 2(vif1.0) entered forwarding state'] })
      .input();
    expect(run('BR002', input)).toEqual([]);
  });
});

describe('BR003 stp-delays-vifs', () => {
  it('fires for STP on with a forward delay on a bond-only bridge', () => {
    const desired = network({ bridge: { name: 'xenbr0', stp: true, forwardDelay: 900 } });
    const [f, ...rest] = run('BR003', { desired });
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.message).toContain('every new vif is blocked for 2 x forward delay (18 s)');
  });

  it('does not fire with STP off', () => {
    const desired = network({ bridge: { name: 'xenbr0', stp: false, forwardDelay: 900 } });
    expect(run('BR003', { desired })).toEqual([]);
  });

  it('does not fire for a bridge with two uplinks', () => {
    const input = host()
      .bridge('xenbr0', { stp: true, forwardDelay: 1500 })
      .port('eth0', 'xenbr0')
      .port('eth1', 'xenbr0')
      .port('vif1.0', 'xenbr0')
      .input();
    expect(run('BR003', input)).toEqual([]);
  });
});

describe('BR004 stp-timers', () => {
  it('notes (info) customised timers with STP off', () => {
    const desired = network({
      bridge: { name: 'xenbr0', stp: false, forwardDelay: 900, helloTime: 200, maxAge: 1200 },
    });
    const [f, ...rest] = run('BR004', { desired });
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('info');
    expect(f?.message).toBe(
      'xenbr0 has STP off but customised timers (forward delay 9 s, hello 2 s, max age 12 s): STP timers are ignored with STP off on current kernels',
    );
  });

  it('errors for STP on with timers breaking the 802.1D relation', () => {
    const input = host()
      .bridge('xenbr0', { stp: true, forwardDelay: 400, helloTime: 200, maxAge: 2000 })
      .input();
    const findings = run('BR004', input);
    expect(findings.map((f) => f.severity)).toEqual(['error']);
    expect(findings[0]?.message).toContain(
      '2 x (forward delay - 1) >= max age >= 2 x (hello + 1) does not hold',
    );
  });

  it('does not fire for STP on with the defaults, nor STP off with forward delay 0', () => {
    const live = host()
      .bridge('xenbr0', { stp: true, forwardDelay: 1500, helloTime: 200, maxAge: 2000 })
      .input();
    expect(run('BR004', live)).toEqual([]);
    expect(run('BR004', { desired: network() })).toEqual([]);
  });
});
