import { XenplanError } from '../model/error.ts';
import { type Address, findLink, type HostState, type Link, type Route } from '../model/host.ts';
import type { NetworkDesired } from '../model/network.ts';
import { makePlan, type Plan, type Step } from '../model/plan.ts';
import type { EnslavedDevice, SettingChange, StartRecord } from '../model/record.ts';
import { PORT_MAC } from '../model/vif.ts';
import { cidrOf, planAddresses } from './address.ts';
import { bondMac, planBond } from './bond.ts';
import { listBridgeChanges, planBridge } from './bridge.ts';
import { ip, routeWords, sysctlSet } from './command.ts';
import { describeRoute, planRoutes, routeKey, routeSpec, routeStep, withRouteFamilies } from './route.ts';
import { planSettingRestores } from './setting.ts';
import { makeStep } from './step.ts';
import { planBridgeNf } from './sysctl.ts';

export interface NetworkPlan {
  readonly plan: Plan;
  /** What this plan changes, for the state file. */
  readonly record: StartRecord;
  /** Where dom0's addresses live: the bridge, or the netloop veth. */
  readonly holder: string;
}

export function emptyRecord(bridge: string): StartRecord {
  return {
    version: 1,
    bridge,
    created: [],
    enslaved: [],
    addresses: [],
    routes: [],
    sysctls: [],
    settings: [],
  };
}

/** Devices whose addresses and routes move to dom0's holder. */
export function addressSources(want: NetworkDesired): string[] {
  const names = [want.uplink, ...(want.bond?.slaves ?? [])];
  if (want.dom0.kind === 'netloop') names.push(want.bridge.name);
  return [...new Set(names)].filter((n) => n !== '' && n !== holderOf(want));
}

export function holderOf(want: NetworkDesired): string {
  return want.dom0.kind === 'netloop' ? want.dom0.veth : want.bridge.name;
}

/** `up` unless it already is; `force` when an earlier step takes it down. */
function upStep(name: string, host: HostState, force = false): Step[] {
  const link = findLink(host, name);
  if (link?.up && !force) return [];
  const why = !link ? `${name} is new and down` : force ? `${name} was taken down above` : `${name} is down`;
  return [makeStep(`link:${name}:up`, 'link', ip.linkUp(name), why)];
}

function checkUplink(want: NetworkDesired, host: HostState): Link | undefined {
  if (want.uplink === '')
    throw new XenplanError('config', 'no uplink: give netdev=NIC or bond=NAME slaves=NIC,NIC');
  const link = findLink(host, want.uplink);
  if (want.bond !== undefined) return link;
  if (!link)
    throw new XenplanError(
      'config',
      `netdev=${want.uplink}: ${want.uplink} does not exist; expected the NIC to put in ${want.bridge.name}`,
    );
  if (link.kind === 'bridge')
    throw new XenplanError(
      'config',
      `netdev=${want.uplink}: ${want.uplink} is a bridge; expected a NIC or bond to put in ${want.bridge.name}`,
    );
  return link;
}

/**
 * The whole start plan, ordered so dom0 is cut off as briefly as possible: bond (created down,
 * mode first), slaves (down, enslaved), bridge with its options and the uplink's MAC, uplink
 * enslaved, everything up, then addresses (added on the new holder, then deleted from the old
 * ones), routes re-created on the new holder, sysctls. Plans only what differs: on a host that
 * matches, the plan is empty. Ports already in the bridge other than the uplink (vif*, tap*)
 * are never touched.
 */
