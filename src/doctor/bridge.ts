import type { Finding } from '../model/finding.ts';
import { type BridgeFacts, type Facts, isXenVif } from './facts.ts';
import { listNames, makeFinding, type Rule } from './rule.ts';

/** Bridge: BR001-004. */

/** The MAC Xen gives every vif so that the bridge never adopts a guest's MAC. */
export const XEN_DUMMY_MAC = 'fe:ff:ff:ff:ff:ff';

/** Centiseconds → seconds text, e.g. 900 → `9 s`. */
function seconds(cs: number): string {
  return `${Number((cs / 100).toFixed(2))} s`;
}

/** The bridge's uplinks: ports that are not Xen vifs nor the netloop vif. */
function uplinksOf(facts: Facts, bridge: BridgeFacts): string[] {
  const dom0 = facts.input.desired?.dom0;
  const netloopVif = dom0?.kind === 'netloop' ? dom0.vif : undefined;
  return bridge.ports.filter((p) => !isXenVif(p) && p !== netloopVif);
}

const bridgeMacUnpinned: Rule = {
  id: 'BR001',
  name: 'bridge-mac-unpinned',
  summary: 'the live bridge MAC is not pinned to the uplink MAC, or a vif MAC could become the bridge MAC',
  severity: 'warning',
  check(facts) {
    const out: Finding[] = [];
    for (const bridge of facts.bridges) {
      const link = facts.links.get(bridge.name);
      if (link === undefined) continue;
      const uplink = uplinksOf(facts, bridge)
        .map((p) => facts.links.get(p))
        .find((l) => l?.mac !== undefined);
      const reasons: string[] = [];
      const objects = [bridge.name];
      if (link.macPinned === false)
        reasons.push(`${bridge.name}'s MAC ${link.mac ?? '?'} was not set by user space`);
      if (
        uplink?.bond !== undefined &&
        link.mac !== undefined &&
        link.mac.toLowerCase() !== uplink.mac?.toLowerCase()
      ) {
        reasons.push(`${bridge.name}'s MAC ${link.mac} differs from ${uplink.name}'s ${uplink.mac}`);
        objects.push(uplink.name);
      }
      for (const port of bridge.ports.filter(isXenVif)) {
        const mac = facts.links.get(port)?.mac?.toLowerCase();
        if (mac === undefined || mac.startsWith('fe:') || uplink?.mac === undefined) continue;
        if (mac < uplink.mac.toLowerCase()) {
          reasons.push(`vif ${port} has MAC ${mac}, lower than ${uplink.name}'s ${uplink.mac}`);
          objects.push(port);
        }
      }
      if (reasons.length === 0) continue;
      const target = uplink?.mac ?? "<the first NIC's permanent MAC>";
      out.push(
        makeFinding(bridgeMacUnpinned, {
          message: `${listNames(reasons)}: an unpinned bridge takes the lowest port MAC, so dom0's MAC can change when vifs come and go (systemd >= 242 may also assign hash-based MACs to bridges and bonds)`,
          fix: `ip link set ${bridge.name} address ${target}; give vifs ${XEN_DUMMY_MAC}`,
          source:
            'net/bridge/br_stp_if.c br_stp_recalculate_bridge_id; xen xen-network-common.sh setup_bridge_port; systemd NEWS v242',
          objects,
        }),
      );
    }
    return out;
  },
};

const OWN_ADDRESS = /received packet on (\S+?):? with own address as source address/;

const loopOrDuplicateMac: Rule = {
  id: 'BR002',
  name: 'loop-or-duplicate-mac',
  summary: 'the kernel saw its own MAC come back in (loop), or bridge ports / the netloop veth share a MAC',
  severity: 'error',
  check(facts) {
    const out: Finding[] = [];
    const looped = new Set<string>();
    for (const line of facts.input.kernelLog ?? []) {
      const dev = OWN_ADDRESS.exec(line)?.[1];
      if (dev !== undefined) looped.add(dev);
    }
    for (const dev of looped) {
      out.push(
        makeFinding(loopOrDuplicateMac, {
          message: `the kernel logged "received packet on ${dev} with own address as source address": frames sourced here are coming back in through ${dev} (bond mode or switch loop); the bridge FDB is being poisoned`,
          fix: 'fix the bond mode (see BOND001/BOND002: bond-mode=active-backup with separate switches); check the switches for a loop',
          source: 'net/bridge/br_fdb.c br_fdb_update; net/bridge/br_forward.c should_deliver',
          objects: [dev],
        }),
      );
    }
    const dom0 = facts.input.desired?.dom0;
    const veth = dom0?.kind === 'netloop' ? dom0.veth : undefined;
    const vethMac =
      (veth === undefined ? undefined : facts.links.get(veth)?.mac) ??
      (dom0?.kind === 'netloop' ? dom0.mac : undefined);
    for (const bridge of facts.bridges) {
      const byMac = new Map<string, string[]>();
      for (const port of bridge.ports) {
        const mac = facts.links.get(port)?.mac?.toLowerCase();
        if (mac === undefined || mac === XEN_DUMMY_MAC) continue;
        byMac.set(mac, [...(byMac.get(mac) ?? []), port]);
      }
      if (veth !== undefined && vethMac !== undefined && !bridge.ports.includes(veth)) {
        const mac = vethMac.toLowerCase();
        if (byMac.has(mac)) byMac.set(mac, [...(byMac.get(mac) ?? []), veth]);
      }
      for (const [mac, devs] of byMac) {
        if (devs.length < 2) continue;
        out.push(
          makeFinding(loopOrDuplicateMac, {
            message: `${listNames(devs)} share MAC ${mac} on bridge ${bridge.name}: a MAC is duplicated, so the bridge FDB is poisoned`,
            fix:
              veth !== undefined && devs.includes(veth)
                ? `keep the real MAC on ${veth} and give the other ports ${XEN_DUMMY_MAC} (ip link set <port> address ${XEN_DUMMY_MAC})`
                : `give ports unique MACs, or ${XEN_DUMMY_MAC} for vifs`,
            source:
              'net/bridge/br_fdb.c br_fdb_update; xen tools/examples/network-bridge (pre-2007 netloop design)',
            objects: devs,
          }),
        );
      }
    }
    return out;
  },
};

