import type { Finding } from '../model/finding.ts';
import type { Link } from '../model/host.ts';
import { bridgeOf, isXenVif } from './facts.ts';
import { listNames, makeFinding, type Rule } from './rule.ts';

/**
 * VLANs: VLAN001, VLAN002.
 *
 * What VLAN001 deliberately does not flag: an uplink MTU of 1500 under tagged traffic. Linux
 * counts the MTU without the link-layer header, and the 802.1Q tag is part of that header
 * (VLAN_ETH_HLEN 18, VLAN_ETH_FRAME_LEN 1518; IEEE 802.3ac raised the maximum frame to 1522
 * for it), so a 1500 MTU already carries 1500-byte payloads tagged; the bridge allows the tag
 * on top of the MTU too (br_forward.c is_skb_forwardable). Raising the uplink to 1504 would
 * instead send 1504-byte untagged frames a 1500 switch port drops. A switch port's own limit
 * cannot be seen from dom0.
 */

const vlanMtu: Rule = {
  id: 'VLAN001',
  name: 'vlan-mtu',
  summary: 'a VLAN path offers a larger MTU than its uplink carries (live)',
  severity: 'warning',
  check(facts) {
    const out: Finding[] = [];
    // 802.1Q devices: what enters bond0.100 (it, its bridge, that bridge's ports) leaves by bond0.
    for (const device of facts.links.values()) {
      if (device.vlan === undefined) continue;
      const parent = facts.links.get(device.vlan.parent);
      if (parent === undefined) continue;
      const bridge = bridgeOf(facts, device.name);
      const feeding = [device.name, ...(bridge ? [bridge.name, ...bridge.ports] : [])];
      const over = larger(facts.links, feeding, parent.mtu);
      if (over.length > 0) out.push(finding(`VLAN ${device.vlan.id} (${device.name})`, over, parent));
    }
    // VLAN-aware bridges: a guest port's tagged traffic leaves by the uplink port carrying its VID.
    const vlans = facts.input.bridgeVlans ?? {};
    for (const bridge of facts.bridges) {
      if (facts.links.get(bridge.name)?.bridge?.vlanFiltering !== true) continue;
      const uplinks = bridge.ports.filter((p) => !isXenVif(p) && facts.links.has(p));
      for (const uplink of uplinks) {
        const link = facts.links.get(uplink)!;
        const vids = new Set((vlans[uplink] ?? []).map((v) => v.vid));
        const guests = bridge.ports.filter(
          (p) => isXenVif(p) && (vlans[p] ?? []).some((v) => vids.has(v.vid)),
        );
        const over = larger(facts.links, guests, link.mtu);
        if (over.length > 0)
          out.push(finding(`the VLANs of ${bridge.name} that ${uplink} carries`, over, link));
      }
    }
    return out;
  },
};

/** The devices of names (live ones) whose MTU exceeds limit, with their MTUs. */
function larger(links: ReadonlyMap<string, Link>, names: readonly string[], limit: number) {
  return [...new Set(names)]
    .map((name) => links.get(name))
    .filter((l): l is Link => l !== undefined && l.mtu > limit);
}

function finding(what: string, over: readonly Link[], uplink: Link): Finding {
  return makeFinding(vlanMtu, {
    message: `${what}: ${over.map((l) => `${l.name} ${l.mtu}`).join(', ')} above ${uplink.name} ${uplink.mtu}; tagged frames larger than ${uplink.name} carries are dropped silently, so big packets (and PMTU) fail while pings work`,
    fix: `${over.map((l) => `ip link set ${l.name} mtu ${uplink.mtu}`).join('; ')} (or raise ${uplink.name}, slaves first, if the switch takes jumbo frames)`,
    source:
      'net/8021q/vlan_dev.c vlan_dev_change_mtu (a VLAN device never above its real device); net/bridge/br_forward.c is_skb_forwardable; IEEE 802.3ac (1522-byte tagged frame)',
    objects: [...over.map((l) => l.name), uplink.name],
  });
}

const vlanNotOnUplink: Rule = {
  id: 'VLAN002',
  name: 'vlan-not-on-uplink',
  summary: 'a guest port or the bridge has a VID no uplink port carries (live)',
  severity: 'warning',
  check(facts) {
    const out: Finding[] = [];
    const vlans = facts.input.bridgeVlans;
    if (vlans === undefined) return out;
    for (const bridge of facts.bridges) {
      if (facts.links.get(bridge.name)?.bridge?.vlanFiltering !== true) continue;
      const uplinks = bridge.ports.filter((p) => !isXenVif(p));
      // A bridge without an uplink is a host-only network by design: nothing is meant to leave.
      if (uplinks.length === 0) continue;
      const carried = new Set(uplinks.flatMap((p) => (vlans[p] ?? []).map((v) => v.vid)));
      const inside = [bridge.name, ...bridge.ports.filter((p) => isXenVif(p))];
      const missing = new Map<number, string[]>();
      for (const port of inside)
        for (const { vid } of vlans[port] ?? [])
          if (!carried.has(vid)) missing.set(vid, [...(missing.get(vid) ?? []), port]);
      if (missing.size === 0) continue;
      const vids = [...missing.keys()].sort((a, b) => a - b);
      const where = vids.map((vid) => `${vid} on ${listNames(missing.get(vid)!)}`).join('; ');
      out.push(
        makeFinding(vlanNotOnUplink, {
          message: `VLAN ${where}, but on no uplink port of ${bridge.name} (${listNames(uplinks)}): that traffic never leaves dom0`,
          fix: vids.map((vid) => `bridge vlan add dev ${uplinks[0]} vid ${vid}`).join('; '),
          source:
            'net/bridge/br_vlan.c br_allowed_egress (a port sends only the VIDs it has); xl-network-configuration(5) vlan',
          objects: [bridge.name, ...new Set([...missing.values()].flat()), ...uplinks],
        }),
      );
    }
    return out;
  },
};

export const VLAN_RULES: readonly Rule[] = [vlanMtu, vlanNotOnUplink];