export function planNetworkStart(want: NetworkDesired, observed: HostState): NetworkPlan {
  const host = withRouteFamilies(observed);
  const steps: Step[] = [];
  const warnings: string[] = [];
  const created: string[] = [];
  const enslaved: EnslavedDevice[] = [];
  // What this plan changes on devices that exist already, with the values before (stop puts them back).
  const settings: SettingChange[] = [];
  const bridgeName = want.bridge.name;
  const uplinkLink = checkUplink(want, host);
  const holder = holderOf(want);
  const enslave = (link: Link | undefined, dev: string, master: string) => {
    // A slave released only to change the bond's mode goes back where it was: nothing to undo.
    if (link?.master === master) return;
    enslaved.push({ dev, master, up: link?.up ?? false, ...(link?.master ? { before: link.master } : {}) });
  };

  // Bond and slaves.
  let uplinkMac = uplinkLink?.mac;
  let bondDown = false;
  let downed: readonly string[] = [];
  const finish: Step[] = [];
  const slaveUps: Step[] = [];
  if (want.bond !== undefined) {
    const bond = planBond(want.bond, host);
    steps.push(...bond.prepare, ...bond.slaves);
    finish.push(...bond.finish);
    warnings.push(...bond.warnings);
    if (bond.created) created.push(want.bond.name);
    for (const { name, before } of bond.changed)
      settings.push({ dev: want.bond.name, kind: 'bond-option', name, before });
    for (const slave of bond.enslaved) enslave(slave, slave.name, want.bond.name);
    bondDown = bond.bondDown;
    downed = bond.downed;
    uplinkMac = bondMac(want.bond, host, bond);
    for (const name of bond.slavesDown) slaveUps.push(...upStep(name, host));
  }
  if (want.bridge.mtu !== undefined && uplinkLink !== undefined && uplinkLink.mtu !== want.bridge.mtu) {
    settings.push({ dev: want.uplink, kind: 'mtu', before: String(uplinkLink.mtu) });
    steps.push(
      makeStep(
        `link:${want.uplink}:mtu`,
        'link',
        ip.linkMtu(want.uplink, want.bridge.mtu),
        `${want.uplink} mtu: want ${want.bridge.mtu} (mtu=), have ${uplinkLink.mtu}`,
      ),
    );
  }
  steps.push(...finish);

  // Bridge, its MAC, the uplink in it.
  const bridge = findLink(host, bridgeName);
  steps.push(...planBridge(want.bridge, host));
  settings.push(...listBridgeChanges(want.bridge, host));
  if (!bridge) created.push(bridgeName);
  if (uplinkMac !== undefined && (bridge?.mac !== uplinkMac || bridge.macPinned === false)) {
    // Pinning the MAC it already has changes nothing ip could put back.
    if (bridge?.mac !== undefined && bridge.mac !== uplinkMac)
      settings.push({ dev: bridgeName, kind: 'mac', before: bridge.mac });
    steps.push(
      makeStep(
        `bridge:${bridgeName}:mac`,
        'bridge',
        ip.linkMac(bridgeName, uplinkMac),
        `${bridgeName} MAC: want ${uplinkMac} (${want.uplink}'s, pinned so it never changes as vifs come and go), have ${
          bridge?.mac === uplinkMac ? `${bridge.mac} but not pinned` : (bridge?.mac ?? 'none yet')
        }`,
      ),
    );
  }
  if (uplinkLink?.master !== bridgeName) {
    enslave(uplinkLink, want.uplink, bridgeName);
    steps.push(
      makeStep(
        `port:${want.uplink}:master`,
        'port',
        ip.linkMaster(want.uplink, bridgeName),
        `${want.uplink}: want in ${bridgeName}, have ${uplinkLink?.master ? `in ${uplinkLink.master}` : 'not in a bridge'}`,
        true,
      ),
    );
  }

  // Netloop: dom0's veth, its peer in the bridge.
  const ups: Step[] = [...slaveUps];
  if (want.bond !== undefined)
    ups.push(...upStep(want.bond.name, host, bondDown && findLink(host, want.bond.name) !== undefined));
  else ups.push(...upStep(want.uplink, host));
  ups.push(...upStep(bridgeName, host));
  if (want.dom0.kind === 'netloop') {
    const { veth, vif, mac } = want.dom0;
    const vethLink = findLink(host, veth);
    const vifLink = findLink(host, vif);
    if (!vethLink && !vifLink) {
      created.push(veth);
      steps.push(
        makeStep(
          `link:${veth}:create`,
          'link',
          ip.linkAdd(veth, 'veth', ['peer', 'name', vif]),
          `${veth} and ${vif} do not exist; create the pair (dom0's end ${veth}, ${vif} in ${bridgeName})`,
        ),
      );
    } else if (!vethLink || !vifLink) {
      const missing = vethLink ? vif : veth;
      throw new XenplanError(
        'config',
        `dom0-port=${veth}:${vif}: ${missing} does not exist but ${missing === veth ? vif : veth} does; expected both ends of a veth pair, or neither`,
      );
    }
    if (mac !== undefined && vethLink?.mac !== mac) {
      if (vethLink?.mac !== undefined) settings.push({ dev: veth, kind: 'mac', before: vethLink.mac });
      steps.push(
        makeStep(
          `link:${veth}:mac`,
          'link',
          ip.linkMac(veth, mac),
          `${veth} MAC: want ${mac} (dom0-mac=), have ${vethLink?.mac ?? 'none yet'}`,
        ),
      );
    }
    // Xen gave dom0's netloop port its port MAC too: the bridge must never adopt it.
    if (vifLink?.mac?.toLowerCase() !== PORT_MAC) {
      if (vifLink?.mac !== undefined) settings.push({ dev: vif, kind: 'mac', before: vifLink.mac });
      steps.push(
        makeStep(
          `link:${vif}:mac`,
          'link',
          ip.linkMac(vif, PORT_MAC),
          `${vif} MAC: want ${PORT_MAC} so ${bridgeName} never adopts it, have ${vifLink?.mac ?? 'none yet'}`,
        ),
      );
    }
    if (vifLink?.master !== bridgeName) {
      enslave(vifLink, vif, bridgeName);
      steps.push(
        makeStep(
          `port:${vif}:master`,
          'port',
          ip.linkMaster(vif, bridgeName),
          `${vif}: want in ${bridgeName} (dom0's netloop port), have ${vifLink?.master ? `in ${vifLink.master}` : 'not in a bridge'}`,
        ),
      );
    }
    ups.push(...upStep(vif, host), ...upStep(veth, host));
  }
  steps.push(...ups);

  // dom0's addresses and routes.
  const sources = addressSources(want);
  const addresses = planAddresses(host, holder, sources, {
    ...(want.addresses === undefined ? {} : { explicit: want.addresses }),
    downed,
  });
  warnings.push(...addresses.warnings);
  const routes = planRoutes(host, holder, sources, want.gateway);
  steps.push(...addresses.add, ...addresses.remove, ...routes.steps);

  // sysctls.
  const nf = planBridgeNf(want.bridgeNf, host);
  steps.push(...nf.steps);
  warnings.push(...nf.warnings);

  return {
    plan: makePlan(steps, warnings),
    record: {
      version: 1,
      bridge: bridgeName,
      created,
      enslaved,
      addresses: addresses.moved,
      routes: routes.moved,
      sysctls: nf.changed,
      settings,
    },
    holder,
  };
}

