import type { Address, BondState, HostState, Link, Route } from '../../src/model/host.ts';
import type { NetworkDesired } from '../../src/model/network.ts';

/** Builders for captured-style host states (what observeHost returns), documentation addresses only. */
let index = 1;
export function link(name: string, extra: Partial<Link> = {}): Link {
  index += 1;
  return {
    name,
    ifindex: index,
    kind: undefined,
    master: undefined,
    mtu: 1500,
    mac: undefined,
    up: true,
    carrier: true,
    noarp: false,
    operstate: 'UP',
    ...extra,
  };
}

export const BRIDGE_STATE = { stp: false, forwardDelay: 0, helloTime: 200, maxAge: 2000 };

export function bridge(name: string, mac: string, extra: Partial<Link> = {}): Link {
  return link(name, { kind: 'bridge', mac, macPinned: true, bridge: BRIDGE_STATE, ...extra });
}

export function bondState(mode: string, extra: Record<string, string> = {}, active?: string): BondState {
  return {
    mode,
    miimon: Number(extra.miimon ?? 100),
    options: { mode, miimon: '100', updelay: '0', downdelay: '0', fail_over_mac: 'none', ...extra },
    activeSlave: active,
  };
}

export function v4(dev: string, cidr: string, extra: Partial<Address> = {}): Address {
  const [local = '', prefix = '32'] = cidr.split('/');
  return { dev, family: 'inet', local, prefixlen: Number(prefix), scope: 'global', ...extra };
}

export function v6(dev: string, cidr: string, scope = 'global'): Address {
  const [local = '', prefix = '128'] = cidr.split('/');
  return { dev, family: 'inet6', local, prefixlen: Number(prefix), scope };
}

export function route(dst: string, dev: string, extra: Partial<Route> = {}): Route {
  return { dst, family: 'inet', dev, ...extra };
}

export function host(
  links: Link[],
  addresses: Address[] = [],
  routes: Route[] = [],
  sysctls: Record<string, string> = {},
): HostState {
  return { links: [link('lo', { mac: '00:00:00:00:00:00' }), ...links], addresses, routes, sysctls };
}

export const MAC0 = '52:54:00:00:00:a0';
export const MAC1 = '52:54:00:00:00:a1';

export function single(extra: Partial<NetworkDesired> = {}): NetworkDesired {
  return {
    bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 },
    uplink: 'eth0',
    dom0: { kind: 'bridge' },
    bridgeNf: 'keep',
    strict: false,
    ...extra,
  };
}

export function bonded(mode = 'active-backup', extra: Partial<NetworkDesired> = {}): NetworkDesired {
  return single({
    uplink: 'bond0',
    bond: { name: 'bond0', slaves: ['eth0', 'eth1'], mode, options: { miimon: '100' } },
    ...extra,
  });
}

/** Steps as compact rows: id, phase, command line, disruptive. */
export function rows(
  steps: readonly { id: string; phase: string; argv: readonly string[]; disruptive: boolean }[],
) {
  return steps.map((s) => [s.id, s.phase, s.argv.join(' '), s.disruptive]);
}
