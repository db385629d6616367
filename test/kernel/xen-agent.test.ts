/**
 * The resident agent under a real toolstack (one VM boot): dom0 gets xenplan with
 * `xenplan install --agent`, exactly as an admin would; dom0 runs no systemd (README, the test
 * bed), so the agent is started the way its unit starts it (the unit's own ExecStart line).
 * Guests from `xl create` get their vifs through the installed launcher.
 *
 * Which path served an event is made visible without any hook in the product: xl passes its
 * environment to the hotplug scripts it runs, and with XENPLAN_NODE=/bin/false the launcher's
 * cold path can only fail; so an event that ends connected under it was served by the agent.
 *
 * The kill is made deterministic with signals: the agent is stopped (SIGSTOP), an event is
 * started, and once the launcher has handed the event over (the request sits unread in the
 * agent's socket) the agent is killed (SIGKILL). The launcher then runs the cold path itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderGuestConfig } from '../../src/lab/vm/guest.ts';
import { quoteShell } from '../../src/lab/vm/shell.ts';
import { BUNDLE } from '../support/bundle.ts';
import { bootVm, parseSections, requireVm, type XenVm } from '../support/vm.ts';

const ok = requireVm('the agent tests');

const KEYS = 'bridge=xenbr0 bond=bond0 slaves=eth0,eth1 bond-mode=active-backup stp=off forward-delay=0';
const UNIT = '/etc/systemd/system/xenplan-agent.service';

/** Shell functions: console_of, wait_guest, pings_ok (as in xen.test.ts), and the agent's. */
const HELPERS = `
section() { echo "@@$1"; }
console_of() { tr -d '\\r' < "/var/log/xen/console/guest-$1.log" 2>/dev/null; }
wait_guest() {
  i=0
  while [ $i -lt 90 ]; do
    console_of "$1" | grep -q '^@@guest up' && { console_of "$1" | grep '^@@guest up'; return 0; }
    sleep 1; i=$((i + 1))
  done
  echo "no @@guest up from $1"; return 1
}
pings_ok() { # guest target count
  i=0
  while [ $i -lt 60 ]; do
    n=$(console_of "$1" | awk -v t="$2" '$1 == "@@ping" && $2 == t { if ($3 == "ok") n++; else n = 0 } END { print n + 0 }')
    [ "$n" -ge "$3" ] && { echo ok; return 0; }
    sleep 1; i=$((i + 1))
  done
  echo "fail: $(console_of "$1" | grep "^@@ping $2 " | tail -1)"; return 1
}
# The agent as its unit starts it: the ExecStart line, in the background, its pid kept.
start_agent() {
  old=$(cat /run/xenplan/agent 2>/dev/null || true)
  cmd=$(sed -n 's/^ExecStart=//p' ${UNIT})
  $cmd > /tmp/agent.log 2>&1 < /dev/null &
  echo $! > /tmp/agent.pid
  i=0
  while [ $i -lt 600 ]; do
    new=$(cat /run/xenplan/agent 2>/dev/null || true)
    [ -n "$new" ] && [ "$new" != "$old" ] && { echo started; return 0; }
    sleep 0.1; i=$((i + 1))
  done
  echo "agent did not start: $(cat /tmp/agent.log)"; return 1
}
# A vif's state: hotplug-status and the bridge it is in.
vif_state() { # domain devid
  d=$(xl domid "$1")
  echo "$(xenstore-read /local/domain/0/backend/vif/$d/$2/hotplug-status) $(basename "$(readlink /sys/class/net/vif$d.$2/master)")"
}
devid_of() { # domain mac
  xl network-list "$1" | awk -v m="$2" '$3 == m { print $1 }'
}
`;

