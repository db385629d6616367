import { describe, expect, it } from 'vitest';
import type { HostState } from '../../../src/model/host.ts';
import type { FileReader } from '../../../src/model/ports.ts';
import {
  isBrNetfilterLoaded,
  observeDoctorFacts,
  parseIptablesForward,
  parseKernelLog,
  readBondProc,
} from '../../../src/observe/doctor.ts';
import { host, link } from '../../support/host.ts';
import { FakeRunner } from '../../support/runner.ts';

/** A FileReader over a path → contents map; a directory is a key ending in `/` listing its entries. */
function fakeFiles(files: Record<string, string>, dirs: Record<string, string[]> = {}): FileReader {
  return {
    read: (path) => files[path],
    list: (path) => dirs[path],
    readlink: () => undefined,
    exists: (path) => path in files || path in dirs,
  };
}

const HOST: HostState = host([
  link('xenbr0', { mac: '02:00:00:00:00:01' }),
  link('bond0', { mac: '02:00:00:00:00:01' }),
]);

// `iptables -S FORWARD` as iptables 1.8.9 (nf_tables) prints it, captured in a namespace.
const XEN_ANTISPOOF = `-P FORWARD DROP
-A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -s 192.0.2.5/32 -m physdev --physdev-in vif5.0 --physdev-is-bridged -j ACCEPT
-A FORWARD -p udp -m physdev --physdev-in vif5.0 --physdev-is-bridged -m udp --sport 68 --dport 67 -j ACCEPT
`;

describe('parseIptablesForward', () => {
  it("reads the policy, the physdev rules and Xen's per-vif ACCEPTs", () => {
    expect(parseIptablesForward(XEN_ANTISPOOF)).toEqual({
      forwardPolicy: 'DROP',
      physdevRules: [
        '-A FORWARD -s 192.0.2.5/32 -m physdev --physdev-in vif5.0 --physdev-is-bridged -j ACCEPT',
        '-A FORWARD -p udp -m physdev --physdev-in vif5.0 --physdev-is-bridged -m udp --sport 68 --dport 67 -j ACCEPT',
      ],
      acceptsBridged: true,
    });
  });

  it('an empty chain with policy ACCEPT has no physdev rules and no bridged ACCEPT', () => {
    expect(parseIptablesForward('-P FORWARD ACCEPT\n')).toEqual({
      forwardPolicy: 'ACCEPT',
      physdevRules: [],
      acceptsBridged: false,
    });
  });

  it('counts an ACCEPT on interfaces only, but not one on addresses or state', () => {
    const onBridge = parseIptablesForward('-P FORWARD DROP\n-A FORWARD -i xenbr0 -o xenbr0 -j ACCEPT\n');
    expect(onBridge).toEqual({ forwardPolicy: 'DROP', physdevRules: [], acceptsBridged: true });
    const everything = parseIptablesForward('-P FORWARD DROP\n-A FORWARD -j ACCEPT\n');
    expect(everything.acceptsBridged).toBe(true);
    const nearMiss = parseIptablesForward(
      '-P FORWARD DROP\n-A FORWARD -s 198.51.100.0/24 -j ACCEPT\n-A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT\n-A FORWARD -i xenbr0 -j DROP\n',
    );
    expect(nearMiss).toEqual({ forwardPolicy: 'DROP', physdevRules: [], acceptsBridged: false });
  });

  it('a physdev DROP or an ACCEPT of non-bridged traffic is a physdev rule but accepts nothing bridged', () => {
    const text =
      '-P FORWARD DROP\n-A FORWARD -m physdev --physdev-in vif5.0 --physdev-is-bridged -j DROP\n-A FORWARD -m physdev ! --physdev-is-bridged -j ACCEPT\n';
    expect(parseIptablesForward(text)).toEqual({
      forwardPolicy: 'DROP',
      physdevRules: [
        '-A FORWARD -m physdev --physdev-in vif5.0 --physdev-is-bridged -j DROP',
        '-A FORWARD -m physdev ! --physdev-is-bridged -j ACCEPT',
      ],
      acceptsBridged: false,
    });
  });

  it('ignores other chains and empty output', () => {
    expect(
      parseIptablesForward('-P INPUT DROP\n-A INPUT -m physdev --physdev-is-bridged -j ACCEPT\n'),
    ).toEqual({
      physdevRules: [],
      acceptsBridged: false,
    });
    expect(parseIptablesForward('')).toEqual({ physdevRules: [], acceptsBridged: false });
  });
});

