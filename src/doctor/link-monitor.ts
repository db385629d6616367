import type { Finding } from '../model/finding.ts';
import { type BondFacts, hasSeparateSwitches, optionNumber } from './facts.ts';
import { makeFinding, type Rule } from './rule.ts';

/** Link monitoring: BOND007-012. */

function arpInterval(b: BondFacts): number {
  return optionNumber(b.options, 'arp_interval') ?? 0;
}

function arpTargets(b: BondFacts): string[] {
  return (b.options.arp_ip_target ?? '')
    .split(/[,\s]+/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

const noLinkMonitor: Rule = {
  id: 'BOND007',
  name: 'no-link-monitor',
  summary: 'neither miimon nor arp_interval is set (warning when the config just leaves miimon out)',
  severity: 'error',
  check(facts) {
    const out: Finding[] = [];
    for (const b of facts.bonds) {
      if (arpInterval(b) > 0 || (b.miimon ?? 0) > 0) continue;
      const unset = b.miimon === undefined;
      out.push(
        makeFinding(noLinkMonitor, {
          severity: unset ? 'warning' : 'error',
          message: unset
            ? `${b.name}: the config sets neither miimon nor arp_interval; older kernels (such as Xen 3.x-era dom0s) then run the bond with no link monitoring, so it cannot detect a failed slave`
            : `${b.name} has no link monitoring (miimon=0, arp_interval=0): the bond cannot detect a failed slave and will keep sending into it`,
          fix: `set miimon=100 on ${b.name} (BONDING_OPTS='... miimon=100'), or the ARP monitor with bond.arp_interval and bond.arp_ip_target`,
          source:
            'bonding.rst §2 ("critical that either miimon or arp_interval and arp_ip_target ... be specified"), FAQ 5',
          objects: [b.name],
        }),
      );
    }
    return out;
  },
};

const miimonAndArpBoth: Rule = {
  id: 'BOND008',
  name: 'miimon-and-arp-both',
  summary: 'miimon and arp_interval both set; one silently disables the other',
  severity: 'error',
  check(facts) {
    return facts.bonds
      .filter((b) => (b.miimon ?? 0) > 0 && arpInterval(b) > 0)
      .map((b) =>
        makeFinding(miimonAndArpBoth, {
          message: `${b.name} sets both miimon=${b.miimon} and arp_interval=${arpInterval(b)}: MII and ARP monitoring cannot run together; one silently disables the other`,
          fix: `choose one: miimon=0 to keep the ARP monitor, or bond.arp_interval=0 to keep miimon=${b.miimon}`,
          source: 'bonding.rst arp_interval, §7, §3.4; nmstate rust/src/lib/ifaces/bond.rs',
          objects: [b.name],
        }),
      );
  },
};

const ARP_MONITOR_LESS_MODES = new Set(['802.3ad', 'balance-tlb', 'balance-alb']);

const arpMonitorMisconfigured: Rule = {
  id: 'BOND009',
  name: 'arp-monitor-misconfigured',
  summary: 'arp_interval set in 802.3ad/tlb/alb, or with no arp_ip_target',
  severity: 'error',
  check(facts) {
    const out: Finding[] = [];
    for (const b of facts.bonds) {
      if (arpInterval(b) === 0) continue;
      const badMode = ARP_MONITOR_LESS_MODES.has(b.mode);
      const noTargets = arpTargets(b).length === 0;
      if (!badMode && !noTargets) continue;
      out.push(
        makeFinding(arpMonitorMisconfigured, {
          message: badMode
            ? `${b.name} sets arp_interval=${arpInterval(b)} in mode ${b.mode}: the ARP monitor is unavailable in this mode`
            : `${b.name} sets arp_interval=${arpInterval(b)} with no arp_ip_target: the ARP monitor has no targets`,
          fix: badMode
            ? `use miimon=100 and bond.arp_interval=0 on ${b.name}`
            : `add 1-16 targets (bond.arp_ip_target=<gateway>,<host behind the other switch>) or use miimon=100`,
          source: 'bonding.rst §12.1.1 (802.3ad mandates MII; tlb/alb lack the ARP monitor), arp_ip_target',
          objects: [b.name],
        }),
      );
    }
    return out;
  },
};

const multiSwitchMiimonOnly: Rule = {
  id: 'BOND010',
  name: 'multi-switch-miimon-only',
  summary: 'active-backup across switches with only miimon misses uplink failures behind a switch',
  severity: 'info',
  check(facts) {
    return facts.bonds
      .filter(
        (b) =>
          b.mode === 'active-backup' &&
          hasSeparateSwitches(facts, b) &&
          (b.miimon ?? 0) > 0 &&
          arpInterval(b) === 0,
      )
      .map((b) =>
        makeFinding(multiSwitchMiimonOnly, {
          message: `${b.name} is active-backup across separate switches with only miimon: miimon only sees local carrier, so an uplink/ISL failure behind a switch will not trigger failover; guest MACs are not re-announced after failover`,
          fix: 'ARP monitor with one arp_ip_target per switch side (verify it under the bridge on your kernel), or switch link-state tracking; make sure both switches share the L2 domain',
          source: 'bonding.rst §8.3, §11.2.2; Red Hat KB 27863; bond_main.c bond_verify_device_path',
          objects: [b.name],
        }),
      );
  },
};

const delayWithoutMiimon: Rule = {
  id: 'BOND011',
  name: 'delay-without-miimon',
  summary: 'updelay/downdelay without miimon, or not a multiple of miimon',
  severity: 'warning',
  check(facts) {
    const out: Finding[] = [];
    for (const b of facts.bonds) {
      const miimon = b.miimon ?? 0;
      for (const key of ['updelay', 'downdelay']) {
        const delay = optionNumber(b.options, key) ?? 0;
        if (delay === 0) continue;
        if (miimon > 0 && delay % miimon === 0) continue;
        out.push(
          makeFinding(delayWithoutMiimon, {
            message:
              miimon === 0
                ? `${b.name} sets ${key}=${delay} without miimon: up/downdelay only apply to the MII monitor`
                : `${b.name} sets ${key}=${delay}, not a multiple of miimon=${miimon}: it is rounded down to ${Math.floor(delay / miimon) * miimon}`,
            fix:
              miimon === 0
                ? `set miimon=100 on ${b.name}, or drop bond.${key}`
                : `bond.${key}=${Math.max(1, Math.round(delay / miimon)) * miimon}`,
            source: 'bonding.rst updelay, downdelay; ifupdown2 addons/bond.py syntax_check_updown_delay',
            objects: [b.name],
          }),
        );
      }
    }
    return out;
  },
};

const FAILOVER_MODES = new Set(['active-backup', 'balance-tlb', 'balance-alb']);

const updelayShorterThanSwitchForwarding: Rule = {
  id: 'BOND012',
  name: 'updelay-shorter-than-switch-forwarding',
  summary: 'updelay shorter than the declared switch port forwarding time (updelay-needed-ms)',
  severity: 'warning',
  check(facts) {
    const needed = Number(facts.topology['updelay-needed-ms'] ?? 'NaN');
    if (!Number.isFinite(needed) || needed <= 0) return [];
    return facts.bonds
      .filter((b) => FAILOVER_MODES.has(b.mode) && (optionNumber(b.options, 'updelay') ?? 0) < needed)
      .map((b) =>
        makeFinding(updelayShorterThanSwitchForwarding, {
          message: `${b.name} has updelay=${optionNumber(b.options, 'updelay') ?? 0} ms but the switch ports need ${needed} ms to forward: the bond may fail back onto a port the switch is not forwarding yet (black hole)`,
          fix: `bond.updelay=${Math.ceil(needed / (b.miimon || 100)) * (b.miimon || 100)} on ${b.name} (XenServer uses 31000), or make the switch ports edge/portfast`,
          source: 'bonding.rst §13.1; openvswitch bonding.rst; XenServer InterfaceReconfigureBridge.py',
          objects: [b.name],
        }),
      );
  },
};

export const LINK_MONITOR_RULES: readonly Rule[] = [
  noLinkMonitor,
  miimonAndArpBoth,
  arpMonitorMisconfigured,
  multiSwitchMiimonOnly,
  delayWithoutMiimon,
  updelayShorterThanSwitchForwarding,
];
