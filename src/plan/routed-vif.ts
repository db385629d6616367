import type { HostState, Route } from '../model/host.ts';
import { makePlan, type Plan, type Step, type XenstoreWrite } from '../model/plan.ts';
import type { GuestRoute, RoutedDesired } from '../model/vif-mode.ts';
import { ip, routeWords, sysctlSet } from './command.ts';
import { routeSpec } from './route.ts';
import { makeStep } from './step.ts';
import { planRename, vifMtuStep } from './vif.ts';

/** A host address's prefix length by family. */
const HOST_PREFIX = { inet: 32, inet6: 128 } as const;

/** How ip prints a route's destination: a host route without its /32 or /128. */
export function routeDst(cidr: string): string {
  return cidr.replace(cidr.includes(':') ? /\/128$/ : /\/32$/, '');
}

/** The /proc/sys key (slash form: a vif name has dots) of an IPv4 setting of `dev`. */
export function ipv4ConfKey(dev: string, setting: 'proxy_arp' | 'forwarding'): string {
  return `net/ipv4/conf/${dev}/${setting}`;
}

/** Global settings a routed guest needs from dom0 and xenplan does not own: warned about. */
export const FORWARDING_KEYS = {
  inet: 'net/ipv4/ip_forward',
  inet6: 'net/ipv6/conf/all/forwarding',
} as const;

function sameRoute(r: Route, name: string, want: GuestRoute): boolean {
  return (
    r.dev === name &&
    r.family === want.family &&
    r.table === undefined &&
    r.type === undefined &&
    r.dst === want.dst &&
    r.prefsrc === want.src &&
    r.metric === want.metric
  );
}

/**
 * online / add of a routed or NAT guest (Xen's vif-route, vif-nat): rename (vifname), MTU,
 * ARP on, up, dom0's next-hop addresses on the vif, proxy ARP and forwarding on it, then a
 * route per guest address. Only what differs.
 */
export function planRoutedOnline(
  want: RoutedDesired,
  host: HostState,
  extra: readonly Step[] = [],
  xenstore: readonly XenstoreWrite[] = [],
): Plan {
  const { steps, link } = planRename(want, host);
  const { name } = want;
  if (want.mtu !== undefined && link.mtu !== want.mtu) steps.push(vifMtuStep(name, want.mtu, link.mtu));
  if (link.noarp)
    steps.push(
      makeStep(
        `vif:${name}:arp`,
        'vif',
        ip.linkArp(name, true),
        `${name} has ARP off; the guest must resolve its next hop`,
      ),
    );
  if (!link.up) steps.push(makeStep(`vif:${name}:up`, 'vif', ip.linkUp(name), `${name} is down`));
  // After a rename the addresses are still listed under the kernel's name.
  const own = host.addresses.filter((a) => a.dev === name || a.dev === want.dev);
  for (const local of want.local) {
    const prefix = HOST_PREFIX[local.family];
    if (own.some((a) => a.local === local.address && a.prefixlen === prefix)) continue;
    const cidr = `${local.address}/${prefix}`;
    // The same address is dom0's on its uplink: duplicate detection on the vif would fail it.
    const extraWords = local.family === 'inet6' ? ['nodad'] : [];
    steps.push(
      makeStep(
        `vif:${name}:address:${cidr}`,
        'address',
        ip.addrAdd(name, cidr, extraWords),
        `${name} needs dom0's ${cidr} as the guest's next hop`,
      ),
    );
  }
  const warnings: string[] = [];
  if (want.routes.some((r) => r.family === 'inet')) {
    const settings = (['proxy_arp', 'forwarding'] as const)
      .map((s) => ipv4ConfKey(name, s))
      .filter((key) => host.sysctls[key] !== '1');
    if (settings.length > 0)
      steps.push(
        makeStep(
          `sysctl:${name}:routed`,
          'sysctl',
          sysctlSetMany(settings),
          `${name} must answer ARP for the guest's neighbours and forward its traffic: ${settings.map((k) => `${k}=${host.sysctls[k] ?? 'unset'}`).join(', ')}`,
        ),
      );
  }
  for (const family of ['inet', 'inet6'] as const) {
    const key = FORWARDING_KEYS[family];
    if (want.routes.some((r) => r.family === family) && host.sysctls[key] === '0')
      warnings.push(
        `${key.replaceAll('/', '.')} is 0: dom0 does not forward ${family === 'inet' ? 'IPv4' : 'IPv6'}, so ${name}'s guest reaches only dom0; set it to 1 (sysctl.conf)`,
      );
  }
  for (const route of want.routes) {
    if (host.routes.some((r) => sameRoute(r, name, route))) continue;
    const spec = {
      family: route.family,
      dst: route.dst,
      dev: name,
      ...(route.metric === undefined ? {} : { metric: route.metric }),
      ...(route.src === undefined ? {} : { prefsrc: route.src }),
    };
    steps.push(
      makeStep(
        `route:${name}:${route.dst}`,
        'route',
        ip.routeReplace(routeWords(spec)),
        `the guest's ${route.dst} is reached through ${name}`,
      ),
    );
  }
  return makePlan([...steps, ...extra], warnings, xenstore);
}

function sysctlSetMany(keys: readonly string[]): string[] {
  return keys.flatMap((key, i) => (i === 0 ? sysctlSet(key, '1') : [`${key}=1`]));
}

/**
 * offline / remove of a routed or NAT guest: its routes, dom0's addresses on it, down. A
 * device already gone plans nothing but `extra` (shared state outside the device).
 */
export function planRoutedOffline(name: string, host: HostState, extra: readonly Step[] = []): Plan {
  if (!host.links.some((l) => l.name === name)) return makePlan([...extra], [`${name} is already gone`]);
  const steps: Step[] = [];
  for (const r of host.routes) {
    if (r.dev !== name || r.protocol === 'kernel' || r.table !== undefined || r.type !== undefined) continue;
    steps.push(
      makeStep(
        `route:${name}:${r.dst}`,
        'route',
        ip.routeDel(routeWords(routeSpec(r, name))),
        `${r.dst} led to the guest through ${name}`,
      ),
    );
  }
  for (const a of host.addresses) {
    if (a.dev !== name || a.scope === 'link') continue;
    const cidr = `${a.local}/${a.prefixlen}`;
    steps.push(
      makeStep(
        `vif:${name}:address:${cidr}`,
        'address',
        ip.addrDel(name, cidr),
        `${cidr} on ${name} was the guest's next hop`,
      ),
    );
  }
  const link = host.links.find((l) => l.name === name);
  if (link?.up)
    steps.push(
      makeStep(`vif:${name}:down`, 'vif', ip.linkDown(name), `${name} is up; the guest is going away`, true),
    );
  return makePlan([...steps, ...extra]);
}