/** The plan alone (status, verification). */
export function planNetwork(want: NetworkDesired, host: HostState): Plan {
  return planNetworkStart(want, host).plan;
}

/**
 * Lays a new run's record over the one already kept: what the earlier run created, enslaved
 * or moved stays recorded with its earlier "before" values.
 */
export function mergeRecords(old: StartRecord | undefined, next: StartRecord): StartRecord {
  if (old === undefined) return next;
  const union = <T>(a: readonly T[], b: readonly T[], key: (x: T) => string): T[] => {
    const seen = new Set(a.map(key));
    return [...a, ...b.filter((x) => !seen.has(key(x)))];
  };
  return {
    version: 1,
    bridge: next.bridge,
    created: union(old.created, next.created, (x) => x),
    enslaved: union(old.enslaved, next.enslaved, (x) => x.dev),
    addresses: union(old.addresses, next.addresses, (x) => `${x.to}:${x.cidr}`),
    routes: union(old.routes, next.routes, (x) => routeKey(x.route)),
    sysctls: union(old.sysctls, next.sysctls, (x) => x.key),
    // The oldest value before wins: a second start must not record its own change as the original.
    settings: union(old.settings, next.settings, (x) => `${x.dev}:${x.kind}:${'name' in x ? x.name : ''}`),
  };
}

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
 * The host once stop has released what start enslaved (back into the master each had before,
 * or none) and deleted what it created: what the setting restores are planned on.
 */
function hostAfterRelease(record: StartRecord, host: HostState, gone: ReadonlySet<string>): HostState {
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
 * Undo a start record on the host as it is now: release what start enslaved, delete what it
 * created (bridge, bond, veth), put back the settings it changed on devices it did not create
 * (bond mode and options, bridge options, MTU, MAC), bring released NICs back up when they were
 * up, put addresses and routes back where they were, restore sysctls. Plans only what differs:
 * once undone, the plan is empty.
 */
export function planNetworkStop(record: StartRecord, observed: HostState): Plan {
  const host = withRouteFamilies(observed);
  const steps: Step[] = [];
  const warnings: string[] = [];
  const gone = new Set(record.created.filter((name) => findLink(host, name) !== undefined));
  // A device whose master start created goes free when that master is deleted.
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
  for (const name of [...record.created].reverse())
    if (gone.has(name))
      steps.push(
        makeStep(`link:${name}:delete`, 'link', ip.linkDel(name), `${name} was created by start`, true),
      );
  // Settings start changed on devices it did not create, on the host as the steps above leave it.
  const restore = planSettingRestores(
    record.settings.filter((c) => !record.created.includes(c.dev)),
    hostAfterRelease(record, host, gone),
  );
  steps.push(...restore.steps);
  warnings.push(...restore.warnings);
  // Released bond slaves are left down by the kernel; bridge ports keep their state.
  for (const e of record.enslaved) {
    if (!e.up || record.created.includes(e.dev)) continue;
    const link = findLink(host, e.dev);
    if (!link) continue;
    const releasedFromBond = freed.has(e.dev) && findLink(host, e.master)?.kind === 'bond';
    const id = `link:${e.dev}:up`;
    if ((!link.up || releasedFromBond) && !steps.some((s) => s.id === id))
      steps.push(makeStep(id, 'link', ip.linkUp(e.dev), `${e.dev} was up before start`));
  }
  // Addresses back where they were, then off the holder that stays.
  for (const m of record.addresses) {
    if (m.from === undefined || !findLink(host, m.from) || record.created.includes(m.from)) continue;
    if (!hasAddress(host, m.from, m.cidr))
      steps.push(
        makeStep(
          `address:${m.from}:${m.cidr}`,
          'address',
          ip.addrAdd(m.from, m.cidr, m.broadcast === undefined ? [] : ['broadcast', m.broadcast]),
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
  for (const m of record.routes) {
    const dev = m.route.dev;
    if (dev === undefined || dev === m.to) {
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
      continue;
    }
    if (!findLink(host, dev) || record.created.includes(dev)) continue;
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
  return makePlan(steps, warnings);
}