describe.runIf(ok)('the agent under xl: installed with install --agent, killed mid-event', () => {
  let vm: XenVm;
  const config = (name: string, mac: string, ip: string, ping: string[]) => {
    const vifs = [[`mac=${mac}`, 'bridge=xenbr0', 'script=vif-xenplan']];
    const spec = { name, vifs, ping, gateway: '192.0.2.1', ip: `${ip}/24` };
    return `printf '%s' ${quoteShell(renderGuestConfig(spec, vm.guestKernel, vm.guestInitramfs))} > /tmp/${name}.cfg`;
  };
  const job = async (script: string, timeoutMs = 300_000) => {
    const r = await vm.run(`${HELPERS}\n${script}`, { timeoutMs });
    return { ...r, s: parseSections(r.output) };
  };

  beforeAll(async () => {
    vm = await bootVm('xen-agent');
    const r = await job(`
set -e
mkdir -p /var/log/xen; : > /var/log/xen/xen-hotplug.log
section install; node ${quoteShell(BUNDLE)} install --agent | tail -3
section layout; head -1 /etc/xen/scripts/vif-xenplan; readlink /etc/xen/scripts/network-xenplan /etc/xen/scripts/vif-xenplan-route
ip address add 192.0.2.11/24 dev eth0
ip link set eth0 up
ip route add default via 192.0.2.1
section network; /etc/xen/scripts/network-xenplan start ${KEYS}
section agent; start_agent
`);
    expect(r.exitCode, r.output).toBe(0);
    // No systemd in this dom0: install says so and names the unit's command.
    expect(r.s.get('install'), r.output).toContain('systemd does not run here');
    expect(r.s.get('layout')).toBe('#!/bin/bash\nxenplan.cjs\nvif-xenplan');
    expect(r.s.get('agent')).toBe('started');
  });
  afterAll(async () => {
    await vm?.close();
  });

  it('xl create through the launcher: the agent serves both guests (the cold path could only fail), they ping', async () => {
    const r = await job(`
${config('g1', '00:16:3e:00:00:21', '192.0.2.41', ['192.0.2.1', '192.0.2.42'])}
${config('g2', '00:16:3e:00:00:22', '192.0.2.42', ['192.0.2.1', '192.0.2.41'])}
export XENPLAN_NODE=/bin/false
xl create /tmp/g1.cfg > /tmp/g1.out 2>&1 & a=$!
xl create /tmp/g2.cfg > /tmp/g2.out 2>&1 & b=$!
wait $a; ra=$?; wait $b; rb=$?
section created; echo "$ra $rb"
section g1; vif_state g1 0
section g2; vif_state g2 0
section up1; wait_guest g1
section up2; wait_guest g2
section g1-g2; pings_ok g1 192.0.2.42 3
section g2-gw; pings_ok g2 192.0.2.1 3
`);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.s.get('created'), r.output).toBe('0 0');
    expect(r.s.get('g1')).toBe('connected xenbr0');
    expect(r.s.get('g2')).toBe('connected xenbr0');
    expect(r.s.get('g1-g2'), r.output).toBe('ok');
    expect(r.s.get('g2-gw'), r.output).toBe('ok');
  });

  it('agent SIGKILLed after the launcher handed it an event: the cold path ends that event; later events fall back; a restarted agent serves again', async () => {
    const r = await job(`
port=$(cut -d' ' -f1 /run/xenplan/agent)
pid=$(cat /tmp/agent.pid)
kill -STOP $pid
xl network-attach g1 mac=00:16:3e:00:02:01 bridge=xenbr0 script=vif-xenplan > /tmp/attach1.out 2>&1 & a=$!
# Handed over: the launcher's request sits unread in the stopped agent's socket.
i=0
while [ $i -lt 600 ]; do
  q=$(ss -Htn state established "( sport = :$port )" | awk '{ s += $1 } END { print s + 0 }')
  [ "$q" -gt 0 ] && break
  sleep 0.1; i=$((i + 1))
done
section handed; [ "$q" -gt 0 ] && echo yes || echo "no (ss: $(ss -tn))"
kill -KILL $pid
wait $a; echo "attach1 rc=$?" >> /tmp/attach1.out
section attach1; tail -1 /tmp/attach1.out
section vif1; vif_state g1 $(devid_of g1 00:16:3e:00:02:01)
section stale; [ -f /run/xenplan/agent ] && echo "file left" || echo "no file"
# While it is gone: the launcher falls back to the cold path.
xl network-attach g1 mac=00:16:3e:00:02:02 bridge=xenbr0 script=vif-xenplan > /tmp/attach2.log 2>&1; echo "rc=$?" > /tmp/attach2.out
section attach2; cat /tmp/attach2.out
section vif2; vif_state g1 $(devid_of g1 00:16:3e:00:02:02)
# The control of this file's proof: with no agent, XENPLAN_NODE=/bin/false (passed on by xl)
# leaves the launcher nothing that works, and the guest cannot start.
${config('ctl', '00:16:3e:00:00:29', '192.0.2.49', ['192.0.2.1'])}
XENPLAN_NODE=/bin/false xl create /tmp/ctl.cfg > /tmp/ctl.log 2>&1; echo "rc=$?" > /tmp/ctl.out
section control; cat /tmp/ctl.out; xl list | awk '{ print $1 }' | grep -c '^ctl$' || true
# Back (as systemd's Restart= would): served by the agent again, cold path unusable.
section restart; start_agent
XENPLAN_NODE=/bin/false xl network-attach g1 mac=00:16:3e:00:02:03 bridge=xenbr0 script=vif-xenplan > /tmp/attach3.log 2>&1; echo "rc=$?" > /tmp/attach3.out
section attach3; cat /tmp/attach3.out
section vif3; vif_state g1 $(devid_of g1 00:16:3e:00:02:03)
section gw; pings_ok g1 192.0.2.1 3
section logs; cat /tmp/attach1.out /tmp/attach2.log /tmp/ctl.log /tmp/attach3.log /tmp/agent.log; tail -20 /var/log/xen/xen-hotplug.log
`);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.s.get('handed'), r.output).toBe('yes');
    expect(r.s.get('attach1'), r.output).toBe('attach1 rc=0');
    expect(r.s.get('vif1'), r.output).toBe('connected xenbr0');
    expect(r.s.get('stale')).toBe('file left');
    expect(r.s.get('attach2'), r.output).toBe('rc=0');
    expect(r.s.get('vif2')).toBe('connected xenbr0');
    expect(r.s.get('control'), r.output).toMatch(/^rc=[1-9][0-9]*\n0$/);
    expect(r.s.get('restart')).toBe('started');
    expect(r.s.get('attach3'), r.output).toBe('rc=0');
    expect(r.s.get('vif3')).toBe('connected xenbr0');
    expect(r.s.get('gw')).toBe('ok');
  });

  it('xl destroy through the agent, then the agent stops and uninstall removes everything install put there', async () => {
    const r = await job(`
XENPLAN_NODE=/bin/false xl destroy g1; XENPLAN_NODE=/bin/false xl destroy g2
section vifs; ls /sys/class/net | grep -c '^vif' || true
section offline; grep -c 'vif-script offline' /var/log/xen/xen-hotplug.log
kill -TERM $(cat /tmp/agent.pid)
i=0; while [ -f /run/xenplan/agent ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
section file; [ -f /run/xenplan/agent ] && echo left || echo gone
section uninstall; node ${quoteShell(BUNDLE)} uninstall 2>&1
section left; ls /etc/xen/scripts | grep -c xenplan || true; ls ${UNIT} 2>&1 | grep -c 'No such' || true
`);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.s.get('vifs'), r.output).toBe('0');
    // g1's own vif, the three attached to it, g2's: five offlines.
    expect(Number(r.s.get('offline')), r.output).toBe(5);
    expect(r.s.get('file')).toBe('gone');
    expect(r.s.get('uninstall')).toMatch(/^uninstalled: \d+ step\(s\) applied$/);
    expect(r.s.get('left')).toBe('0\n1');
  });
});
