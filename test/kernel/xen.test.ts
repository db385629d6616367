/**
 * vif-script under a real toolstack: Xen 4.17's xl and libxl, C xenstored and netback vifs in
 * dom0 of a real Xen host (QEMU), with the bundle installed by `xenplan install` as
 * /etc/xen/scripts/vif-xenplan, exactly as an admin would. dom0's uplink is the recommended
 * bond of its two NICs in xenbr0 (network-script start). Guests are PV domUs that report on
 * their console (the @@guest and @@ping lines of src/lab/vm/guest.ts).
 *
 * Not here: HVM guests and their tap devices (type_if=tap) need VMX/SVM, which this machine's
 * virtualisation lacks; they are tested with veths in test/integration/vif.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderGuestConfig } from '../../src/lab/vm/guest.ts';
import { quoteShell } from '../../src/lab/vm/shell.ts';
import { BUNDLE } from '../support/bundle.ts';
import { bootVm, GUEST_HELPERS, parseSections, requireVm, type XenVm } from '../support/vm.ts';

const ok = requireVm('the xl tests');

const KEYS =
  'bridge=xenbr0 bond=bond0 slaves=eth0,eth1 bond-mode=active-backup bond.primary=eth0 stp=off forward-delay=0';

describe.runIf(ok)('vif-xenplan under xl, with real netback vifs', () => {
  let vm: XenVm;
  /** Writes an xl config in dom0 and returns the shell line that does it. */
  const config = (name: string, vifs: string[][], ip?: string, ping: string[] = ['192.0.2.1']) => {
    const spec = { name, vifs, ping, gateway: '192.0.2.1', ...(ip ? { ip: `${ip}/24` } : {}) };
    return `printf '%s' ${quoteShell(renderGuestConfig(spec, vm.guestKernel, vm.guestInitramfs))} > /tmp/${name}.cfg`;
  };
  const job = async (script: string, timeoutMs = 240_000) => {
    const r = await vm.run(`${GUEST_HELPERS}\n${script}`, { timeoutMs });
    return { ...r, s: parseSections(r.output) };
  };

  beforeAll(async () => {
    vm = await bootVm('xen');
    const r = await job(`
set -e
# dom0's root overlays the host's /: start from an empty hotplug log (the host's own log, if
# any, shows through), so the counts below are this run's events only.
mkdir -p /var/log/xen; : > /var/log/xen/xen-hotplug.log
node ${quoteShell(BUNDLE)} install > /dev/null
ip address add 192.0.2.11/24 dev eth0
ip link set eth0 up
ip route add default via 192.0.2.1
/etc/xen/scripts/network-xenplan start ${KEYS}
`);
    expect(r.exitCode, r.output).toBe(0);
  });
  afterAll(async () => {
    await vm?.close();
  });

  it('xl create starts two guests at once: both vifs connected in xenbr0, the guests reach the gateway and each other', async () => {
    const vif = (mac: string) => [`mac=${mac}`, 'bridge=xenbr0', 'script=vif-xenplan'];
    const r = await job(`
${config('g1', [vif('00:16:3e:00:00:11')], '192.0.2.31', ['192.0.2.1', '192.0.2.32'])}
${config('g2', [vif('00:16:3e:00:00:12')], '192.0.2.32', ['192.0.2.1', '192.0.2.31'])}
xl create /tmp/g1.cfg > /tmp/g1.out 2>&1 & a=$!
xl create /tmp/g2.cfg > /tmp/g2.out 2>&1 & b=$!
wait $a; ra=$?; wait $b; rb=$?
section created; echo "$ra $rb"
for g in g1 g2; do
  d=$(xl domid $g)
  section "$g-status"; xenstore-read /local/domain/0/backend/vif/$d/0/hotplug-status
  section "$g-up"; wait_guest $g
  # after the guest's netfront connected, so the vif has carrier
  section "$g-vif"; echo "$(basename "$(readlink /sys/class/net/vif$d.0/master)") $(cat /sys/class/net/vif$d.0/address) $(cat /sys/class/net/vif$d.0/operstate)"
  section "$g-parent"; basename "$(readlink /sys/class/net/vif$d.0/device)"
done
section g1-gw; pings_ok g1 192.0.2.1 3
section g1-g2; pings_ok g1 192.0.2.32 3
section g2-gw; pings_ok g2 192.0.2.1 3
section g2-g1; pings_ok g2 192.0.2.31 3
section log; grep -c 'vif-script online' /var/log/xen/xen-hotplug.log
`);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.s.get('created'), r.output).toBe('0 0');
    for (const [g, mac] of [
      ['g1', '00:16:3e:00:00:11'],
      ['g2', '00:16:3e:00:00:12'],
    ]) {
      expect(r.s.get(`${g}-status`)).toBe('connected');
      expect(r.s.get(`${g}-vif`)).toBe('xenbr0 fe:ff:ff:ff:ff:ff up');
      expect(r.s.get(`${g}-parent`)).toMatch(/^vif-\d+-0$/);
      expect(r.s.get(`${g}-up`)).toBe(`@@guest up ${mac} mtu 1500`);
    }
    for (const pair of ['g1-gw', 'g1-g2', 'g2-gw', 'g2-g1'])
      expect(r.s.get(pair), `${pair}\n${r.output}`).toBe('ok');
    expect(r.s.get('log')).toBe('2');
    // From outside: the gateway reaches both guests through the switches and the bond.
    for (const ip of ['192.0.2.31', '192.0.2.32'])
      expect(vm.hostCommand(['ping', '-c', '2', '-W', '3', ip]).status, ip).toBe(0);
  });

  it('vifname and the mtu key: the vif takes the name and MTU xl gives it, and the guest sees that MTU', async () => {
    const r = await job(`
${config('g3', [['mac=00:16:3e:00:00:13', 'bridge=xenbr0', 'vifname=web0', 'mtu=1400', 'script=vif-xenplan']], '192.0.2.33')}
xl create /tmp/g3.cfg; echo "rc=$?"
d=$(xl domid g3)
section backend; xenstore-read /local/domain/0/backend/vif/$d/0/vifname /local/domain/0/backend/vif/$d/0/mtu /local/domain/0/backend/vif/$d/0/hotplug-status
section frontend-mtu; xenstore-read /local/domain/$d/device/vif/0/mtu
section vif; echo "$(basename "$(readlink /sys/class/net/web0/master)") $(cat /sys/class/net/web0/mtu) $(cat /sys/class/net/web0/address)"
section kernel-name; ls /sys/class/net | grep -c "^vif$d\\.0$" || true
section up; wait_guest g3
section gw; pings_ok g3 192.0.2.1 3
section destroy; xl destroy g3; echo "rc=$?"; ls /sys/class/net | grep -c '^web0$' || true
`);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.s.get('backend'), r.output).toBe('web0\n1400\nconnected');
    expect(r.s.get('vif')).toBe('xenbr0 1400 fe:ff:ff:ff:ff:ff');
    expect(r.s.get('kernel-name')).toBe('0');
    // The frontend's mtu key, at the frontend's real path (Xen's vif-bridge builds that path
    // from the vifname and writes under /local/domain/web0/...).
    expect(r.s.get('frontend-mtu')).toBe('1400');
    // Linux 6.1's netfront does not read that key (Windows PV drivers do): the guest keeps 1500.
    expect(r.s.get('up')).toBe('@@guest up 00:16:3e:00:00:13 mtu 1500');
    expect(r.s.get('gw')).toBe('ok');
    expect(r.s.get('destroy')).toBe('rc=0\n0');
  });

  it('xl network-attach and network-detach, three times over: each vif joins the bridge and leaves it', async () => {
    const r = await job(`
for i in 1 2 3; do
  xl network-attach g1 mac=00:16:3e:00:01:0$i bridge=xenbr0 script=vif-xenplan; echo "attach rc=$?"
  d=$(xl domid g1)
  dev=$(xl network-list g1 | awk -v m=00:16:3e:00:01:0$i '$3 == m { print $1 }')
  echo "devid=$dev master=$(basename "$(readlink /sys/class/net/vif$d.$dev/master)") status=$(xenstore-read /local/domain/0/backend/vif/$d/$dev/hotplug-status)"
  xl network-detach g1 $dev; echo "detach rc=$?"
  i2=0; while [ -e /sys/class/net/vif$d.$dev ] && [ $i2 -lt 50 ]; do sleep 0.2; i2=$((i2 + 1)); done
  echo "gone=$([ -e /sys/class/net/vif$d.$dev ] && echo no || echo yes)"
done
section ports; bridge link | awk '{ print $2 }' | tr -d : | sort | tr '\\n' ' '; echo
section domids; echo "$(xl domid g1) $(xl domid g2)"
`);
    expect(r.exitCode, r.output).toBe(0);
    const lines = r.output.split('\n');
    expect(
      lines.filter((l) => l === 'attach rc=0'),
      r.output,
    ).toHaveLength(3);
    expect(lines.filter((l) => l === 'detach rc=0')).toHaveLength(3);
    expect(lines.filter((l) => l === 'gone=yes')).toHaveLength(3);
    expect(
      lines.filter((l) => /^devid=\d+ master=xenbr0 status=connected$/.test(l)),
      r.output,
    ).toHaveLength(3);
    const [g1, g2] = r.s.get('domids')?.split(' ') ?? [];
    expect(r.s.get('ports')?.trim().split(' ')).toEqual(['bond0', `vif${g1}.0`, `vif${g2}.0`].sort());
  });

  it("a vif on a missing bridge: xl create fails within seconds, with vif-xenplan's reason in its message", async () => {
    const r = await job(`
${config('lost', [['mac=00:16:3e:00:00:19', 'bridge=nosuch0', 'script=vif-xenplan']])}
t0=$(date +%s.%N)
xl create /tmp/lost.cfg; echo "rc=$?"
t1=$(date +%s.%N)
section seconds; echo "$t1 - $t0" | bc 2>/dev/null || awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
section left; xl list | awk '{ print $1 }' | grep -c '^lost$' || true
`);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toMatch(/\nrc=[1-9]\d*\n/);
    expect(r.output).toMatch(
      /libxl: error: libxl_device\.c:\d+:device_hotplug_child_death_cb: script: bridge nosuch0 does not exist; bridges here: xenbr0/,
    );
    // libxl would kill a silent script after 40 s, xend would wait 100 s: this is the guest
    // build (slow under TCG) plus one vif-script run.
    expect(Number(r.s.get('seconds'))).toBeLessThan(40);
    expect(r.s.get('left')).toBe('0');
  });

  it("Xen's own vif-bridge attaches a guest the same way (the baseline the benchmark compares with)", async () => {
    const r = await job(`
${config('g4', [['mac=00:16:3e:00:00:14', 'bridge=xenbr0', 'script=vif-bridge']], '192.0.2.34')}
xl create /tmp/g4.cfg; echo "rc=$?"
d=$(xl domid g4)
section status; xenstore-read /local/domain/0/backend/vif/$d/0/hotplug-status
section vif; echo "$(basename "$(readlink /sys/class/net/vif$d.0/master)") $(cat /sys/class/net/vif$d.0/address)"
section up; wait_guest g4
section gw; pings_ok g4 192.0.2.1 3
section destroy; xl destroy g4; echo "rc=$?"
`);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.s.get('status'), r.output).toBe('connected');
    expect(r.s.get('vif')).toBe('xenbr0 fe:ff:ff:ff:ff:ff');
    expect(r.s.get('up'), r.output).toBe('@@guest up 00:16:3e:00:00:14 mtu 1500');
    expect(r.s.get('gw')).toBe('ok');
    expect(r.s.get('destroy')).toBe('rc=0');
  });

  it('xl destroy: the vifs leave the bridge, vif-script offline ran for each, network-script stop restores dom0', async () => {
    const r = await job(`
xl destroy g1; xl destroy g2
section vifs; ls /sys/class/net | grep -c '^vif' || true
section offline; grep -c 'vif-script offline' /var/log/xen/xen-hotplug.log
section stop; /etc/xen/scripts/network-xenplan stop ${KEYS}; echo "rc=$?"
section addr; ip -br address show dev eth0 | awk '{ print $3 }'
section links; ls /sys/class/net | grep -v bonding_masters | tr '\\n' ' '
`);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.s.get('vifs')).toBe('0');
    // g1, g2, web0 (g3), the three attached vifs of g1, and the failed guest's vif (libxl runs
    // offline to clean up after a failed online): seven offlines by vif-xenplan.
    expect(Number(r.s.get('offline')), r.output).toBe(7);
    expect(r.s.get('stop')).toMatch(/^xenbr0: \d+ step\(s\) undone; what start created is gone\nrc=0$/);
    expect(r.s.get('addr')).toBe('192.0.2.11/24');
    expect(r.s.get('links')?.trim()).toBe('eth0 eth1 lo');
  });
});
