import { findLink, type HostState, type Link } from '../model/host.ts';
import type { NetworkDesired } from '../model/network.ts';
import { isMovable } from './address.ts';
import { addressSources, holderOf } from './network.ts';
import { isMovableRoute } from './route.ts';
import { BRIDGE_NF_KEYS } from './sysctl.ts';

/**
 * The host as start will leave it, as far as the doctor review is concerned. What start sets
 * comes from the settings: the bridge's STP and timers, its MTU and pinned MAC (the uplink's),
 * the uplink (and the netloop vif) in the bridge, the bond's mode, options and slaves, dom0's
 * addresses and routes on their holder, the bridge-nf sysctls. Everything else stays as observed
 * (NOARP flags, other devices, vifs, the firewall). So the review does not report what start is
 * about to fix (the address on the NIC that becomes a port), but does report what start keeps.
 * Devices start creates are left out: the review takes them from the settings. Pure.
 */
export function projectStart(observed: HostState, want: NetworkDesired): HostState {
  const holder = holderOf(want);
  const sources = new Set(addressSources(want));
  const bridgeName = want.bridge.name;
  const bond = want.bond;
  const uplinkMac = findLink(observed, want.uplink)?.mac ?? findLink(observed, bond?.slaves[0] ?? '')?.mac;
  const ports = new Set([want.uplink, ...(want.dom0.kind === 'netloop' ? [want.dom0.vif] : [])]);
  const links = observed.links.map((link): Link => {
    let next: Link = link;
    if (ports.has(link.name)) next = { ...next, master: bridgeName };
    if (want.bridge.mtu !== undefined && (link.name === want.uplink || link.name === bridgeName))
      next = { ...next, mtu: want.bridge.mtu };
    if (link.name === bridgeName && link.bridge !== undefined)
      next = {
        ...next,
        bridge: {
          ...link.bridge,
          stp: want.bridge.stp,
          forwardDelay: want.bridge.forwardDelay,
          helloTime: want.bridge.helloTime ?? link.bridge.helloTime,
          maxAge: want.bridge.maxAge ?? link.bridge.maxAge,
        },
        ...(uplinkMac === undefined ? {} : { mac: uplinkMac, macPinned: true }),
      };
    if (bond?.slaves.includes(link.name)) next = { ...next, master: bond.name };
    if (bond !== undefined && link.name === bond.name && link.bond !== undefined) {
      const miimon = Number(bond.options.miimon ?? link.bond.miimon);
      next = {
        ...next,
        bond: {
          ...link.bond,
          mode: bond.mode,
          options: { ...link.bond.options, ...bond.options },
          miimon: Number.isFinite(miimon) ? miimon : link.bond.miimon,
        },
      };
    }
    return next;
  });
  const moves = (dev: string | undefined) => dev !== undefined && dev !== holder && sources.has(dev);
  const addresses = observed.addresses.map((a) =>
    moves(a.dev) && isMovable(a) && a.peer === undefined ? { ...a, dev: holder } : a,
  );
  const routes = observed.routes.map((r) => (moves(r.dev) && isMovableRoute(r) ? { ...r, dev: holder } : r));
  const sysctls = { ...observed.sysctls };
  if (want.bridgeNf !== 'keep')
    for (const key of BRIDGE_NF_KEYS)
      if (sysctls[key] !== undefined) sysctls[key] = want.bridgeNf === 'on' ? '1' : '0';
  return { links, addresses, routes, sysctls };
}
