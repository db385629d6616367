/**
 * xenplan doctor on live bonds in dom0 of a real Xen host (QEMU; the host kernel has no
 * bonding), in one boot: bond0 in balance-rr of dom0's real NICs eth0 and eth1 under xenbr0
 * (BOND001, and the loop the kernel logs: the two switches are joined upstream, so what
 * balance-rr sends out one NIC comes back in through the other), bond1 in active-backup under
 * xenbr1 (the near miss), and bond2 in 802.3ad whose "switch" speaks no LACP (BOND003 from
 * /proc/net/bonding). bond1 and bond2 are of veths (eth2-eth5) whose peers sit in namespace
 * sw. No settings are given: the review is of the live host only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteShell } from '../../src/lab/vm/shell.ts';
import { BUNDLE } from '../support/bundle.ts';
import { bootVm, parseSections, requireVm, type XenVm } from '../support/vm.ts';

const ok = requireVm('the doctor kernel tests');

const SCENARIO = `
set -e
section() { echo "@@$1"; }

# eth0, eth1: dom0's NICs (switches 0 and 1, joined upstream). eth2-eth5: veths whose peers
# are plain ports in namespace sw (no LACP partner for bond2).
ip netns add sw
ip -n sw link set lo up
for n in 2 3 4 5; do ip link add eth$n type veth peer name sw-eth$n netns sw; done
for n in 2 3 4 5; do ip -n sw link set sw-eth$n up; done

mkbond() { # name mode slave slave [bridge]
  ip link add "$1" type bond mode "$2" miimon 100
  ip link set "$3" master "$1"
  ip link set "$4" master "$1"
  if [ -n "$5" ]; then
    ip link add "$5" type bridge stp_state 0 forward_delay 0
    ip link set "$5" address "$(cat /sys/class/net/$1/address)"
    ip link set "$1" master "$5"
    ip link set "$5" up
  fi
  ip link set "$1" up
}
mkbond bond0 balance-rr eth0 eth1 xenbr0
mkbond bond1 active-backup eth2 eth3 xenbr1
mkbond bond2 802.3ad eth4 eth5
ip addr add 192.0.2.10/24 dev xenbr0

# Broadcast from xenbr0: balance-rr sends it out one slave, the switch floods it back in
# through the other, and the bridge logs its own MAC coming back.
ping -c 3 -i 0.3 -W 1 192.0.2.1 >/dev/null 2>&1 || true
sleep 1

section mode0
cat /sys/class/net/bond0/bonding/mode
section proc2
cat /proc/net/bonding/bond2
section doctor
status=0
node ${quoteShell(BUNDLE)} doctor --json || status=$?
section doctor-status
echo "$status"
section text
node ${quoteShell(BUNDLE)} doctor || true
`;

interface JsonFinding {
  id: string;
  severity: string;
  message: string;
  objects: string[];
}

describe.runIf(ok)('xenplan doctor on live bonds (real Xen dom0)', () => {
  let vm: XenVm;
  beforeAll(async () => {
    vm = await bootVm('doctor');
  });
  afterAll(async () => {
    await vm?.close();
  });

  it('reviews the live host with no settings: BOND001 and its loop for the balance-rr bond, BOND003 for the lonely 802.3ad', async () => {
    const result = await vm.run(SCENARIO, { timeoutMs: 240_000 });
    expect(result.exitCode, result.output).toBe(0);
    const s = parseSections(result.output);
    expect(s.get('mode0')).toBe('balance-rr 0');
    expect(s.get('proc2')).toContain('Bonding Mode: IEEE 802.3ad Dynamic link aggregation');

    const findings = (JSON.parse(s.get('doctor') ?? '{}') as { findings: JsonFinding[] }).findings;
    expect(s.get('doctor-status')).toBe('1');
    const ids = findings.map((f) => `${f.severity} ${f.id} ${f.objects.join(',')}`);
    expect(ids).toEqual([
      'error BOND001 bond0,xenbr0',
      'error BOND003 bond2,eth4,eth5',
      // The broadcast came back in through the other slave: the real kernel log, read with dmesg.
      'error BR002 bond0',
      'warning BOND006 bond0,eth0,eth1',
    ]);
    // The near miss: bond1 is active-backup under xenbr1, so no bond-mode finding names it.
    expect(findings.filter((f) => f.objects.includes('bond1'))).toEqual([]);
    expect(findings.find((f) => f.id === 'BOND001')?.message).toBe(
      'bond0 is in mode balance-rr under bridge xenbr0: balance-rr sprays guest frames across eth0 and eth1; it needs a static EtherChannel and is not supported under a VM bridge; expect MAC flapping, loops, loss and reordering',
    );
    expect(findings.find((f) => f.id === 'BOND003')?.message).toBe(
      'bond2: LACP did not form one aggregator (slaves are in aggregators eth4:1, eth5:2; eth4 and eth5 see no LACP partner (00:00:00:00:00:00)); only one aggregator is active (ad_select), so the other link carries nothing or the switch side is not LACP',
    );
    expect(s.get('text')).toMatch(/^Errors:\n {2}BOND001 bond0 is in mode balance-rr under bridge xenbr0: /);
  });
});
