/**
 * VLANs over the bond and Open vSwitch guest ports in dom0 of a real Xen host (QEMU): the
 * kernel objects this machine's kernel lacks (802.1Q, openvswitch) are in dom0's. dom0 gets a
 * third NIC, eth2, on its own switch up to the same upstream bridge as eth0 and eth1; a
 * VLAN 100 and a VLAN 200 "gateway" sit behind it, each an 802.1Q device of eth2 in a
 * namespace of its own. Each gateway also holds an address of the other VLAN's subnet, so a
 * frame leaking into the wrong VLAN would get an answer: isolation is a ping that fails.
 *
 *   gw100: 198.51.100.1/24 (its own), 203.0.113.2/24 (bait for VLAN 200 traffic)
 *   gw200: 203.0.113.1/24 (its own), 198.51.100.2/24 (bait for VLAN 100 traffic)
 *
 * Guests on OVS are veths named as netback names vifs (the other end in a namespace), with
 * the backend keys libxl writes in the real xenstored: vif-xenplan-ovs is run as libxl runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteShell } from '../../src/lab/vm/shell.ts';
import { BUNDLE } from '../support/bundle.ts';
import { parseSections, requireVm, SCENARIO_PRELUDE, VLAN_GATEWAYS, XenVm } from '../support/vm.ts';

const ok = requireVm('the vif modes kernel tests');

const KEYS =
  'bridge=xenbr0 bond=bond0 slaves=eth0,eth1 bond-mode=active-backup bond.primary=eth0 stp=off forward-delay=0 vlans=100,200';

const HELPERS = `${SCENARIO_PRELUDE}
NS=/etc/xen/scripts/network-xenplan
OVS=/etc/xen/scripts/vif-xenplan-ovs
# runs a one-ping command until it succeeds, 20 tries
reaches() { i=0; while [ $i -lt 20 ]; do "$@" >/dev/null 2>&1 && { echo ok; return 0; }; i=$((i + 1)); done; echo fail; }
# the same, expecting no answer: 3 tries
isolated() { i=0; while [ $i -lt 3 ]; do "$@" >/dev/null 2>&1 && { echo reached; return 1; }; i=$((i + 1)); done; echo isolated; }
# runs vif-xenplan-ovs for vifD.0 as libxl does
ovs() { d=$1; shift; env script=$OVS XENBUS_TYPE=vif XENBUS_PATH=backend/vif/$d/0 XENBUS_BASE_PATH=backend netdev= vif=vif$d.0 $OVS "$@"; echo "rc=$?"; }
`;

interface IpLink {
  ifname: string;
  master?: string;
  address?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number } };
}

describe.runIf(ok)('VLANs over the bond and Open vSwitch guests on a real Xen dom0', () => {
  let vm: XenVm;
  const job = async (script: string, timeoutMs = 600_000) => {
    const r = await vm.run(`${HELPERS}\n${script}`, { timeoutMs });
    return { ...r, s: parseSections(r.output) };
  };

  beforeAll(async () => {
    vm = await XenVm.boot({ nics: 3, say: (line) => console.info(`[vif-modes] ${line}`) });
    const r = await job(`
set -e
node ${quoteShell(BUNDLE)} install > /dev/null
modprobe 8021q
modprobe openvswitch
${VLAN_GATEWAYS}
`);
    expect(r.exitCode, r.output).toBe(0);
  }, 1_800_000);
  afterAll(async () => {
    await vm?.close();
  });

  it('vlans=100,200 over the bond: each VLAN reaches its own gateway only; a second start plans nothing; stop leaves nothing', async () => {
    const { s, output } = await job(`
section start; run $NS start ${KEYS}
section second; run $NS start ${KEYS} --dry-run --json
section links; ip -j -d link show
ip address add 198.51.100.10/24 dev xenbr100
ip address add 203.0.113.10/24 dev xenbr200
section own100; reaches ping -c 1 -W 1 -I xenbr100 198.51.100.1
section own200; reaches ping -c 1 -W 1 -I xenbr200 203.0.113.1
section leak100; isolated ping -c 1 -W 1 -I xenbr100 198.51.100.2
section leak200; isolated ping -c 1 -W 1 -I xenbr200 203.0.113.2
section stop; run $NS stop
section after; ls /sys/class/net
`);
    expect(s.get('start'), output).toMatch(/rc=0$/);
    const second = JSON.parse(s.get('second')?.replace(/\nrc=0$/, '') ?? '{}');
    expect(second.steps, output).toEqual([]);
    const links = new Map((JSON.parse(s.get('links') ?? '[]') as IpLink[]).map((l) => [l.ifname, l]));
    for (const vid of [100, 200]) {
      expect(links.get(`bond0.${vid}`)?.linkinfo?.info_kind).toBe('vlan');
      expect(links.get(`bond0.${vid}`)?.linkinfo?.info_data?.id).toBe(vid);
      expect(links.get(`bond0.${vid}`)?.master).toBe(`xenbr${vid}`);
    }
    expect(links.get('bond0')?.master).toBe('xenbr0');
    // Each VLAN bridge is pinned to its VLAN device's MAC (the bond's), as xenbr0 is: no BR001.
    for (const vid of [100, 200]) expect(links.get(`xenbr${vid}`)?.address).toBe(links.get('bond0')?.address);
    expect(
      (second.findings as { id: string; message: string }[]).filter((f) => f.id === 'BR001'),
      output,
    ).toEqual([]);
    expect(s.get('own100'), output).toBe('ok');
    expect(s.get('own200'), output).toBe('ok');
    expect(s.get('leak100'), output).toBe('isolated');
    expect(s.get('leak200'), output).toBe('isolated');
    expect(s.get('stop'), output).toMatch(/rc=0$/);
    const after = (s.get('after') ?? '').split(/\s+/);
    for (const gone of ['bond0', 'bond0.100', 'bond0.200', 'xenbr0', 'xenbr100', 'xenbr200'])
      expect(after).not.toContain(gone);
  }, 900_000);

  it('Open vSwitch: an access port reaches only its VLAN, a trunk port both; online again plans nothing; offline leaves no port', async () => {
    const { s, output } = await job(`
set -e
mkdir -p /etc/openvswitch /var/run/openvswitch /var/log/openvswitch
ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server /etc/openvswitch/conf.db --remote=punix:/var/run/openvswitch/db.sock --pidfile --detach --log-file
ovs-vsctl --no-wait init
/usr/lib/openvswitch-switch/ovs-vswitchd --pidfile --detach --log-file
ovs-vsctl --timeout=120 add-br ovsbr0 -- add-port ovsbr0 eth0
ip link set eth0 up
ip link set ovsbr0 up
for d in 9 10; do
  ip netns add g$d
  ip link add vif$d.0 type veth peer name eth0 netns g$d
  ip -n g$d link set lo up
  ip -n g$d link set eth0 up
done
ip -n g9 address add 198.51.100.9/24 dev eth0
for v in 100 200; do
  ip -n g10 link add link eth0 name eth0.$v type vlan id $v
  ip -n g10 link set eth0.$v up
done
ip -n g10 address add 198.51.100.20/24 dev eth0.100
ip -n g10 address add 203.0.113.20/24 dev eth0.200
xenstore-write backend/vif/9/0/frontend /local/domain/9/device/vif/0 backend/vif/9/0/mac 00:16:3e:00:09:00 backend/vif/9/0/bridge ovsbr0.100 backend/vif/9/0/script $OVS
xenstore-write backend/vif/10/0/frontend /local/domain/10/device/vif/0 backend/vif/10/0/mac 00:16:3e:00:0a:00 backend/vif/10/0/bridge ovsbr0:100:200 backend/vif/10/0/script $OVS
set +e
section online9; ovs 9 online type_if=vif
section online10; ovs 10 online type_if=vif
section status9; xenstore-read backend/vif/9/0/hotplug-status
section tag9; ovs-vsctl get port vif9.0 tag
section trunks10; ovs-vsctl get port vif10.0 trunks
section access-own; reaches ip netns exec g9 ping -c 1 -W 1 198.51.100.1
section access-leak; isolated ip netns exec g9 ping -c 1 -W 1 198.51.100.2
section trunk100; reaches ip netns exec g10 ping -c 1 -W 1 -I eth0.100 198.51.100.1
section trunk200; reaches ip netns exec g10 ping -c 1 -W 1 -I eth0.200 203.0.113.1
section second9; ovs 9 online type_if=vif --dry-run --json
section offline9; ovs 9 offline type_if=vif
section offline10; ovs 10 offline type_if=vif
section ports; ovs-vsctl list-ports ovsbr0
`);
    expect(s.get('online9'), output).toMatch(/rc=0$/);
    expect(s.get('online10'), output).toMatch(/rc=0$/);
    expect(s.get('status9'), output).toBe('connected');
    expect(s.get('tag9'), output).toBe('100');
    expect(s.get('trunks10'), output).toBe('[100, 200]');
    expect(s.get('access-own'), output).toBe('ok');
    expect(s.get('access-leak'), output).toBe('isolated');
    expect(s.get('trunk100'), output).toBe('ok');
    expect(s.get('trunk200'), output).toBe('ok');
    const second = JSON.parse(s.get('second9')?.replace(/\nrc=0$/, '') ?? '{}');
    expect(second.steps, output).toEqual([]);
    expect(s.get('offline9'), output).toMatch(/rc=0$/);
    expect(s.get('offline10'), output).toMatch(/rc=0$/);
    expect(s.get('ports'), output).toBe('eth0');
  }, 900_000);

  it('Open vSwitch with vif-antispoof=ip: a guest with ip sends from its address only (netdev table, counted); a filtered trunk is refused; offline removes the chain', async () => {
    const { s, output } = await job(`
set -e
ip netns add g11
ip link add vif11.0 type veth peer name eth0 netns g11
ip -n g11 link set eth0 address 00:16:3e:00:0b:00
ip -n g11 link set lo up
ip -n g11 link set eth0 up
ip -n g11 address add 198.51.100.11/24 dev eth0
ip -n g11 address add 198.51.100.99/24 dev eth0
ip link add vif12.0 type veth peer name p12
xenstore-write backend/vif/11/0/frontend /local/domain/11/device/vif/0 backend/vif/11/0/mac 00:16:3e:00:0b:00 backend/vif/11/0/bridge ovsbr0.100 backend/vif/11/0/ip 198.51.100.11 backend/vif/11/0/script $OVS
xenstore-write backend/vif/12/0/frontend /local/domain/12/device/vif/0 backend/vif/12/0/mac 00:16:3e:00:0c:00 backend/vif/12/0/bridge ovsbr0:100:200 backend/vif/12/0/ip 198.51.100.12 backend/vif/12/0/script $OVS
set +e
section online11; ovs 11 online type_if=vif
section chain11; nft list chain netdev xenplan guest-vif11.0 | grep -c 'hook ingress device "vif11.0"'
section own; reaches ip netns exec g11 ping -c 1 -W 1 -I 198.51.100.11 198.51.100.1
section spoofed; isolated ip netns exec g11 ping -c 1 -W 1 -I 198.51.100.99 198.51.100.1
section status; node ${quoteShell(BUNDLE)} antispoof status --json
section online12; ovs 12 online type_if=vif
section error12; xenstore-read backend/vif/12/0/hotplug-error
section port12; ovs-vsctl list-ports ovsbr0 | grep -c vif12.0
section second11; ovs 11 online type_if=vif --dry-run --json
section offline11; ovs 11 offline type_if=vif
section table; nft list table netdev xenplan
`);
    expect(s.get('online11'), output).toMatch(/rc=0$/);
    expect(s.get('chain11'), output).toBe('1');
    expect(s.get('own'), output).toBe('ok');
    expect(s.get('spoofed'), output).toBe('isolated');
    const status = JSON.parse(s.get('status') ?? '{}') as {
      guests: { vif: string; family: string; mapped: boolean; dropped: Record<string, number> }[];
    };
    const g11 = status.guests.find((g) => g.vif === 'vif11.0');
    expect([g11?.family, g11?.mapped], output).toEqual(['netdev', true]);
    // The spoofed ping's packets (ipv4), or its ARP if the neighbour had expired (arp-ip).
    expect((g11?.dropped.ipv4 ?? 0) + (g11?.dropped['arp-ip'] ?? 0), output).toBeGreaterThan(0);
    expect(s.get('online12'), output).toMatch(/rc=1$/);
    expect(s.get('error12'), output).toMatch(
      /^vif-antispoof=ip filters vif12\.0, which carries tagged VLANs 100,200; /,
    );
    expect(s.get('port12'), output).toBe('0');
    expect(JSON.parse(s.get('second11')?.replace(/\nrc=0$/, '') ?? '{}').steps, output).toEqual([]);
    expect(s.get('offline11'), output).toMatch(/rc=0$/);
    expect(s.get('table'), output).not.toContain('vif11.0');
  }, 900_000);
});
