/**
 * What network-script stop puts back from a start record, on the host as it is now: devices
 * released from the masters start put them in, the host as that leaves it (what the setting
 * restores see), then dom0's addresses, routes and sysctls.
 */
import { type Address, findLink, type HostState, type Route } from '../model/host.ts';
import type { Step } from '../model/plan.ts';
import type { StartRecord } from '../model/record.ts';
import { cidrOf, lifetimeWords } from './address.ts';
import { ip, routeWords, sysctlSet } from './command.ts';
import { describeRoute, routeKey, routeSpec, routeStep } from './route.ts';
import { makeStep } from './step.ts';

function hasAddress(host: HostState, dev: string, cidr: string): boolean {
  return host.addresses.some((a: Address) => a.dev === dev && cidrOf(a) === cidr);
}

function hasRoute(host: HostState, r: Route, dev: string): boolean {
  return host.routes.some(
    (h) =>
      h.dev === dev &&
      routeKey(h) === routeKey(r) &&
      h.gateway === r.gateway &&
      (r.prefsrc === undefined || h.prefsrc === r.prefsrc),
  );
}

/**
 * Each device start enslaved and still in that master goes back into the master it had before,
 * or leaves it (unless it or the master is `gone`: deleting does that). `freed`: every such device.
 */
export function planLinkReleases(
  record: StartRecord,
  host: HostState,
  gone: ReadonlySet<string>,
): { steps: Step[]; freed: Set<string> } {
  const steps: Step[] = [];
  const freed = new Set<string>();
  for (const e of record.enslaved) {
    const link = findLink(host, e.dev);
    if (!link || link.master !== e.master) continue;
    freed.add(e.dev);
    if (e.before !== undefined) {
      steps.push(
        makeStep(
          `port:${e.dev}:master`,
          'port',
          ip.linkMaster(e.dev, e.before),
          `${e.dev} goes back into ${e.before}`,
          true,
        ),
      );
    } else if (!gone.has(e.master) && !gone.has(e.dev)) {
      steps.push(
        makeStep(
          `port:${e.dev}:release`,
          'port',
          ip.linkNoMaster(e.dev),
          `${e.dev} leaves ${e.master} (start put it there)`,
          true,
        ),
      );
    }
  }
  return { steps, freed };
}

/**
 * The host once stop has released what start enslaved (back into the master each had before,
 * or none) and deleted what it created: what the setting restores are planned on.
 */
export function hostAfterRelease(record: StartRecord, host: HostState, gone: ReadonlySet<string>): HostState {
  const links = host.links
    .filter((l) => !gone.has(l.name))
    .map((l) => {
      const e = record.enslaved.find((x) => x.dev === l.name && x.master === l.master);
      if (e !== undefined) return { ...l, master: e.before };
      return l.master !== undefined && gone.has(l.master) ? { ...l, master: undefined } : l;
    });
  return { ...host, links };
}

/**
 * What stop puts back after the links and settings: dom0's addresses on the devices they came
 * from, then off the holder that stays (unless `gone`); the routes start moved back where they
 * were, and those it added deleted; sysctls at their values before. Only what differs.
 */
export function planNetworkRestores(record: StartRecord, host: HostState, gone: ReadonlySet<string>): Step[] {
  const steps: Step[] = [];
  // Addresses back where they were, then off the holder that stays.
  for (const m of record.addresses) {
    if (m.from === undefined || !findLink(host, m.from) || record.created.includes(m.from)) continue;
    if (!hasAddress(host, m.from, m.cidr))
      steps.push(
        makeStep(
          `address:${m.from}:${m.cidr}`,
          'address',
          ip.addrAdd(m.from, m.cidr, [
            ...(m.broadcast === undefined ? [] : ['broadcast', m.broadcast]),
            // A dynamic address goes back with what is left of its lifetime, never as a permanent one.
            ...lifetimeWords(host.addresses.find((a) => a.dev === m.to && cidrOf(a) === m.cidr)),
          ]),
          `${m.cidr} goes back to ${m.from}`,
        ),
      );
  }
  for (const m of [...record.addresses].reverse()) {
    if (gone.has(m.to) || !hasAddress(host, m.to, m.cidr)) continue;
    steps.push(
      makeStep(
        `address:${m.to}:${m.cidr}:del`,
        'address',
        ip.addrDel(m.to, m.cidr),
        `${m.cidr} leaves ${m.to}${m.from === undefined ? '' : ` (back on ${m.from})`}`,
        true,
      ),
    );
  }
  // Routes start added go first: putting back a route with the same key replaces them.
  for (const m of record.routes) {
    const dev = m.route.dev;
    if (dev !== undefined && dev !== m.to) continue;
    // A route start added (gateway=): it goes with its holder, or is deleted.
    if (!gone.has(m.to) && hasRoute(host, m.route, m.to))
      steps.push(
        makeStep(
          `route:${routeKey(m.route)}:del`,
          'route',
          ip.routeDel(routeWords(routeSpec(m.route, m.to))),
          `${describeRoute(m.route)} was added by start`,
        ),
      );
  }
  for (const m of record.routes) {
    const dev = m.route.dev;
    if (dev === undefined || dev === m.to || !findLink(host, dev) || record.created.includes(dev)) continue;
    if (!hasRoute(host, m.route, dev))
      steps.push(routeStep(m.route, dev, `${describeRoute(m.route)} goes back to ${dev}`));
  }
  for (const s of record.sysctls)
    if (host.sysctls[s.key] !== undefined && host.sysctls[s.key] !== s.before)
      steps.push(
        makeStep(
          `sysctl:${s.key}`,
          'sysctl',
          sysctlSet(s.key, s.before),
          `${s.key} goes back to ${s.before}`,
        ),
      );
  return steps;
}
