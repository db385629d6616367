import { describe, expect, it } from 'vitest';
import { reviewNetwork, sortFindings } from '../../../src/doctor/review.ts';
import type { DoctorInput } from '../../../src/model/doctor.ts';
import type { Finding } from '../../../src/model/finding.ts';
import type { NetworkDesired } from '../../../src/model/network.ts';
import { host } from './host.ts';

/** The admin's post (examples/ifcfg; test/fixtures/ifcfg/seed keeps its 192.168.1.0/24), as reviewed before FD/HELLO/MAXAGE were known to be unread. */
const postDesired: NetworkDesired = {
  bridge: { name: 'xenbr0', stp: false, forwardDelay: 900, helloTime: 200, maxAge: 1200 },
  uplink: 'bond0',
  bond: { name: 'bond0', slaves: ['eth0', 'eth1'], mode: 'balance-rr', options: { miimon: '100' } },
  dom0: { kind: 'netloop', veth: 'veth0', vif: 'vif0.0', mac: '00:16:3e:00:01:00' },
  addresses: ['192.0.2.11/24'],
  gateway: '192.0.2.1',
  bridgeNf: 'keep',
  strict: false,
  topology: { switches: 'separate' },
};

const postInput: DoctorInput = {
  desired: postDesired,
  noarp: ['eth0', 'eth1', 'bond0', 'vif0.0', 'vif1.0'],
  sysctlsDeclared: {
    'net.bridge.bridge-nf-filter-vlan-tagged': '0',
    'net.bridge.bridge-nf-call-ip6tables': '0',
    'net.bridge.bridge-nf-call-iptables': '0',
    'net.bridge.bridge-nf-call-arptables': '0',
  },
};

/** eth0's MAC, which bond0, eth1 and xenbr0 show in the post's ifconfig output. */
const POST_MAC = '00:1e:c9:bb:3b:de';

const summary = (findings: Finding[]) => findings.map((f) => [f.severity, f.id]);

describe('reviewNetwork on the admin setup', () => {
  it('finds balance-rr under the bridge, the switches, arp off, the ignored timers and netloop', () => {
    const findings = reviewNetwork(postInput);
    expect(summary(findings)).toEqual([
      ['error', 'BOND001'],
      ['error', 'BOND002'],
      ['warning', 'ARP002'],
      ['info', 'BR004'],
      ['info', 'XEN001'],
    ]);
    expect(findings[0]?.message).toMatch(/^bond0 is in mode balance-rr under bridge xenbr0: /);
    expect(findings.find((f) => f.id === 'ARP002')?.objects).toEqual([
      'eth0',
      'eth1',
      'bond0',
      'vif0.0',
      'vif1.0',
    ]);
    expect(findings.find((f) => f.id === 'XEN001')?.message).toBe(
      "netloop layout: dom0's address on veth0 behind vif0.0 in xenbr0: fine on Xen 3.x; on current kernels (no netloop driver) put it on the bridge",
    );
  });

  it('finds the same faults on the live host of the post (no config)', () => {
    const live = host()
      .bond('bond0', { mode: 'balance-rr', miimon: 100 })
      .slave('eth0', 'bond0')
      .slave('eth1', 'bond0')
      .bridge('xenbr0', { stp: false, forwardDelay: 900, helloTime: 200, maxAge: 1200 })
      .port('bond0', 'xenbr0')
      .mac('bond0', POST_MAC)
      .mac('eth0', POST_MAC)
      .mac('eth1', POST_MAC)
      .mac('xenbr0', POST_MAC)
      .veth('veth0', 'vif0.0', { mac: '00:16:3e:00:01:00' })
      .port('vif0.0', 'xenbr0', { kind: 'veth', peer: 'veth0' })
      .port('vif1.0', 'xenbr0')
      .noarp('eth0', 'eth1', 'bond0', 'vif0.0', 'vif1.0')
      .addr('veth0', '192.0.2.11/24')
      .route('default', 'veth0', { gateway: '192.0.2.1' })
      .sysctl('net.bridge.bridge-nf-call-iptables', '0')
      .input();
    expect(summary(reviewNetwork(live))).toEqual([
      ['error', 'BOND001'],
      ['warning', 'ARP002'],
      ['warning', 'BOND006'],
      ['info', 'BR004'],
    ]);
  });

  it('finds no error in the recommended rewrite', () => {
    const rewrite: DoctorInput = {
      ...postInput,
      desired: {
        ...postDesired,
        bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 },
        bond: {
          name: 'bond0',
          slaves: ['eth0', 'eth1'],
          mode: 'active-backup',
          options: { miimon: '100', primary: 'eth0' },
        },
      },
      noarp: [],
    };
    expect(summary(reviewNetwork(rewrite))).toEqual([
      ['info', 'BOND010'],
      ['info', 'XEN001'],
    ]);
  });

  it('finds nothing for an empty input', () => {
    expect(reviewNetwork({})).toEqual([]);
  });
});

describe('sortFindings', () => {
  const f = (id: string, severity: Finding['severity'], objects: string[] = []): Finding => ({
    id,
    severity,
    message: id,
    fix: '',
    source: '',
    objects,
  });

  it('orders by severity, then id, then objects', () => {
    const sorted = sortFindings([
      f('XEN001', 'info'),
      f('NF001', 'warning'),
      f('BR002', 'error', ['vif2.0']),
      f('BOND001', 'error'),
      f('BR002', 'error', ['bond0']),
      f('ARP002', 'warning'),
    ]);
    expect(sorted.map((x) => [x.id, ...x.objects])).toEqual([
      ['BOND001'],
      ['BR002', 'bond0'],
      ['BR002', 'vif2.0'],
      ['ARP002'],
      ['NF001'],
      ['XEN001'],
    ]);
  });
});
