import { XenplanError } from '../model/error.ts';
import { findLink, type HostState, type Link, portsOf } from '../model/host.ts';
import type { BondDesired } from '../model/network.ts';
import type { Step } from '../model/plan.ts';
import { planNoLinkLocal } from './bridge.ts';
import { bondArgs, ip } from './command.ts';
import { makeStep } from './step.ts';

/** Options the kernel takes only while the bond has no slaves. */
const NO_SLAVES = new Set(['mode', 'fail_over_mac']);
/** Options the kernel takes only while the bond is down. */
const IF_DOWN = new Set([
  'mode',
  'tlb_dynamic_lb',
  'ad_actor_sys_prio',
  'ad_actor_system',
  'ad_user_port_key',
]);
/** Options that name a slave: set once the slaves are in. */
const AFTER_SLAVES = new Set(['primary']);

/** Where `ip -json -details` reports an option whose sysfs name differs. */
const JSON_NAMES: Readonly<Record<string, string>> = {
  peer_notif_delay: 'peer_notify_delay',
  num_grat_arp: 'num_peer_notif',
  num_unsol_na: 'num_peer_notif',
  lacp_rate: 'ad_lacp_rate',
  lacp_active: 'ad_lacp_active',
};

export interface BondPlan {
  /** Bond creation or repair, before slaves are enslaved. */
  readonly prepare: Step[];
  /** Slaves down and enslaved. */
  readonly slaves: Step[];
  /** Options that name a slave (primary), once the slaves are in. */
  readonly finish: Step[];
  /** The bond is down when the slave steps end (created, or taken down to change its mode). */
  readonly bondDown: boolean;
  readonly created: boolean;
  /** Slaves this plan puts into the bond, with their state before. */
  readonly enslaved: readonly Link[];
  /** Slaves the plan takes down (their IPv6 addresses go with it). */
  readonly downed: readonly string[];
  /** Slaves taken out of the bond (to change its mode, or not wanted). */
  readonly released: readonly string[];
  /** Slaves already in the bond but administratively down. */
  readonly slavesDown: readonly string[];
  /** Options this plan changes on an existing bond, by sysfs name, with their observed values. */
  readonly changed: readonly { readonly name: string; readonly before: string }[];
  readonly warnings: string[];
}

/** The option as observed, by sysfs name; undefined when ip does not report it. */
export function observedBondOption(bond: Link, name: string): string | undefined {
  const state = bond.bond;
  if (!state) return undefined;
  if (name === 'mode') return state.mode;
  const value = state.options[JSON_NAMES[name] ?? name];
  if (value === undefined && name === 'primary') return '';
  return value;
}

/** Checks that every slave exists and can be a slave. Throws a config error naming the bad one. */
export function checkSlaves(want: BondDesired, host: HostState): void {
  for (const slave of want.slaves) {
    const link = findLink(host, slave);
    if (!link)
      throw new XenplanError(
        'config',
        `slaves=${want.slaves.join(',')}: ${slave} does not exist; expected existing NICs to put in ${want.name}`,
      );
    if (link.kind === 'bridge' || link.kind === 'bond')
      throw new XenplanError(
        'config',
        `slaves=${want.slaves.join(',')}: ${slave} is a ${link.kind}; expected NICs to put in ${want.name}`,
      );
  }
}

/**
 * Steps that make bond `want.name` exist with the wanted mode and options and hold exactly the
 * wanted slaves. A bond that is right is left alone (never taken down); a wrong mode or
 * fail_over_mac needs the bond down and empty, so those steps are marked disruptive.
 */
