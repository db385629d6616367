import { ADDRESS_RULES } from './address.ts';
import { BOND_MODE_RULES } from './bond-mode.ts';
import { BOND_OPTION_RULES } from './bond-options.ts';
import { BRIDGE_RULES } from './bridge.ts';
import { IFCFG_RULES } from './ifcfg.ts';
import { LINK_MONITOR_RULES } from './link-monitor.ts';
import { MTU_RULES } from './mtu.ts';
import { NETFILTER_RULES } from './netfilter.ts';
import type { Rule } from './rule.ts';
import { VLAN_RULES } from './vlan.ts';
import { XEN_RULES } from './xen.ts';

export type { Rule } from './rule.ts';

/**
 * Every doctor rule: the 25 of research/bonding-lint-rules.md §3 (BOND001-015, BR001-004,
 * IP001, ARP001-002, NF001-002, MTU001), then the VLAN rules (VLAN001-002) and xenplan's own
 * notes (XEN001, XEN002, IFCFG001).
 *
 * Declared facts the rules read from `NetworkDesired.topology` (free key/value map):
 * - `switches` = `separate` | `stacked` | `single`: where the bond's slaves end. Only
 *   `separate` changes anything (BOND002, BOND010, BOND014); with no declaration doctor
 *   assumes nothing about switches, except what 802.3ad partner MACs in
 *   /proc/net/bonding show (different partners = separate switches).
 * - `lacp` = `mlag`: the switches act as one LACP partner (MLAG/vPC/stack), so 802.3ad
 *   across them is safe (BOND002).
 * - `updelay-needed-ms` = milliseconds the upstream switch ports take to forward after
 *   link-up (e.g. `30000` for classic STP without portfast); BOND012 wants updelay >= it.
 * - `port-group` = `static`: the switch ports are a static EtherChannel/trunk, as
 *   balance-rr/balance-xor need (silences BOND006).
 * - `slb` = `filtered`: balance-xor with xmit_hash_policy=vlan+srcmac has SLB-style receive
 *   filtering (NM balance-slb), so it counts as safe across switches (BOND002, BOND006).
 * - `antispoof` = `yes`: the admin relies on vif antispoofing; NF001 becomes an error.
 */
export const RULES: readonly Rule[] = [
  ...BOND_MODE_RULES,
  ...LINK_MONITOR_RULES,
  ...BOND_OPTION_RULES,
  ...BRIDGE_RULES,
  ...ADDRESS_RULES,
  ...NETFILTER_RULES,
  ...MTU_RULES,
  ...VLAN_RULES,
  // xenplan-specific notes, not research rules:
  ...XEN_RULES,
  ...IFCFG_RULES,
];

export function findRule(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id);
}
