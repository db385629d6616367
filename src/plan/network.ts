import { XenplanError } from '../model/error.ts';
import { findLink, type HostState, type Link } from '../model/host.ts';
import type { NetworkDesired } from '../model/network.ts';
import { makePlan, type Plan, type Step } from '../model/plan.ts';
import type { EnslavedDevice, SettingChange, StartRecord } from '../model/record.ts';
import { PORT_MAC } from '../model/vif.ts';
import { planAddresses } from './address.ts';
import { bondMac, planBond } from './bond.ts';
import { listBridgeChanges, planBridge } from './bridge.ts';
import { ip } from './command.ts';
import { planLinkUp } from './link.ts';
import { netloopMac, planNetloop } from './netloop.ts';
import { planRecordedRoutes, planRoutes, routeKey, withRouteFamilies } from './route.ts';
import { makeStep } from './step.ts';
import { planBridgeNf } from './sysctl.ts';
import { planUplinkVlans } from './uplink-vlan.ts';

export interface NetworkPlan {
  readonly plan: Plan;
  /** What this plan changes, for the state file. */
  readonly record: StartRecord;
  /** Where dom0's addresses live: the bridge, or the netloop veth. */
  readonly holder: string;
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
 * A bond to create on a kernel without the bonding driver would pass dry-run and then fail in
 * apply with "Unknown device type": say so before anything changes, and what to do.
 */
function checkBonding(bond: string, host: HostState): void {
  const support = host.bonding;
  if (support?.state !== 'absent' || findLink(host, bond) !== undefined) return;
  throw new XenplanError(
    'environment',
    `bond=${bond}: the running kernel ${support.kernel} has no bonding driver (${support.looked}); nothing was changed. Install the modules of the running kernel (Debian: linux-image-${support.kernel}) or boot one with bonding, then run start again; or give netdev=NIC for one NIC without a bond`,
  );
}

/**
 * The whole start plan, ordered so dom0 is cut off as briefly as possible: bond (created down,
 * mode first), slaves (down, enslaved), bridge with its options and the uplink's MAC, uplink
 * enslaved, everything up, then addresses (added on the new holder, then deleted from the old
 * ones), routes re-created on the new holder, sysctls. Plans only what differs: on a host that
 * matches, the plan is empty. Ports already in the bridge other than the uplink (vif*, tap*)
 * are never touched. Routes an earlier start `recorded` for the holder and the kernel has
 * dropped since (a start killed after the addresses moved) are re-created.
 */
export function planNetworkStart(
  want: NetworkDesired,
  observed: HostState,
  recorded?: StartRecord,
): NetworkPlan {
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
    checkBonding(want.bond.name, host);
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
    for (const name of bond.slavesDown) slaveUps.push(...planLinkUp(name, host));
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

  // Bridge, its MAC, the uplink in it. Netloop with dom0 on the uplink's MAC: every port and
  // the bridge carry Xen's port MAC, as under Xen 3.x, so only dom0's veth answers to it.
  const bridge = findLink(host, bridgeName);
  steps.push(...planBridge(want.bridge, host));
  settings.push(...listBridgeChanges(want.bridge, host));
  if (!bridge) created.push(bridgeName);
  const portMacBridge = want.dom0.kind === 'netloop' && netloopMac(want.dom0, uplinkMac).fromUplink;
  const bridgeMac = portMacBridge ? PORT_MAC : uplinkMac;
  if (bridgeMac !== undefined && (bridge?.mac !== bridgeMac || bridge.macPinned === false)) {
    // Pinning the MAC it already has changes nothing ip could put back.
    if (bridge?.mac !== undefined && bridge.mac !== bridgeMac)
      settings.push({ dev: bridgeName, kind: 'mac', before: bridge.mac });
    const why = portMacBridge
      ? `Xen's port MAC: ${want.uplink}'s MAC belongs to dom0's netloop device`
      : `${want.uplink}'s, pinned so it never changes as vifs come and go`;
    steps.push(
      makeStep(
        `bridge:${bridgeName}:mac`,
        'bridge',
        ip.linkMac(bridgeName, bridgeMac),
        `${bridgeName} MAC: want ${bridgeMac} (${why}), have ${
          bridge?.mac === bridgeMac ? `${bridge.mac} but not pinned` : (bridge?.mac ?? 'none yet')
        }`,
      ),
    );
  }
  // Netloop: dom0's addresses live on the veth, so the bridge must not answer ARP for them
  // (Linux answers for any local address on any device): its MAC would replace dom0's in the
  // LAN's ARP caches. Xen 3.x's create_bridge set "arp off" on the bridge for the same reason.
  if (want.dom0.kind === 'netloop' && bridge?.noarp !== true) {
    if (bridge !== undefined) settings.push({ dev: bridgeName, kind: 'arp', before: 'on' });
    steps.push(
      makeStep(
        `bridge:${bridgeName}:arp`,
        'bridge',
        ip.linkArp(bridgeName, false),
        `${bridgeName} ARP: want off, have on: dom0's addresses live on ${want.dom0.veth}, and ${bridgeName} would answer ARP for them with its own MAC (Xen 3.x's create_bridge did the same)`,
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

  // Everything up; netloop: dom0's veth, its peer in the bridge.
  const ups: Step[] = [...slaveUps];
  if (want.bond !== undefined)
    ups.push(...planLinkUp(want.bond.name, host, bondDown && findLink(host, want.bond.name) !== undefined));
  else ups.push(...planLinkUp(want.uplink, host));
  ups.push(...planLinkUp(bridgeName, host));
  if (want.dom0.kind === 'netloop') {
    const netloop = planNetloop(want.dom0, bridgeName, host, { name: want.uplink, mac: uplinkMac });
    created.push(...netloop.created);
    settings.push(...netloop.settings);
    enslaved.push(...netloop.enslaved);
    steps.push(...netloop.steps);
    ups.push(...netloop.ups);
  }
  steps.push(...ups);

  // VLANs on the uplink (vlans=): each VLAN device in a bridge of its own.
  const vlans = planUplinkVlans(want, host, portMacBridge ? undefined : uplinkMac);
  steps.push(...vlans.steps);
  created.push(...vlans.created);
  settings.push(...vlans.settings);
  for (const e of vlans.enslaved) enslave(findLink(host, e.dev), e.dev, e.master);

  // dom0's addresses and routes.
  const sources = addressSources(want);
  const addresses = planAddresses(host, holder, sources, {
    ...(want.addresses === undefined
      ? {}
      : { explicit: want.addresses, explicitFrom: want.addressesFrom ?? 'address=' }),
    ...(want.dhcp === undefined ? {} : { dhcp: want.dhcp }),
    downed,
  });
  warnings.push(...addresses.warnings);
  const routes = planRoutes(host, holder, sources, want.gateway);
  const planned = new Set(routes.moved.map((m) => routeKey(m.route)));
  if (want.gateway !== undefined)
    planned.add(routeKey({ family: want.gateway.includes(':') ? 'inet6' : 'inet', dst: 'default' }));
  const again = planRecordedRoutes(host, holder, recorded?.routes ?? [], planned);
  steps.push(...addresses.add, ...addresses.remove, ...routes.steps, ...again);

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
export function planNetwork(want: NetworkDesired, host: HostState, recorded?: StartRecord): Plan {
  return planNetworkStart(want, host, recorded).plan;
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
    ...(next.words === undefined
      ? old.words === undefined
        ? {}
        : { words: old.words }
      : { words: next.words }),
  };
}