describe('parseKernelLog', () => {
  const DMESG = `[    0.000000] Linux version 6.1.0
[  152.991107] xenbr0: port 1(bond0) entered forwarding state
[  153.004211] xenbr0: received packet on bond0 with own address as source address (addr:00:1e:c9:bb:3b:de, vlan:0)
[  153.004300] xenbr0: received packet on bond0 with own address as source address (addr:00:1e:c9:bb:3b:de, vlan:0)
[  153.104300] br9: received packet on eth7 with own address as source address (addr:02:00:00:00:00:07, vlan:0)
`;

  it('keeps the own-address lines, once each, without the timestamp', () => {
    expect(parseKernelLog(DMESG)).toEqual([
      'xenbr0: received packet on bond0 with own address as source address (addr:00:1e:c9:bb:3b:de, vlan:0)',
      'br9: received packet on eth7 with own address as source address (addr:02:00:00:00:00:07, vlan:0)',
    ]);
  });

  it('keeps only lines about the devices given (the log is the machine-wide one)', () => {
    expect(parseKernelLog(DMESG, new Set(['xenbr0', 'bond0']))).toEqual([
      'xenbr0: received packet on bond0 with own address as source address (addr:00:1e:c9:bb:3b:de, vlan:0)',
    ]);
    expect(parseKernelLog(DMESG, new Set(['eth0']))).toEqual([]);
  });

  it("leaves out lines stamped at or before start's bring-up ended (quietUntil); keeps unstamped ones", () => {
    expect(parseKernelLog(DMESG, undefined, 153.004211)).toEqual([
      'xenbr0: received packet on bond0 with own address as source address (addr:00:1e:c9:bb:3b:de, vlan:0)',
      'br9: received packet on eth7 with own address as source address (addr:02:00:00:00:00:07, vlan:0)',
    ]);
    expect(parseKernelLog(DMESG, undefined, 153.1)).toEqual([
      'br9: received packet on eth7 with own address as source address (addr:02:00:00:00:00:07, vlan:0)',
    ]);
    expect(parseKernelLog(DMESG, undefined, 200)).toEqual([]);
    expect(
      parseKernelLog('xenbr0: received packet on bond0 with own address as source address\n', undefined, 200),
    ).toEqual(['xenbr0: received packet on bond0 with own address as source address']);
  });

  it('reads the older form with a colon after the device', () => {
    expect(
      parseKernelLog(
        'xenbr0: received packet on peth0: with own address as source address\n',
        new Set(['peth0']),
      ),
    ).toEqual(['xenbr0: received packet on peth0: with own address as source address']);
  });
});

describe('readBondProc and isBrNetfilterLoaded', () => {
  it('reads every /proc/net/bonding file by bond name', () => {
    const files = fakeFiles(
      {
        '/proc/net/bonding/bond0': 'Bonding Mode: load balancing (round-robin)\n',
        '/proc/net/bonding/bond1': 'x',
      },
      { '/proc/net/bonding': ['bond1', 'bond0'] },
    );
    expect(readBondProc(files)).toEqual({
      bond0: 'Bonding Mode: load balancing (round-robin)\n',
      bond1: 'x',
    });
  });

  it('is undefined without bonding (no directory, or an empty one)', () => {
    expect(readBondProc(fakeFiles({}))).toBeUndefined();
    expect(readBondProc(fakeFiles({}, { '/proc/net/bonding': [] }))).toBeUndefined();
  });

  it('br_netfilter counts as loaded as a module or built in (its sysctl exists)', () => {
    expect(isBrNetfilterLoaded(fakeFiles({}, { '/sys/module/br_netfilter': [] }))).toBe(true);
    expect(isBrNetfilterLoaded(fakeFiles({ '/proc/sys/net/bridge/bridge-nf-call-iptables': '1\n' }))).toBe(
      true,
    );
    expect(isBrNetfilterLoaded(fakeFiles({ '/sys/module/bridge': '' }))).toBe(false);
  });
});