export function planBond(want: BondDesired, host: HostState): BondPlan {
  checkSlaves(want, host);
  const link = findLink(host, want.name);
  const prepare: Step[] = [];
  const finish: Step[] = [];
  const warnings: string[] = [];
  const options = Object.entries(want.options).filter(([k]) => !AFTER_SLAVES.has(k));
  const later = Object.entries(want.options).filter(([k]) => AFTER_SLAVES.has(k));
  const changed: { name: string; before: string }[] = [];
  let released = new Set<string>();
  let bondDown = false;
  let created = false;
  if (!link) {
    created = true;
    bondDown = true;
    const all: [string, string][] = [['mode', want.mode], ...options];
    prepare.push(
      makeStep(
        `bond:${want.name}:create`,
        'bond',
        ip.linkAdd(want.name, 'bond', bondArgs(all)),
        `${want.name} does not exist; create it (${all.map(([k, v]) => `${k} ${v}`).join(', ')})`,
      ),
    );
    prepare.push(planNoLinkLocal(want.name, 'bond'));
    for (const [name, value] of later)
      finish.push(
        makeStep(
          `bond:${want.name}:${name}`,
          'bond',
          ip.linkType(want.name, 'bond', bondArgs([[name, value]])),
          `${want.name} ${name}: want ${value} (set once the slaves are in)`,
        ),
      );
  } else {
    if (link.kind !== 'bond')
      throw new XenplanError(
        'config',
        `bond=${want.name}: ${want.name} exists but is a ${link.kind ?? 'plain'} device, not a bond; choose another bond= name`,
      );
    const differing: [string, string, string][] = [];
    for (const [name, value] of [['mode', want.mode] as [string, string], ...options]) {
      const have = observedBondOption(link, name);
      if (have === undefined) {
        warnings.push(
          `${want.name} ${name}: the kernel does not report it, so it cannot be checked; left as is`,
        );
        continue;
      }
      if (have !== value) differing.push([name, value, have]);
    }
    for (const [name, , have] of differing) changed.push({ name, before: have });
    const needEmpty = differing.some(([k]) => NO_SLAVES.has(k));
    const needDown = differing.some(([k]) => IF_DOWN.has(k)) || needEmpty;
    const current = portsOf(host, want.name);
    const what = differing.map(([k, v, h]) => `${k}: want ${v}, have ${h}`).join(', ');
    if (needDown) {
      bondDown = true;
      if (link.up)
        prepare.push(
          makeStep(
            `bond:${want.name}:down`,
            'bond',
            ip.linkDown(want.name),
            `${want.name} ${what}: the kernel changes this only while ${want.name} is down; traffic through it stops until it is up again`,
            true,
          ),
        );
    }
    if (needEmpty) released = new Set(current.map((s) => s.name));
    for (const slave of current) if (!want.slaves.includes(slave.name)) released.add(slave.name);
    for (const slave of current.filter((s) => released.has(s.name)))
      prepare.push(
        makeStep(
          `slave:${slave.name}:release`,
          'slave',
          ip.linkNoMaster(slave.name),
          want.slaves.includes(slave.name)
            ? `${slave.name} leaves ${want.name} for a moment: the kernel changes ${differing
                .filter(([k]) => NO_SLAVES.has(k))
                .map(([k]) => k)
                .join(' and ')} only on a bond without slaves`
            : `${slave.name} is in ${want.name} but not one of its slaves (${want.slaves.join(',')})`,
          true,
        ),
      );
    if (differing.length > 0)
      prepare.push(
        makeStep(
          `bond:${want.name}:options`,
          'bond',
          ip.linkType(want.name, 'bond', bondArgs(differing.map(([k, v]) => [k, v] as const))),
          `${want.name} ${what}`,
          needDown,
        ),
      );
    for (const [name, value] of later) {
      const have = observedBondOption(link, name);
      if (have !== value && have !== undefined) changed.push({ name, before: have });
      if (have !== value || released.has(value))
        finish.push(
          makeStep(
            `bond:${want.name}:${name}`,
            'bond',
            ip.linkType(want.name, 'bond', bondArgs([[name, value]])),
            `${want.name} ${name}: want ${value}, have ${have === '' || have === undefined ? 'none' : have}`,
          ),
        );
    }
  }
  const slaves: Step[] = [];
  const enslaved: Link[] = [];
  const downed: string[] = [];
  const slavesDown: string[] = [];
  for (const name of want.slaves) {
    const slave = findLink(host, name)!;
    const inBond = slave.master === want.name && !released.has(name);
    if (inBond) {
      if (!slave.up) slavesDown.push(name);
      continue;
    }
    enslaved.push(slave);
    // The kernel enslaves only a slave that is down (a released one already is).
    if (slave.up && !released.has(name)) {
      downed.push(name);
      slaves.push(
        makeStep(
          `slave:${name}:down`,
          'slave',
          ip.linkDown(name),
          `${name} must be down to join ${want.name}`,
          true,
        ),
      );
    }
    const have = released.has(name) ? `released above` : slave.master ? `in ${slave.master}` : 'in no bond';
    slaves.push(
      makeStep(
        `slave:${name}:master`,
        'slave',
        ip.linkMaster(name, want.name),
        `${name}: want in ${want.name}, have ${have}`,
        true,
      ),
    );
  }
  return {
    prepare,
    slaves,
    finish,
    bondDown,
    created,
    enslaved,
    downed,
    released: [...released],
    slavesDown,
    changed,
    warnings,
  };
}

/** The MAC the bond will carry once its slaves are in: its own while it keeps a slave, else its first slave's. */
export function bondMac(want: BondDesired, host: HostState, plan: BondPlan): string | undefined {
  const link = findLink(host, want.name);
  const kept = portsOf(host, want.name).filter((s) => !plan.released.includes(s.name));
  if (link && kept.length > 0) return link.mac;
  const first = want.slaves[0];
  return first === undefined ? undefined : findLink(host, first)?.mac;
}
