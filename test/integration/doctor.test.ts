/**
 * xenplan doctor through the built bundle, as an admin runs it: the seed ifcfg files of the
 * xen-users post and their recommended rewrite (config only), then a live host in a
 * namespace with NOARP flags, an address on the bridge, bridge-nf-call-iptables and a
 * physdev antispoof rule.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireCommand, requireNetns } from '../support/env.ts';
import { Netns } from '../support/netns.ts';
import { expectReport } from '../support/schema.ts';

const SEED = resolve('test/fixtures/ifcfg/seed');
const RECOMMENDED = resolve('test/fixtures/ifcfg/recommended');

interface JsonFinding {
  id: string;
  severity: string;
  message: string;
  fix: string;
  source: string;
  objects: string[];
}

function findingsOf(stdout: string): JsonFinding[] {
  return expectReport(stdout).findings as JsonFinding[];
}

/** id/severity/objects of each finding, the part tests pin exactly. */
function brief(findings: readonly JsonFinding[]): string[] {
  return findings.map((f) => `${f.severity} ${f.id} ${f.objects.join(',')}`);
}

const scripts = new Scripts();
afterAll(() => scripts.remove());

describe('xenplan doctor --config-only on ifcfg files', () => {
  it('the seed post: balance-rr under the guest bridge is an error, unused lines and netloop are noted; exit 1', () => {
    const run = scripts.run('xenplan', ['doctor', `ifcfg=${SEED}`, '--config-only']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^Errors:\n {2}BOND001 bond0 is in mode balance-rr under bridge xenbr0: /);
    expect(run.stdout).toContain(
      "\n  IFCFG001 ifcfg-xenbr0: FD=9, HELLO=2, MAXAGE=12 not used: Red Hat's initscripts never read FD=, HELLO= or MAXAGE= (ifup-eth reads DELAY=",
    );
    expect(run.stdout).toContain(
      "  XEN001 netloop layout: dom0's address on veth0 behind vif0.0 in xenbr0: fine on Xen 3.x; on current kernels (no netloop driver) put it on the bridge\n",
    );
    expect(run.stdout).toContain(
      "    fix: bond-mode=active-backup miimon=100 bond.primary=eth0 (ifcfg: BONDING_OPTS='mode=active-backup miimon=100 primary=eth0'); or 802.3ad if the switch(es) act as one LACP partner\n",
    );
    expect(run.stdout.endsWith('\n1 error, 1 warning, 6 info.\n')).toBe(true);
  });

  it('--json prints every finding with id, severity, message, fix, source and objects', () => {
    const run = scripts.run('xenplan', ['doctor', `ifcfg=${SEED}`, '--config-only', '--json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    const findings = findingsOf(run.stdout);
    expect(brief(findings)).toEqual([
      'error BOND001 bond0,xenbr0',
      'warning BOND006 bond0,eth0,eth1',
      'info IFCFG001 eth0',
      'info IFCFG001 eth0',
      'info IFCFG001 eth1',
      'info IFCFG001 eth1',
      'info IFCFG001 xenbr0',
      'info XEN001 veth0,vif0.0,xenbr0',
    ]);
    for (const f of findings) {
      expect(Object.keys(f)).toEqual(['id', 'severity', 'message', 'fix', 'source', 'objects']);
      expect(f.fix).not.toBe('');
      expect(f.source).not.toBe('');
    }
    expect(findings[0]?.source).toBe(
      'bonding.rst §5, §12.1.1; RHV Technical Reference "Bonds"; RHEL 6/7 Virtualization guide; Red Hat KB 67546',
    );
  });

  it('the recommended rewrite as words over the seed: no error about the bond mode; exit 0', () => {
    const run = scripts.run('xenplan', [
      'doctor',
      `ifcfg=${SEED}`,
      'bond-mode=active-backup',
      'bond.primary=eth0',
      'forward-delay=0',
      '--config-only',
      '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const findings = findingsOf(run.stdout);
    expect(brief(findings).filter((f) => !f.startsWith('info IFCFG001'))).toEqual([
      'info XEN001 veth0,vif0.0,xenbr0',
    ]);
    expect(findings.filter((f) => f.id.startsWith('BOND'))).toEqual([]);
  });

  it('the recommended ifcfg files (active-backup, address on the bridge, no timers): no problems', () => {
    const run = scripts.run('xenplan', ['doctor', `ifcfg=${RECOMMENDED}`, '--config-only']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('No problems found.\n');
    const json = scripts.run('xenplan', ['doctor', `ifcfg=${RECOMMENDED}`, '--config-only', '--json']);
    expect(expectReport(json.stdout)).toMatchObject({ command: 'doctor', ok: true, findings: [] });
  });

  it('a config file and words: the same review (config=FILE with the seed mode and bridge timers)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenplan-doctor-'));
    try {
      const file = join(dir, 'xenplan.conf');
      writeFileSync(
        file,
        '# two NICs on one switch\nbond=bond0\nslaves=eth0,eth1\nbond-mode=balance-rr\nstp=off\nforward-delay=5\n',
      );
      const run = scripts.run('xenplan', ['doctor', `config=${file}`, '--config-only', '--json']);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(1);
      expect(brief(findingsOf(run.stdout))).toEqual([
        'error BOND001 bond0,xenbr0',
        'warning BOND006 bond0,eth0,eth1',
        'info BR004 xenbr0',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad settings are configuration errors (exit 4); a missing ifcfg dir too', () => {
    const bad = scripts.run('xenplan', [
      'doctor',
      'bond=bond0',
      'slaves=eth0',
      'bond-mode=9',
      '--config-only',
    ]);
    expect(bad.status).toBe(4);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(
      'xenplan: bond-mode=9: expected one of balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb or 0-6\n',
    );
    const missing = scripts.run('xenplan', ['doctor', 'ifcfg=/nonexistent/xenplan', '--config-only']);
    expect(missing.status).toBe(4);
    expect(missing.stderr).toBe(
      'xenplan: ifcfg=/nonexistent/xenplan: cannot list it; expected a directory of ifcfg-* files\n',
    );
    const noUplink = scripts.run('xenplan', ['doctor', 'bridge=xenbr0', '--config-only']);
    expect(noUplink.status).toBe(4);
    expect(noUplink.stderr).toBe('xenplan: no uplink: give netdev=NIC or bond=NAME slaves=…\n');
  });

  it('usage errors exit 2: --config-only without settings, a stray word, an unknown option', () => {
    const none = scripts.run('xenplan', ['doctor', '--config-only']);
    expect(none.status).toBe(2);
    expect(none.stderr).toBe(
      'xenplan: doctor --config-only needs settings to review (key=value words, config=FILE or ifcfg=DIR)\n',
    );
    const stray = scripts.run('xenplan', ['doctor', 'start', '--config-only']);
    expect(stray.status).toBe(2);
    expect(stray.stderr).toBe(
      'xenplan: doctor: "start" is not a key=value setting; see xenplan doctor --help\n',
    );
    const option = scripts.run('xenplan', ['doctor', '--strict']);
    expect(option.status).toBe(2);
    expect(option.stderr).toBe(
      'xenplan: xenplan doctor: unknown option --strict; see xenplan doctor --help\n',
    );
  });
});

describe('xenplan doctor --help', () => {
  it('lists every rule with id, name and summary, how to read a report, and the exit codes', () => {
    const run = scripts.run('xenplan', ['doctor', '--help']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const ids = [
      ...run.stdout.matchAll(/^ {2}([A-Z]+[0-9]{3}) +([a-z0-9-]+) \((error|warning|info)\)$/gm),
    ].map((m) => m[1]);
    expect(ids).toEqual([
      ...['BOND001', 'BOND002', 'BOND003', 'BOND004', 'BOND005', 'BOND006'],
      ...['BOND007', 'BOND008', 'BOND009', 'BOND010', 'BOND011', 'BOND012'],
      ...['BOND013', 'BOND014', 'BOND015'],
      ...['BR001', 'BR002', 'BR003', 'BR004', 'IP001', 'ARP001', 'ARP002', 'NF001', 'NF002', 'MTU001'],
      ...['VLAN001', 'VLAN002', 'XEN001', 'XEN002', 'IFCFG001'],
    ]);
    expect(run.stdout).toContain(
      '  BOND001  rr-under-bridge (error)\n           a bridged bond in balance-rr sprays guest frames over all slaves (MAC\n           flapping, loops, loss)\n',
    );
    expect(run.stdout).toContain('Reading a report:\n');
    expect(run.stdout).toContain('  1   at least one finding is an error\n');
    expect(run.stdout).toMatch(/^Usage: xenplan doctor \[key=value \.\.\.\] \[--config-only\] \[--json\]\n/);
  });

  it('xenplan --help names the command', () => {
    const run = scripts.run('xenplan', ['--help']);
    expect(run.stdout).toContain('\n  doctor [key=value ...]     review a bonded bridge setup');
  });
});

const can = requireNetns();
const hasIptables = requireCommand('iptables');

const NF_CALL = '/proc/sys/net/bridge/bridge-nf-call-iptables';

describe.runIf(can.ok && hasIptables)('xenplan doctor on a live host in a namespace', () => {
  let ns: Netns;
  let fakeBin: string;
  let quietBin: string;
  const hostNfCall = readFileSync(NF_CALL, 'utf8');

  /** Sets bridge-nf-call-iptables inside the namespace and checks it took (it is per namespace). */
  const setNfCall = (value: '0' | '1') => {
    expect(ns.exec(['sysctl', '-qw', `net.bridge.bridge-nf-call-iptables=${value}`]).status).toBe(0);
    expect(ns.exec(['cat', NF_CALL]).stdout).toBe(`${value}\n`);
  };

  beforeAll(() => {
    ns = new Netns('doctor');
    ns.ip('link', 'add', 'xenbr0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    // Pinned, so BR001 (unpinned bridge MAC) stays out of the way of what is tested.
    ns.ip('link', 'set', 'dev', 'xenbr0', 'address', '02:00:00:00:0a:01');
    for (const vif of ['vif5.0', 'vif6.0']) {
      ns.ip('link', 'add', vif, 'type', 'veth', 'peer', 'name', `guest${vif.slice(3, 4)}`);
      ns.ip('link', 'set', 'dev', vif, 'master', 'xenbr0', 'up');
    }
    ns.ip('address', 'add', '192.0.2.10/24', 'dev', 'xenbr0');
    ns.ip('link', 'set', 'dev', 'xenbr0', 'up');
    const rule = ns.exec([
      ...['iptables', '-A', 'FORWARD', '-m', 'physdev', '--physdev-is-bridged'],
      ...['--physdev-in', 'vif5.0', '-s', '192.0.2.5', '-j', 'ACCEPT'],
    ]);
    expect(rule.stderr).toBe('');
    fakeBin = mkdtempSync(join(tmpdir(), 'xenplan-doctor-bin-'));
    quietBin = mkdtempSync(join(tmpdir(), 'xenplan-doctor-quiet-'));
  });

  afterAll(() => {
    ns?.delete();
    for (const dir of [fakeBin, quietBin]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Findings of a live review, without BR002 from the machine-wide kernel log (other tests' bridges share it). */
  const review = (args: string[] = [], env: Record<string, string> = {}) => {
    const run = scripts.run('xenplan', ['doctor', '--json', ...args], { ns, env });
    expect(run.stderr).toBe('');
    const findings = findingsOf(run.stdout).filter((f) => f.id !== 'BR002');
    return { status: run.status, findings };
  };

  it('NOARP on a port and on the bridge with the address, bridge-nf off under a physdev rule: ARP002, ARP001, NF001', () => {
    ns.ip('link', 'set', 'dev', 'vif5.0', 'arp', 'off');
    ns.ip('link', 'set', 'dev', 'xenbr0', 'arp', 'off');
    setNfCall('0');
    const { status, findings } = review();
    expect(status).toBe(1);
    expect(brief(findings)).toEqual(['error ARP001 xenbr0', 'warning ARP002 vif5.0', 'warning NF001 vif5.0']);
    expect(findings[0]?.message).toBe(
      "ARP is off (NOARP) on xenbr0, which carries IPv4: incoming ARP is ignored, no ARP is sent, and neighbours resolve to xenbr0's own MAC; IPv4 to the LAN is broken",
    );
    expect(findings[2]?.message).toBe(
      'Xen antispoof is configured (1 physdev FORWARD rule(s)) but bridged frames skip iptables (live net.bridge.bridge-nf-call-iptables=0): bridged guest traffic bypasses iptables, so the antispoof rules never match and guests can spoof source IPs',
    );
    // The namespace's sysctl is its own: the machine's stays as it was.
    expect(readFileSync(NF_CALL, 'utf8')).toBe(hostNfCall);
  });

  it('the readable report groups them by severity and counts them', () => {
    // A quiet kernel log (a dmesg that prints nothing), so the whole report is this namespace's.
    writeFileSync(join(quietBin, 'dmesg'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(quietBin, 'dmesg'), 0o755);
    const run = scripts.run('xenplan', ['doctor'], {
      ns,
      env: { PATH: `${quietBin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^Errors:\n {2}ARP001 ARP is off \(NOARP\) on xenbr0, which carries IPv4: /);
    expect(run.stdout).toContain('\nWarnings:\n  ARP002 ARP is off on vif5.0: ');
    expect(run.stdout).toContain(
      '    fix: ip link set vif5.0 arp on; then look at BOND001/BR002 for the real fault\n',
    );
    expect(run.stdout).toContain('\n  NF001 Xen antispoof is configured (1 physdev FORWARD rule(s)) but ');
    expect(run.stdout.endsWith('\n\n1 error, 2 warnings, 0 info.\n')).toBe(true);
  });

  it('with settings too: the desired bridge is reviewed against the live one (dom0 on xenbr0)', () => {
    const { status, findings } = review(['bridge=xenbr0', 'netdev=vif6.0']);
    expect(status).toBe(1);
    expect(brief(findings)).toEqual(['error ARP001 xenbr0', 'warning ARP002 vif5.0', 'warning NF001 vif5.0']);
    // An admin who declares that guests must not spoof makes the dead antispoof rules an error.
    const declared = review(['bridge=xenbr0', 'netdev=vif6.0', 'antispoof=yes']);
    expect(brief(declared.findings)).toEqual([
      'error ARP001 xenbr0',
      'error NF001 vif5.0',
      'warning ARP002 vif5.0',
    ]);
  });

  it("a failing iptables is left out, not fatal; kernel log lines count only for this namespace's devices", () => {
    writeFileSync(join(fakeBin, 'iptables'), '#!/bin/sh\necho "iptables: not here" >&2\nexit 127\n');
    writeFileSync(
      join(fakeBin, 'dmesg'),
      [
        '#!/bin/sh',
        'echo "[ 12.5] xenbr0: received packet on vif6.0 with own address as source address (addr:02:00:00:00:0a:01, vlan:0)"',
        'echo "[ 12.6] br9: received packet on eth7 with own address as source address (addr:02:00:00:00:00:07, vlan:0)"',
        '',
      ].join('\n'),
    );
    chmodSync(join(fakeBin, 'iptables'), 0o755);
    chmodSync(join(fakeBin, 'dmesg'), 0o755);
    const run = scripts.run('xenplan', ['doctor', '--json'], {
      ns,
      env: { PATH: `${fakeBin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    // No FORWARD chain seen → no NF001; the loop line about this namespace's vif6.0 is BR002, eth7's is not ours.
    expect(brief(findingsOf(run.stdout))).toEqual([
      'error ARP001 xenbr0',
      'error BR002 vif6.0',
      'warning ARP002 vif5.0',
    ]);
  });

  it('near miss: ARP on everywhere and bridge-nf-call-iptables=1: none of ARP001, ARP002, NF001; exit 0', () => {
    ns.ip('link', 'set', 'dev', 'vif5.0', 'arp', 'on');
    ns.ip('link', 'set', 'dev', 'xenbr0', 'arp', 'on');
    setNfCall('1');
    const { status, findings } = review();
    expect(findings).toEqual([]);
    expect(status).toBe(0);
  });
});
