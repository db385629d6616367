/**
 * The UML harness on a real 6.1 kernel with bonding: a bond with two veth slaves bridged in
 * xenbr0, traffic through it, failover when the active slave loses carrier; exit status,
 * environment passing, timeouts and cleanup. Each boot costs a few seconds, so the kernel
 * checks share one boot.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  findUmlModulesVersion,
  parseUmlSections,
  runInUml,
  UML_SWITCH_TOPOLOGY,
  umlAvailable,
} from '../support/uml.ts';

const availability = umlAvailable();
if (!availability.ok) {
  if (process.env.CI) {
    // In CI a missing UML is a failure, not a skip.
    describe('User-mode Linux', () => {
      it('is installed (CI requires user-mode-linux and kmod)', () => {
        expect(availability.reason).toBeUndefined();
      });
    });
  } else {
    console.warn(`skipping UML kernel tests: ${availability.reason}`);
  }
}

/** Host processes still naming a run's work dir. */
function processesNaming(workDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(workDir)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const BOND_SCENARIO = `
set -e
section() { echo "@@$1"; }

# dom0 (UML's own namespace): eth0, eth1 are veths whose peers sit in switch namespace "sw";
# the switch bridges them with an uplink to namespace "up", which has 192.0.2.1.
${UML_SWITCH_TOPOLOGY}

ip link add bond0 type bond mode active-backup miimon 100
ip link set eth0 master bond0
ip link set eth1 master bond0
ip link add xenbr0 type bridge
ip link set bond0 master xenbr0
ip addr add 192.0.2.10/24 dev xenbr0
ip link set bond0 up
ip link set xenbr0 up

section mode
cat /sys/class/net/bond0/bonding/mode
section miimon
cat /sys/class/net/bond0/bonding/miimon
section slaves
cat /sys/class/net/bond0/bonding/slaves
section link
ip -j -d link show bond0
section slave-links
ip -j -d link show master bond0

ping_up() {
  i=0
  while [ $i -lt 10 ]; do
    if ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1; then echo ok; return 0; fi
    i=$((i + 1))
  done
  echo fail
}
section active-before
cat /sys/class/net/bond0/bonding/active_slave
section ping-before
ping_up

# the switch port of eth0 goes down: eth0 loses carrier, miimon (100 ms) fails over to eth1
ip -n sw link set sw-eth0 down
i=0
while [ $i -lt 50 ] && [ "$(cat /sys/class/net/bond0/bonding/active_slave)" != eth1 ]; do
  sleep 0.1
  i=$((i + 1))
done
section active-after
cat /sys/class/net/bond0/bonding/active_slave
section eth0-carrier-after
cat /sys/class/net/eth0/carrier
section ping-after
ping_up

section node
node -e "console.log(JSON.stringify({ one: 1, version: process.version }))"
section modules
cut -d' ' -f1 /proc/modules | sort
section uname
uname -r
section host-writes
touch /etc/xenplan-uml-probe && echo wrote-etc
`;

describe.skipIf(!availability.ok)('runInUml on a UML kernel with bonding', () => {
  it('finds the modules version of the installed UML kernel', () => {
    const found = findUmlModulesVersion();
    expect(found?.version).toBe(availability.version);
    expect(existsSync(`${found?.dir}/kernel/drivers/net/bonding/bonding.ko`)).toBe(true);
  });

  it('builds an active-backup bond in a bridge, passes traffic and fails over to eth1', async () => {
    const result = await runInUml({ script: BOND_SCENARIO, timeoutMs: 110_000 });
    console.info(
      `UML bond scenario: boot to script ${result.bootMs} ms (guest uptime), whole run ${result.durationMs} ms`,
    );
    expect(result.reason, result.output + result.log).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.exitCode).toBe(0);
    const s = parseUmlSections(result.output);

    expect(s.get('mode')).toBe('active-backup 1');
    expect(s.get('miimon')).toBe('100');
    expect(s.get('slaves')).toBe('eth0 eth1');
    const [bond] = JSON.parse(s.get('link') ?? '[]') as {
      ifname: string;
      master?: string;
      linkinfo: { info_kind: string; info_data: { mode: string; miimon: number } };
    }[];
    expect(bond?.ifname).toBe('bond0');
    expect(bond?.master).toBe('xenbr0');
    expect(bond?.linkinfo.info_kind).toBe('bond');
    expect(bond?.linkinfo.info_data.mode).toBe('active-backup');
    expect(bond?.linkinfo.info_data.miimon).toBe(100);
    const slaves = JSON.parse(s.get('slave-links') ?? '[]') as {
      ifname: string;
      master: string;
      linkinfo: { info_slave_kind: string };
    }[];
    expect(slaves.map((l) => [l.ifname, l.master, l.linkinfo.info_slave_kind])).toEqual([
      ['eth0', 'bond0', 'bond'],
      ['eth1', 'bond0', 'bond'],
    ]);

    expect(s.get('active-before')).toBe('eth0');
    expect(s.get('ping-before')).toBe('ok');
    expect(s.get('eth0-carrier-after')).toBe('0');
    expect(s.get('active-after')).toBe('eth1');
    expect(s.get('ping-after')).toBe('ok');

    expect(JSON.parse(s.get('node') ?? '{}')).toEqual({ one: 1, version: process.version });
    const modules = (s.get('modules') ?? '').split('\n');
    for (const m of ['bonding', 'bridge', 'veth', 'br_netfilter', 'overlay']) expect(modules).toContain(m);
    expect(s.get('uname')).toBe(availability.version);
    // The scenario may write anywhere inside; the host's /etc stays untouched.
    expect(s.get('host-writes')).toBe('wrote-etc');
    expect(existsSync('/etc/xenplan-uml-probe')).toBe(false);
    expect(existsSync(result.workDir)).toBe(false);
  }, 120_000);

  it('returns the script exit status, passes env values verbatim, and cleans up', async () => {
    const odd = `it's "quoted" $HOME \`uname\` \\ back\nslash`;
    const result = await runInUml({
      script: [
        'printf "%s" "$ODD" > "$XENPLAN_UML_WORK/odd"; cat "$XENPLAN_UML_WORK/odd"; echo',
        'pwd; test -f package.json && echo sees-project; echo to-stderr >&2; exit 3',
      ].join('\n'),
      env: { ODD: odd, XP_PLAIN: 'x' },
      cwd: process.cwd(),
      timeoutMs: 60_000,
      memMb: 256,
    });
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(3);
    expect(result.reason).toBe('script exited with status 3');
    expect(result.output).toBe(`${odd}\n${process.cwd()}\nsees-project\nto-stderr\n`);
    expect(result.log).toMatch(/xenplan-uml [\d.]+s: scenario exited with status 3/);
    expect(existsSync(result.workDir)).toBe(false);
    expect(processesNaming(result.workDir)).toEqual([]);
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(result.workDir);
  }, 120_000);

  it('kills UML on a timeout, reports it and leaves no process or work dir', async () => {
    const result = await runInUml({
      script: 'echo started; sleep 600; echo never',
      timeoutMs: 12_000,
      memMb: 256,
    });
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(-1);
    expect(result.reason).toMatch(/^UML run timed out after 12000 ms/);
    expect(result.durationMs).toBeGreaterThanOrEqual(12_000);
    expect(result.durationMs).toBeLessThan(30_000);
    expect(existsSync(result.workDir)).toBe(false);
    expect(processesNaming(result.workDir)).toEqual([]);
  }, 120_000);

  it('rejects env names that are not shell identifiers', async () => {
    await expect(runInUml({ script: 'true', env: { 'A-B': '1' } })).rejects.toThrow(
      'UML env name "A-B" is not a shell identifier',
    );
  });
});