const stpDelaysVifs: Rule = {
  id: 'BR003',
  name: 'stp-delays-vifs',
  summary: 'STP on with a forward delay blocks every new vif for 2 x forward delay',
  severity: 'warning',
  check(facts) {
    return facts.bridges
      .filter((b) => b.stp && b.forwardDelay > 0 && uplinksOf(facts, b).length <= 1)
      .map((b) =>
        makeFinding(stpDelaysVifs, {
          message: `${b.name} has STP on and forward delay ${seconds(b.forwardDelay)}: every new vif is blocked for 2 x forward delay (${seconds(2 * b.forwardDelay)}) before forwarding; guest DHCP/PXE may time out`,
          fix: `ip link set ${b.name} type bridge stp_state 0 forward_delay 0 (config: stp=off, forward-delay=0)`,
          source:
            'net/bridge/br_stp.c br_make_forwarding; xen xen-network-common.sh create_bridge; XenServer InterfaceReconfigureBridge.py (DELAY=0, STP=off)',
          objects: [b.name],
        }),
      );
  },
};

/** Kernel defaults in centiseconds (net/bridge/br_device.c). */
const DEFAULT_FORWARD_DELAY = 1500;
const DEFAULT_HELLO = 200;
const DEFAULT_MAX_AGE = 2000;

const stpTimers: Rule = {
  id: 'BR004',
  name: 'stp-timers',
  summary: 'STP timers customised with STP off (info), or invalid for 802.1D with STP on (error)',
  severity: 'info',
  check(facts) {
    const out: Finding[] = [];
    for (const b of facts.bridges) {
      const timers = `forward delay ${seconds(b.forwardDelay)}, hello ${seconds(b.helloTime ?? DEFAULT_HELLO)}, max age ${seconds(b.maxAge ?? DEFAULT_MAX_AGE)}`;
      if (!b.stp) {
        const custom =
          (b.forwardDelay !== 0 && b.forwardDelay !== DEFAULT_FORWARD_DELAY) ||
          (b.helloTime !== undefined && b.helloTime !== DEFAULT_HELLO) ||
          (b.maxAge !== undefined && b.maxAge !== DEFAULT_MAX_AGE);
        if (!custom) continue;
        out.push(
          makeFinding(stpTimers, {
            message: `${b.name} has STP off but customised timers (${timers}): STP timers are ignored with STP off on current kernels`,
            fix: `drop hello and max age and set forward delay 0 (ip link set ${b.name} type bridge forward_delay 0)`,
            source: 'net/bridge/br_stp.c; net/bridge/br_private_stp.h',
            objects: [b.name],
          }),
        );
        continue;
      }
      const fwd = b.forwardDelay / 100;
      const hello = (b.helloTime ?? DEFAULT_HELLO) / 100;
      const maxAge = (b.maxAge ?? DEFAULT_MAX_AGE) / 100;
      const problems: string[] = [];
      if (hello < 1 || hello > 10) problems.push('hello outside 1-10 s');
      if (fwd < 2 || fwd > 30) problems.push('forward delay outside 2-30 s');
      if (maxAge < 6 || maxAge > 40) problems.push('max age outside 6-40 s');
      if (!(2 * (fwd - 1) >= maxAge && maxAge >= 2 * (hello + 1)))
        problems.push('2 x (forward delay - 1) >= max age >= 2 x (hello + 1) does not hold');
      if (problems.length === 0) continue;
      out.push(
        makeFinding(stpTimers, {
          severity: 'error',
          message: `${b.name} has STP on with timers invalid for 802.1D (${timers}): ${problems.join('; ')}`,
          fix: `choose consistent values, e.g. ip link set ${b.name} type bridge forward_delay 1500 hello_time 200 max_age 2000; or STP off`,
          source:
            'net/bridge/br_private_stp.h; br_stp.c; nmstate linux_bridge.rs range checks; IEEE 802.1D timer relation',
          objects: [b.name],
        }),
      );
    }
    return out;
  },
};

export const BRIDGE_RULES: readonly Rule[] = [
  bridgeMacUnpinned,
  loopOrDuplicateMac,
  stpDelaysVifs,
  stpTimers,
];
