/**
 * The kernel's bonding options as `bond.<option>=` settings: the table (names, kinds, ranges,
 * the modes each is valid in) and the check of one option's value. Pure.
 */
import { checkMac, isIpv4, show } from '../model/names.ts';
import { bad, type Checked, checkChoice, checkIfname, checkInt, INT_MAX, ok } from './value.ts';

const MODES_NOT_LB = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast'] as const;

export interface BondOption {
  /** sysfs name under /sys/class/net/<bond>/bonding/. */
  readonly name: string;
  readonly kind: 'int' | 'enum' | 'flag' | 'ifname' | 'mac' | 'ipv4-list';
  readonly min?: number;
  readonly max?: number;
  /** Enum names, indexed by the kernel's number for them. */
  readonly values?: readonly string[];
  /** Modes the kernel accepts the option in; absent: all. */
  readonly modes?: readonly string[];
  readonly help: string;
}

/** Kernel bonding options (drivers/net/bonding/bond_options.c, Documentation/networking/bonding.rst). */
export const BOND_OPTIONS: readonly BondOption[] = [
  {
    name: 'ad_actor_sys_prio',
    kind: 'int',
    min: 1,
    max: 65535,
    modes: ['802.3ad'],
    help: 'LACP system priority',
  },
  { name: 'ad_actor_system', kind: 'mac', modes: ['802.3ad'], help: 'LACP system MAC (unicast)' },
  {
    name: 'ad_select',
    kind: 'enum',
    values: ['stable', 'bandwidth', 'count'],
    help: '802.3ad aggregator selection',
  },
  {
    name: 'ad_user_port_key',
    kind: 'int',
    min: 0,
    max: 1023,
    modes: ['802.3ad'],
    help: 'LACP user port key bits',
  },
  { name: 'all_slaves_active', kind: 'flag', help: 'deliver frames received on inactive slaves (0|1)' },
  {
    name: 'arp_all_targets',
    kind: 'enum',
    values: ['any', 'all'],
    help: 'slave is up if any/all ARP targets answer',
  },
  {
    name: 'arp_interval',
    kind: 'int',
    min: 0,
    max: INT_MAX,
    modes: MODES_NOT_LB,
    help: 'ARP monitor interval, ms',
  },
  {
    name: 'arp_ip_target',
    kind: 'ipv4-list',
    help: 'ARP monitor targets, IPv4, comma separated (at most 16)',
  },
  {
    name: 'arp_missed_max',
    kind: 'int',
    min: 1,
    max: 255,
    modes: MODES_NOT_LB,
    help: 'missed ARP intervals before down',
  },
  {
    name: 'arp_validate',
    kind: 'enum',
    values: ['none', 'active', 'backup', 'all', 'filter', 'filter_active', 'filter_backup'],
    modes: MODES_NOT_LB,
    help: 'which ARP replies count',
  },
  {
    name: 'downdelay',
    kind: 'int',
    min: 0,
    max: INT_MAX,
    help: 'ms to wait before disabling a failed slave',
  },
  {
    name: 'fail_over_mac',
    kind: 'enum',
    values: ['none', 'active', 'follow'],
    help: 'MAC handling on failover',
  },
  {
    name: 'lacp_active',
    kind: 'enum',
    values: ['off', 'on'],
    modes: ['802.3ad'],
    help: 'send LACPDUs unasked',
  },
  {
    name: 'lacp_rate',
    kind: 'enum',
    values: ['slow', 'fast'],
    modes: ['802.3ad'],
    help: 'LACPDU rate asked of the partner',
  },
  {
    name: 'lp_interval',
    kind: 'int',
    min: 1,
    max: INT_MAX,
    help: 'seconds between learning packets (tlb/alb)',
  },
  { name: 'min_links', kind: 'int', min: 0, max: INT_MAX, help: 'slaves needed before carrier is on' },
  { name: 'num_grat_arp', kind: 'int', min: 0, max: 255, help: 'peer notifications after failover' },
  { name: 'num_unsol_na', kind: 'int', min: 0, max: 255, help: 'peer notifications after failover' },
  {
    name: 'packets_per_slave',
    kind: 'int',
    min: 0,
    max: 65535,
    modes: ['balance-rr'],
    help: 'packets per slave in balance-rr',
  },
  { name: 'peer_notif_delay', kind: 'int', min: 0, max: INT_MAX, help: 'ms between peer notifications' },
  {
    name: 'primary',
    kind: 'ifname',
    modes: ['active-backup', 'balance-tlb', 'balance-alb'],
    help: 'preferred slave (one of slaves=)',
  },
  {
    name: 'primary_reselect',
    kind: 'enum',
    values: ['always', 'better', 'failure'],
    help: 'when the primary takes over again',
  },
  { name: 'resend_igmp', kind: 'int', min: 0, max: 255, help: 'IGMP reports after failover' },
  {
    name: 'tlb_dynamic_lb',
    kind: 'flag',
    modes: ['balance-tlb', 'balance-alb'],
    help: 'shuffle flows between slaves (0|1)',
  },
  {
    name: 'updelay',
    kind: 'int',
    min: 0,
    max: INT_MAX,
    help: 'ms to wait before enabling a recovered slave',
  },
  { name: 'use_carrier', kind: 'flag', help: 'miimon reads the carrier state (0|1)' },
  {
    name: 'xmit_hash_policy',
    kind: 'enum',
    values: ['layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4', 'vlan+srcmac'],
    help: 'transmit hash of balance-xor, 802.3ad, balance-tlb',
  },
];

export const BOND_OPTION_INDEX = new Map(BOND_OPTIONS.map((o) => [o.name, o]));
const MAX_ARP_TARGETS = 16;

/** The check of one `bond.<option>=` value, by the option's kind. */
export function checkBondOption(option: BondOption) {
  return (value: string): Checked => {
    switch (option.kind) {
      case 'int':
        return checkInt(option.min ?? 0, option.max ?? INT_MAX)(value);
      case 'flag':
        return checkChoice(['0', '1'], { off: '0', on: '1' })(value);
      case 'enum': {
        const values = option.values ?? [];
        if (/^[0-9]$/.test(value) && values[Number(value)] !== undefined)
          return ok(values[Number(value)] ?? value);
        if (values.includes(value)) return ok(value);
        return bad(`expected one of ${values.join(', ')} or 0-${values.length - 1}`);
      }
      case 'ifname':
        return checkIfname(value);
      case 'mac': {
        const problem = checkMac(value);
        if (problem !== undefined) return bad(problem);
        const first = Number.parseInt(value.slice(0, 2), 16);
        if ((first & 1) === 1 || /^(00:){5}00$/.test(value))
          return bad('expected a unicast, non-zero MAC address');
        return ok(value.toLowerCase());
      }
      case 'ipv4-list': {
        const targets = value.split(',');
        if (targets.length > MAX_ARP_TARGETS)
          return bad(`expected at most ${MAX_ARP_TARGETS} IPv4 addresses`);
        const wrong = targets.find((t) => !isIpv4(t));
        if (wrong !== undefined)
          return bad(`${show(wrong)} is not an IPv4 address; expected IPv4 addresses, comma separated`);
        return ok(value);
      }
    }
  };
}
