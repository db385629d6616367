/**
 * What `network-script status` shows: the bridge and its ports, the bond and its slaves, where
 * dom0's addresses and default routes are, and what drifted from the settings. Pure.
 */
import { findLink, type HostState, portsOf } from '../model/host.ts';
import type { NetworkDesired } from '../model/network.ts';
import type { Plan } from '../model/plan.ts';
import { cidrOf, isMovable } from './address.ts';
import { addressSources, holderOf } from './network.ts';
import { withRouteFamilies } from './route.ts';

export interface NetworkStatus {
  readonly bridge: {
    name: string;
    exists: boolean;
    up: boolean;
    stp?: boolean;
    forwardDelay?: number;
    mac?: string;
    ports: { name: string; up: boolean; carrier: boolean }[];
  };
  readonly bond?: {
    name: string;
    exists: boolean;
    mode?: string;
    activeSlave?: string;
    miimon?: number;
    slaves: { name: string; inBond: boolean; up: boolean; carrier: boolean }[];
  };
  readonly addresses: { dev: string; address: string }[];
  readonly routes: { dst: string; gateway?: string; dev?: string }[];
  readonly holder: string;
  readonly converged: boolean;
  readonly drift: string[];
  readonly recorded: boolean;
}

/** What status shows, from the host and the plan that would converge it. Pure. */
export function describeStatus(
  want: NetworkDesired,
  observed: HostState,
  plan: Plan,
  recorded: boolean,
): NetworkStatus {
  const host = withRouteFamilies(observed);
  const bridge = findLink(host, want.bridge.name);
  const devs = new Set([holderOf(want), ...addressSources(want)]);
  const bond = want.bond === undefined ? undefined : findLink(host, want.bond.name);
  return {
    bridge: {
      name: want.bridge.name,
      exists: bridge !== undefined,
      up: bridge?.up ?? false,
      ...(bridge?.bridge === undefined
        ? {}
        : { stp: bridge.bridge.stp, forwardDelay: bridge.bridge.forwardDelay }),
      ...(bridge?.mac === undefined ? {} : { mac: bridge.mac }),
      ports: portsOf(host, want.bridge.name).map((p) => ({ name: p.name, up: p.up, carrier: p.carrier })),
    },
    ...(want.bond === undefined
      ? {}
      : {
          bond: {
            name: want.bond.name,
            exists: bond !== undefined,
            ...(bond?.bond === undefined
              ? {}
              : {
                  mode: bond.bond.mode,
                  miimon: bond.bond.miimon,
                  ...(bond.bond.activeSlave === undefined ? {} : { activeSlave: bond.bond.activeSlave }),
                }),
            slaves: want.bond.slaves.map((name) => {
              const s = findLink(host, name);
              return {
                name,
                inBond: s?.master === want.bond?.name,
                up: s?.up ?? false,
                carrier: s?.carrier ?? false,
              };
            }),
          },
        }),
    addresses: host.addresses
      .filter((a) => devs.has(a.dev) && isMovable(a))
      .map((a) => ({ dev: a.dev, address: cidrOf(a) })),
    routes: host.routes
      .filter((r) => r.dst === 'default' && r.table === undefined)
      .map((r) => ({
        dst: r.family === 'inet6' ? '::/0' : 'default',
        ...(r.gateway === undefined ? {} : { gateway: r.gateway }),
        ...(r.dev === undefined ? {} : { dev: r.dev }),
      })),
    holder: holderOf(want),
    converged: plan.steps.length === 0,
    drift: plan.steps.map((s) => s.reason),
    recorded,
  };
}

/** The status as lines for a person: one per device, address and route, then the drift. */
export function renderStatus(s: NetworkStatus): string {
  const lines: string[] = [];
  const b = s.bridge;
  const onOff = (up: boolean) => (up ? 'up' : 'down');
  if (!b.exists) lines.push(`bridge ${b.name}: missing`);
  else
    lines.push(
      `bridge ${b.name}: ${onOff(b.up)}, stp ${b.stp ? 'on' : 'off'}, forward delay ${(b.forwardDelay ?? 0) / 100}s, MAC ${b.mac ?? 'unknown'}`,
    );
  if (b.ports.length === 0) lines.push('  ports: none');
  for (const p of b.ports) lines.push(`  port ${p.name}: ${onOff(p.up)}, link ${p.carrier ? 'up' : 'down'}`);
  if (s.bond !== undefined) {
    const d = s.bond;
    lines.push(
      d.exists
        ? `bond ${d.name}: mode ${d.mode ?? 'unknown'}, active slave ${d.activeSlave ?? 'none'}, miimon ${d.miimon ?? 0}`
        : `bond ${d.name}: missing`,
    );
    for (const slave of d.slaves)
      lines.push(
        `  slave ${slave.name}: ${slave.inBond ? 'in the bond' : 'NOT in the bond'}, ${onOff(slave.up)}, link ${slave.carrier ? 'up' : 'down'}`,
      );
  }
  lines.push(
    `dom0's addresses (want them on ${s.holder}): ${
      s.addresses.length === 0 ? 'none' : s.addresses.map((a) => `${a.address} on ${a.dev}`).join(', ')
    }`,
  );
  for (const r of s.routes)
    lines.push(
      `default route: ${r.dst}${r.gateway === undefined ? '' : ` via ${r.gateway}`} dev ${r.dev ?? '?'}`,
    );
  if (s.converged) lines.push('converged: the host matches the settings (0 steps)');
  else {
    lines.push(
      `drifted: ${s.drift.length} step(s) would change the host (network-script start applies them):`,
    );
    for (const d of s.drift) lines.push(`  - ${d}`);
  }
  return `${lines.join('\n')}\n`;
}
