import type { Finding } from '../model/finding.ts';
import { routesOn } from '../model/host.ts';
import { type Facts, isBridgePort, l2Devices } from './facts.ts';
import { listNames, makeFinding, type Rule } from './rule.ts';

/** IP, routes, ARP: IP001, ARP001-002. */

/** Where dom0's addresses belong: the config's IP device, else the bridge that holds dev (directly or via its bond). */
function ipHomeFor(facts: Facts, dev: string): string {
  if (facts.ipDevice !== undefined) return facts.ipDevice;
  const bond = facts.bonds.find((b) => b.slaves.includes(dev));
  const port = bond?.bridge !== undefined ? bond.name : dev;
  return facts.bridges.find((b) => b.ports.includes(port))?.name ?? '<the bridge>';
}

const addressOrRouteOnPort: Rule = {
  id: 'IP001',
  name: 'address-or-route-on-port',
  summary: 'a global address or a route on a bond slave, a bridged bond or a bridge port',
  severity: 'error',
  check(facts) {
    const observed = facts.input.observed;
    if (observed === undefined) return [];
    // Known ports only: a routed vif (vif-route) legitimately carries an address.
    const ports = l2Devices(facts);
    const out: Finding[] = [];
    for (const dev of ports) {
      if (dev === facts.ipDevice) continue;
      const addresses = observed.addresses.filter((a) => a.dev === dev && a.scope === 'global');
      const routes = routesOn(observed, dev);
      if (addresses.length === 0 && routes.length === 0) continue;
      const home = ipHomeFor(facts, dev);
      const what = [
        ...addresses.map((a) => `address ${a.local}/${a.prefixlen}`),
        ...routes.map((r) => `route ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}`),
      ];
      const commands = [
        ...addresses.map(
          (a) =>
            `ip addr del ${a.local}/${a.prefixlen} dev ${dev}; ip addr add ${a.local}/${a.prefixlen} dev ${home}`,
        ),
        ...routes.map((r) => `ip route replace ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${home}`),
      ];
      out.push(
        makeFinding(addressOrRouteOnPort, {
          message: `${dev} is an enslaved device but carries ${listNames(what)}: addresses and routes on enslaved devices are bypassed or unreachable and confuse ARP; they belong on ${home}`,
          fix: `move them to ${home} in one step: ${commands.join('; ')}`,
          source:
            'bonding.rst §8.1 "Adventures in Routing"; RHEL 7 Networking Guide (bridge gets the IP); xen network-bridge header',
          objects: [dev, home],
        }),
      );
    }
    return out;
  },
};

function noarpOnIp(facts: Facts): string[] {
  return facts.noarp.filter((dev) => facts.ipv4Devices.has(dev));
}

const noarpOnIpInterface: Rule = {
  id: 'ARP001',
  name: 'noarp-on-ip-interface',
  summary: 'ARP is off on an interface that carries IPv4: IPv4 to the LAN is broken',
  severity: 'error',
  check(facts) {
    return noarpOnIp(facts).map((dev) =>
      makeFinding(noarpOnIpInterface, {
        message: `ARP is off (NOARP) on ${dev}, which carries IPv4: incoming ARP is ignored, no ARP is sent, and neighbours resolve to ${dev}'s own MAC; IPv4 to the LAN is broken`,
        fix: `ip link set ${dev} arp on (and drop "arp off" for ${dev} from the setup)`,
        source: 'net/ipv4/arp.c arp_rcv, arp_send_dst, arp_constructor',
        objects: [dev],
      }),
    );
  },
};

const noarpOnPorts: Rule = {
  id: 'ARP002',
  name: 'noarp-on-ports',
  summary:
    '"arp off" on bond slaves, bonds or bridge ports does not affect bridging and hides the real fault',
  severity: 'warning',
  check(facts) {
    const onIp = new Set(noarpOnIp(facts));
    const l2 = l2Devices(facts);
    const devs = facts.noarp.filter((d) => !onIp.has(d) && (l2.has(d) || isBridgePort(facts, d)));
    if (devs.length === 0) return [];
    return [
      makeFinding(noarpOnPorts, {
        message: `ARP is off on ${listNames(devs)}: "arp off" on L2 ports does not affect bridging; it only hides the real fault, and on a bond with addresses it suppresses failover gratuitous ARPs (Xen stopped doing this in 2007)`,
        fix: `${devs.map((d) => `ip link set ${d} arp on`).join('; ')}; then look at BOND001/BR002 for the real fault`,
        source:
          'net/ipv4/arp.c; xen-project/xen commit 06809a93ad ("Remove netloop from network bridge init scripts")',
        objects: devs,
      }),
    ];
  },
};

export const ADDRESS_RULES: readonly Rule[] = [addressOrRouteOnPort, noarpOnIpInterface, noarpOnPorts];