describe('observeDoctorFacts', () => {
  it('gathers bonding, the FORWARD chain, br_netfilter and the kernel log for the host', async () => {
    const runner = new FakeRunner((argv) => {
      if (argv[0] === 'iptables') return { stdout: XEN_ANTISPOOF };
      if (argv[0] === 'dmesg')
        return {
          stdout:
            '[ 1.0] xenbr0: received packet on bond0 with own address as source address (addr:02:00:00:00:00:01, vlan:0)\n' +
            '[ 1.1] br9: received packet on eth7 with own address as source address (addr:02:00:00:00:00:07, vlan:0)\n',
        };
      return { exitCode: 1 };
    });
    const files = fakeFiles(
      { '/proc/net/bonding/bond0': 'Bonding Mode: fault-tolerance (active-backup)\n' },
      { '/proc/net/bonding': ['bond0'], '/sys/module/br_netfilter': [] },
    );
    expect(await observeDoctorFacts(runner, files, HOST)).toEqual({
      brNetfilterLoaded: true,
      bondProc: { bond0: 'Bonding Mode: fault-tolerance (active-backup)\n' },
      firewall: {
        forwardPolicy: 'DROP',
        physdevRules: [
          '-A FORWARD -s 192.0.2.5/32 -m physdev --physdev-in vif5.0 --physdev-is-bridged -j ACCEPT',
          '-A FORWARD -p udp -m physdev --physdev-in vif5.0 --physdev-is-bridged -m udp --sport 68 --dport 67 -j ACCEPT',
        ],
        acceptsBridged: true,
      },
      kernelLog: [
        'xenbr0: received packet on bond0 with own address as source address (addr:02:00:00:00:00:01, vlan:0)',
      ],
    });
    expect(runner.calls.map((c) => c.argv)).toEqual([['iptables', '-w', '-S', 'FORWARD'], ['dmesg']]);
  });

  it("reads every port's VLANs when a bridge filters VLANs", async () => {
    const filtering = host([
      link('xenbr0', {
        kind: 'bridge',
        bridge: { stp: false, forwardDelay: 0, helloTime: 200, maxAge: 2000, vlanFiltering: true },
      }),
      link('bond0', { master: 'xenbr0' }),
    ]);
    const vlans = JSON.stringify([
      { ifname: 'bond0', vlans: [{ vlan: 1, flags: ['PVID', 'Egress Untagged'] }, { vlan: 100 }] },
    ]);
    const runner = new FakeRunner((argv) => (argv[0] === 'bridge' ? { stdout: vlans } : { exitCode: 1 }));
    const facts = await observeDoctorFacts(runner, fakeFiles({}), filtering);
    expect(facts.bridgeVlans).toEqual({
      bond0: [
        { vid: 1, pvid: true, untagged: true },
        { vid: 100, pvid: false, untagged: false },
      ],
    });
    expect(runner.calls.map((c) => c.argv).at(-1)).toEqual(['bridge', '-j', 'vlan', 'show']);
  });

  it('leaves out what it cannot read: iptables missing, dmesg refused, no bonding, no br_netfilter', async () => {
    const runner = new FakeRunner((argv) =>
      argv[0] === 'iptables'
        ? { exitCode: 127, stderr: 'iptables: spawn iptables ENOENT' }
        : { exitCode: 1, stderr: 'dmesg: read kernel buffer failed: Operation not permitted' },
    );
    expect(await observeDoctorFacts(runner, fakeFiles({}), HOST)).toEqual({ brNetfilterLoaded: false });
  });
});
