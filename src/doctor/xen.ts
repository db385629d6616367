import { makeFinding, type Rule } from './rule.ts';

/** xenplan-specific notes (not among the 25 research rules): XEN001, XEN002. */

const netloopLayout: Rule = {
  id: 'XEN001',
  name: 'netloop-layout',
  summary: "xenplan note: the Xen 3.x netloop layout (dom0's address on a veth behind a vif in the bridge)",
  severity: 'info',
  check(facts) {
    const desired = facts.input.desired;
    if (desired === undefined || desired.dom0.kind !== 'netloop') return [];
    const { veth, vif } = desired.dom0;
    const bridge = desired.bridge.name;
    return [
      makeFinding(netloopLayout, {
        message: `netloop layout: dom0's address on ${veth} behind ${vif} in ${bridge}: fine on Xen 3.x; on current kernels (no netloop driver) put it on the bridge`,
        fix: `dom0-port=bridge: move dom0's addresses and default route from ${veth} to ${bridge}, and pin ${bridge}'s MAC`,
        source:
          'xen-project/xen commit 06809a93ad (netloop removed, 2007); xen tools/hotplug/Linux/xen-network-common.sh',
        objects: [veth, vif, bridge],
      }),
    ];
  },
};

const dhcpOnPort: Rule = {
  id: 'XEN002',
  name: 'dhcp-client-on-port',
  summary: 'a DHCP client bound to a bridge port or bond slave, which holds no address there',
  severity: 'warning',
  check(facts) {
    const host = facts.input.observed;
    if (host === undefined) return [];
    const findings = [];
    for (const client of facts.input.dhcpClients ?? [])
      for (const dev of client.interfaces) {
        const master = host.links.find((l) => l.name === dev)?.master;
        if (master === undefined) continue;
        const holder = host.links.find((l) => l.name === master)?.master ?? master;
        findings.push(
          makeFinding(dhcpOnPort, {
            message: `${client.command} (pid ${client.pid}) leases an address for ${dev}, which is in ${master}: a port holds no address, so its renewals put the lease back on ${dev} (or it expires while dom0 still uses it on ${holder})`,
            fix: `stop ${client.command} on ${dev} and run the DHCP client on ${holder} (or give dom0 a static address)`,
            source: 'net/bridge/br_input.c (a port hands frames to the bridge); dhclient(8), dhcpcd(8)',
            objects: [dev, master],
          }),
        );
      }
    return findings;
  },
};

export const XEN_RULES: readonly Rule[] = [netloopLayout, dhcpOnPort];
