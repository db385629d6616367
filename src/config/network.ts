/**
 * network-script settings → NetworkDesired. Settings come as `key=value` words (argv, or the
 * `network-script` string xend splits on spaces), from a config file (`config=FILE`) and from a
 * Red Hat ifcfg directory (`ifcfg=DIR`); words override the file, which overrides ifcfg.
 * Pure: the caller reads the files and observes the default route, and passes them in.
 */
import { XenplanError } from '../model/error.ts';
import { checkCidr, checkInterfaceName, checkMac, checkMtu, isIp, isIpv4, show } from '../model/names.ts';
import type { BondDesired, BridgeDesired, BridgeNf, Dom0Layout, NetworkDesired } from '../model/network.ts';
import { BOND_MODES } from '../model/network.ts';
import type { RawSetting } from './file.ts';
import { parseConfigText } from './file.ts';
import { parseIfcfgFiles } from './ifcfg.ts';

/** What ifcfg files, the config file or words declare that xenplan does not apply (for doctor). */
export interface DeclaredFacts {
  /** Devices declared with ARP off (`ARP=no`, `noarp=`). */
  noarp?: string[];
  /** sysctls the admin sets elsewhere (`sysctl.net.bridge.bridge-nf-call-iptables=0`). */
  sysctls?: Record<string, string>;
  /** MACADDR/HWADDR per device, lowercase. */
  macs?: Record<string, string>;
  /** ONBOOT per device. */
  onboot?: Record<string, boolean>;
}

export interface SettingsInput {
  /** key=value words from argv (the command word already removed). */
  words: string[];
  /** Contents of config=FILE if given (the caller reads it). */
  configText?: { name: string; text: string };
  /** File name → contents of every ifcfg-* file in ifcfg=DIR. */
  ifcfg?: Record<string, string>;
  /** Device of the default route, observed by the caller. */
  defaultRouteDev?: string;
}

/** A checked value: its normal form, or why it is wrong (text after `key=value: `). */
type Checked = { readonly ok: string } | { readonly problem: string };

export interface NetworkKey {
  /** The key as written; `bond.<option>` and `sysctl.<name>` stand for families of keys. */
  readonly key: string;
  /** Kind of value, for --help. */
  readonly type: string;
  /** Default as shown in --help; absent when there is none. */
  readonly default?: string;
  readonly help: string;
  readonly example: string;
  /** Comma-separated list; repeating the key adds to it. */
  readonly list?: boolean;
  /** Only read from the command line (names a file the caller reads). */
  readonly commandLineOnly?: boolean;
  /** Validates and normalises one value (one item for lists). */
  readonly check: (value: string) => Checked;
}

const INT_MAX = 2147483647;
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

const BOND_OPTION_INDEX = new Map(BOND_OPTIONS.map((o) => [o.name, o]));
const MAX_ARP_TARGETS = 16;

// ---------------------------------------------------------------- value checks

const ok = (value: string): Checked => ({ ok: value });
const bad = (problem: string): Checked => ({ problem });

function checkIfname(value: string): Checked {
  const problem = checkInterfaceName(value);
  return problem === undefined ? ok(value) : bad(problem);
}

function checkChoice(choices: readonly string[], aliases: Record<string, string> = {}) {
  return (value: string): Checked => {
    const v = aliases[value.toLowerCase()] ?? value.toLowerCase();
    return choices.includes(v) ? ok(v) : bad(`expected one of ${choices.join(', ')}`);
  };
}

const checkOnOff = checkChoice(['on', 'off'], { yes: 'on', no: 'off' });
const checkYesNo = checkChoice(['yes', 'no'], { on: 'yes', off: 'no' });

function checkBondMode(value: string): Checked {
  if (/^[0-6]$/.test(value)) return ok(BOND_MODES[Number(value)] ?? value);
  if (BOND_MODES.includes(value)) return ok(value);
  return bad(`expected one of ${BOND_MODES.join(', ')} or 0-${BOND_MODES.length - 1}`);
}

function checkInt(min: number, max: number) {
  return (value: string): Checked => {
    if (/^(0|[1-9][0-9]{0,9})$/.test(value) && Number(value) >= min && Number(value) <= max) return ok(value);
    return bad(`expected a whole number from ${min} to ${max}`);
  };
}

/** Seconds with up to two decimals → centiseconds (ip link's unit), as text. */
function checkSeconds(min: number, max: number) {
  return (value: string): Checked => {
    const m = /^([0-9]{1,3})(?:\.([0-9]{1,2}))?$/.exec(value);
    const cs = m === null ? Number.NaN : Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
    if (cs >= min * 100 && cs <= max * 100) return ok(String(cs));
    return bad(`expected seconds from ${min} to ${max} (up to two decimals)`);
  };
}

function checkMtuValue(value: string): Checked {
  const problem = checkMtu(value);
  return problem === undefined ? ok(value) : bad(problem);
}

function checkAddress(value: string): Checked {
  const problem = checkCidr(value);
  return problem === undefined ? ok(value.toLowerCase()) : bad(problem);
}

function checkIpValue(value: string): Checked {
  return isIp(value) ? ok(value.toLowerCase()) : bad('expected an IP address like 192.0.2.1');
}

function checkMacValue(value: string): Checked {
  const problem = checkMac(value);
  return problem === undefined ? ok(value.toLowerCase()) : bad(problem);
}

function checkDom0Port(value: string): Checked {
  if (value === 'bridge') return ok(value);
  const parts = value.split(':');
  const expected = 'expected VETH:VIF (like veth0:vif0.0) for the netloop layout, or bridge';
  if (parts.length !== 2) return bad(expected);
  for (const part of parts) {
    const problem = checkInterfaceName(part ?? '');
    if (problem !== undefined) return bad(`${problem}; ${expected}`);
  }
  if (parts[0] === parts[1]) return bad(`the two ends must differ; ${expected}`);
  return ok(value);
}

function checkPath(value: string): Checked {
  if (value.length > 0 && value.length <= 4096 && /^[A-Za-z0-9_./+@:,-]+$/.test(value)) return ok(value);
  return bad('expected a path made of letters, digits and _ . / + @ : , -');
}

function checkSysctlValue(value: string): Checked {
  if (/^[A-Za-z0-9_.:,/+-]{1,256}$/.test(value)) return ok(value);
  return bad('expected a sysctl value of letters, digits and _ . : , / + -');
}

function checkBondOption(option: BondOption) {
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

// ---------------------------------------------------------------- the schema

/** Every setting network-script reads; `--help` is rendered from this table. */
export const NETWORK_KEYS: readonly NetworkKey[] = [
  {
    key: 'bridge',
    type: 'interface',
    default: 'xenbr0',
    help: "the bridge that holds dom0's uplink and the guests' vifs",
    example: 'bridge=xenbr0',
    check: checkIfname,
  },
  {
    key: 'netdev',
    type: 'interface',
    default: 'the device of the default route',
    help: 'the one NIC to put in the bridge (never renamed); not with bond=',
    example: 'netdev=eth0',
    check: checkIfname,
  },
  {
    key: 'bond',
    type: 'interface',
    help: 'create this bond from slaves= and put it in the bridge',
    example: 'bond=bond0',
    check: checkIfname,
  },
  {
    key: 'slaves',
    type: 'interfaces',
    help: 'the NICs to enslave to bond=, comma separated',
    example: 'slaves=eth0,eth1',
    list: true,
    check: checkIfname,
  },
  {
    key: 'bond-mode',
    type: 'bond mode',
    default: 'active-backup',
    help: `bonding mode: ${BOND_MODES.join(', ')}, or 0-6 (also bond.mode=)`,
    example: 'bond-mode=active-backup',
    check: checkBondMode,
  },
  {
    key: 'miimon',
    type: 'milliseconds',
    default: '100',
    help: 'MII link check interval, 0 for none (also bond.miimon=)',
    example: 'miimon=100',
    check: checkInt(0, INT_MAX),
  },
  {
    key: 'bond.<option>',
    type: 'bonding option',
    help: `any other kernel bonding option: ${BOND_OPTIONS.map((o) => o.name).join(' ')}`,
    example: 'bond.primary=eth0',
    check: () => bad('bug: bond.<option> is checked per option'),
  },
  {
    key: 'stp',
    type: 'on|off',
    default: 'off',
    help: 'spanning tree on the bridge (yes/no also accepted)',
    example: 'stp=off',
    check: checkOnOff,
  },
  {
    key: 'forward-delay',
    type: 'seconds',
    default: '0 (15 with stp=on)',
    help: 'bridge forward delay; with stp=on 2 to 30',
    example: 'forward-delay=0',
    check: checkSeconds(0, 30),
  },
  {
    key: 'hello-time',
    type: 'seconds',
    default: 'the kernel default (2)',
    help: 'bridge STP hello time, 0.1 to 10',
    example: 'hello-time=2',
    check: checkSeconds(0.1, 10),
  },
  {
    key: 'max-age',
    type: 'seconds',
    default: 'the kernel default (20)',
    help: 'bridge STP max age, 6 to 40',
    example: 'max-age=20',
    check: checkSeconds(6, 40),
  },
  {
    key: 'mtu',
    type: 'bytes',
    default: "the uplink's",
    help: 'MTU of the bridge',
    example: 'mtu=1500',
    check: checkMtuValue,
  },
  {
    key: 'address',
    type: 'CIDR list',
    default: 'the addresses found on the uplink',
    help: "dom0's addresses, comma separated or repeated",
    example: 'address=192.0.2.11/24',
    list: true,
    check: checkAddress,
  },
  {
    key: 'gateway',
    type: 'IP address',
    default: 'the default route found on the uplink',
    help: "dom0's default gateway",
    example: 'gateway=192.0.2.1',
    check: checkIpValue,
  },
  {
    key: 'dom0-port',
    type: 'VETH:VIF|bridge',
    default: 'bridge',
    help: "where dom0's addresses live: on the bridge, or (Xen 3.x netloop) on VETH with VIF in the bridge",
    example: 'dom0-port=veth0:vif0.0',
    check: checkDom0Port,
  },
  {
    key: 'dom0-mac',
    type: 'MAC address',
    help: "pin the netloop veth's MAC",
    example: 'dom0-mac=00:16:3e:00:01:00',
    check: checkMacValue,
  },
  {
    key: 'bridge-nf',
    type: 'on|off|keep',
    default: 'keep',
    help: 'net.bridge.bridge-nf-call-* sysctls: set them on, off, or leave them',
    example: 'bridge-nf=keep',
    check: checkChoice(['on', 'off', 'keep']),
  },
  {
    key: 'strict',
    type: 'yes|no',
    default: 'no',
    help: 'doctor errors stop start',
    example: 'strict=yes',
    check: checkYesNo,
  },
  {
    key: 'config',
    type: 'file',
    help: 'read more settings from FILE (key=value lines, # comments); words override it',
    example: 'config=/etc/xen/xenplan.conf',
    commandLineOnly: true,
    check: checkPath,
  },
  {
    key: 'ifcfg',
    type: 'directory',
    help: 'read a Red Hat ifcfg-* directory; the config file and words override it',
    example: 'ifcfg=/etc/sysconfig/network-scripts',
    commandLineOnly: true,
    check: checkPath,
  },
  {
    key: 'switches',
    type: 'separate|stacked|single',
    help: 'declared for doctor: how the slaves reach the switches',
    example: 'switches=separate',
    check: checkChoice(['separate', 'stacked', 'single']),
  },
  {
    key: 'lacp',
    type: 'mlag|none',
    help: 'declared for doctor: whether the switches form one LACP partner',
    example: 'lacp=none',
    check: checkChoice(['mlag', 'none']),
  },
  {
    key: 'noarp',
    type: 'interfaces',
    help: 'declared for doctor: devices whose ARP the admin turns off elsewhere',
    example: 'noarp=eth0,eth1',
    list: true,
    check: checkIfname,
  },
  {
    key: 'sysctl.<name>',
    type: 'value',
    help: 'declared for doctor: a sysctl the admin sets elsewhere',
    example: 'sysctl.net.bridge.bridge-nf-call-iptables=0',
    check: checkSysctlValue,
  },
];

const KEY_INDEX = new Map(NETWORK_KEYS.map((k) => [k.key, k]));
const SIMPLE_KEYS = NETWORK_KEYS.filter((k) => !k.key.includes('<')).map((k) => k.key);

/** The settings table as --help text, one key per line. */
export function renderSettingsHelp(): string {
  const width = Math.max(...NETWORK_KEYS.map((k) => k.example.length));
  return NETWORK_KEYS.map((k) => {
    const dflt = k.default === undefined ? '' : ` (default: ${k.default})`;
    return `  ${k.example.padEnd(width)}  ${k.key}: ${k.type}; ${k.help}${dflt}`;
  }).join('\n');
}

// ---------------------------------------------------------------- reading settings

/** A checked setting under its canonical key (`bond.mode` → `bond-mode`). */
interface Entry {
  readonly key: string;
  readonly value: string | readonly string[];
  /** `key=value` as written, for messages. */
  readonly written: string;
  /** The same, after the place it was read (`/etc/xenplan.conf:7: key=value`). */
  readonly here: string;
}

type Source = Map<string, Entry>;

/** Shows a value bare when that is unambiguous, else JSON-quoted (spaces, newlines, quotes). */
function showValue(value: string): string {
  return /^[\x21-\x7e]+$/.test(value) && !/["\\]/.test(value) ? value : show(value);
}

function written(key: string, value: string): string {
  return `${/^[\x21-\x7e]+$/.test(key) && !key.includes('"') ? key : show(key)}=${showValue(value)}`;
}

interface Resolved {
  readonly canonical: string;
  readonly spec: Pick<NetworkKey, 'check' | 'list' | 'commandLineOnly'>;
}

function resolveKey(key: string): Resolved | string {
  if (key === 'bond.mode') return resolveKey('bond-mode');
  if (key === 'bond.miimon') return resolveKey('miimon');
  if (key.startsWith('bond.')) {
    const option = BOND_OPTION_INDEX.get(key.slice(5));
    if (option === undefined)
      return `unknown bonding option ${show(key.slice(5))}; expected one of mode miimon ${BOND_OPTIONS.map((o) => o.name).join(' ')}`;
    return { canonical: key, spec: { check: checkBondOption(option) } };
  }
  if (key.startsWith('sysctl.')) {
    const name = key.slice(7);
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(name) || name.length > 200)
      return `sysctl name ${show(name)} is not valid; expected dotted words like net.bridge.bridge-nf-call-iptables`;
    return { canonical: key, spec: { check: checkSysctlValue } };
  }
  const spec = KEY_INDEX.get(key);
  if (spec === undefined || key.includes('<')) {
    const near = SIMPLE_KEYS.find((k) => editDistance(k, key) <= 2);
    const hint = near === undefined ? '' : ` (did you mean ${near}=?)`;
    return `unknown setting${hint}; expected one of ${SIMPLE_KEYS.join(', ')}, bond.<option>, sysctl.<name>`;
  }
  return { canonical: key, spec };
}

/** Checks one source's settings; problems get the setting's place as prefix. */
function readSource(raws: readonly RawSetting[], fromCommandLine: boolean, problems: string[]): Source {
  const source: Source = new Map();
  for (const raw of raws) {
    const here = `${raw.where === undefined ? '' : `${raw.where}: `}${written(raw.key, raw.value)}`;
    const resolved = resolveKey(raw.key);
    if (typeof resolved === 'string') {
      problems.push(`${here}: ${resolved}`);
      continue;
    }
    const { canonical, spec } = resolved;
    if (spec.commandLineOnly === true && !fromCommandLine) {
      problems.push(`${here}: ${raw.key}= is only read from the command line`);
      continue;
    }
    if (spec.list === true) {
      const items: string[] = [];
      for (const item of raw.value.split(',')) {
        const checked = spec.check(item);
        if ('problem' in checked) problems.push(`${here}: ${checked.problem}`);
        else items.push(checked.ok);
      }
      const before = source.get(canonical);
      const all = [...((before?.value as readonly string[] | undefined) ?? []), ...items];
      const twice = all.find((item, i) => all.indexOf(item) !== i);
      if (twice !== undefined) problems.push(`${here}: ${twice} is listed twice`);
      source.set(canonical, {
        key: canonical,
        value: [...new Set(all)],
        written: written(raw.key, raw.value),
        here,
      });
      continue;
    }
    const checked = spec.check(raw.value);
    if ('problem' in checked) {
      problems.push(`${here}: ${checked.problem}`);
      continue;
    }
    const before = source.get(canonical);
    if (before !== undefined && before.value !== checked.ok) {
      problems.push(`${here}: conflicts with ${before.written}; give ${canonical}= once`);
      continue;
    }
    source.set(canonical, { key: canonical, value: checked.ok, written: written(raw.key, raw.value), here });
  }
  return source;
}

function isBondKey(key: string): boolean {
  return (
    key === 'bond' || key === 'slaves' || key === 'bond-mode' || key === 'miimon' || key.startsWith('bond.')
  );
}

/**
 * Lays a higher-precedence source over the settings so far. Keys replace keys; in addition a
 * new uplink (netdev=, or a bond of another name) drops the old bond's settings, and a new
 * dom0-port drops the old dom0-mac.
 */
function overlay(base: Source, top: Source): void {
  const drop = (test: (key: string) => boolean) => {
    for (const key of [...base.keys()]) if (test(key)) base.delete(key);
  };
  if (top.has('netdev')) drop(isBondKey);
  const bond = top.get('bond');
  if (bond !== undefined) {
    base.delete('netdev');
    if (base.get('bond')?.value !== bond.value) drop(isBondKey);
  }
  const port = top.get('dom0-port');
  if (port !== undefined && base.get('dom0-port')?.value !== port.value) base.delete('dom0-mac');
  for (const [key, entry] of top) base.set(key, entry);
}

/** Which files the caller must read before calling parseNetworkSettings (valid paths only). */
export function settingsSources(words: string[]): { config?: string; ifcfg?: string } {
  const found: { config?: string; ifcfg?: string } = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) continue;
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if ((key === 'config' || key === 'ifcfg') && 'ok' in checkPath(value)) found[key] = value;
  }
  return found;
}

function wordsToSettings(words: readonly string[], problems: string[]): RawSetting[] {
  const settings: RawSetting[] = [];
  for (const word of words) {
    if (word === '') continue; // xend splits on single spaces: doubled spaces give empty words
    const eq = word.indexOf('=');
    if (eq <= 0) {
      problems.push(`${showValue(word)} is not a setting; expected key=value`);
      continue;
    }
    settings.push({ key: word.slice(0, eq), value: word.slice(eq + 1) });
  }
  return settings;
}

/**
 * Reads network-script's settings into what the uplink should be, plus facts declared for
 * doctor. Throws one XenplanError('config') listing every problem, one per line.
 */
export function parseNetworkSettings(input: SettingsInput): {
  desired: NetworkDesired;
  declared: DeclaredFacts;
} {
  const wordProblems: string[] = [];
  const words = readSource(wordsToSettings(input.words, wordProblems), true, wordProblems);

  let config: Source = new Map();
  const configProblems: string[] = [];
  const configPath = words.get('config')?.value;
  if (typeof configPath === 'string') {
    if (input.configText === undefined)
      throw new XenplanError('bug', `config=${configPath} was given but its text was not passed in`);
    const parsed = parseConfigText(input.configText.name, input.configText.text);
    configProblems.push(...parsed.problems);
    config = readSource(parsed.settings, false, configProblems);
  }

  let ifcfg: Source = new Map();
  let ifcfgDeclared: DeclaredFacts = {};
  const ifcfgProblems: string[] = [];
  const ifcfgPath = words.get('ifcfg')?.value;
  if (typeof ifcfgPath === 'string') {
    if (input.ifcfg === undefined)
      throw new XenplanError('bug', `ifcfg=${ifcfgPath} was given but its files were not passed in`);
    const wanted = words.get('bridge')?.value ?? config.get('bridge')?.value;
    const parsed = parseIfcfgFiles(input.ifcfg, typeof wanted === 'string' ? wanted : undefined);
    ifcfgProblems.push(...parsed.problems);
    ifcfg = readSource(parsed.settings, false, ifcfgProblems);
    ifcfgDeclared = parsed.declared;
  }

  // Problems in the order an admin reads them: ifcfg, then the file by line, then the words.
  const problems = [...sortByPlace(ifcfgProblems), ...sortByPlace(configProblems), ...wordProblems];
  const merged: Source = new Map();
  overlay(merged, ifcfg);
  overlay(merged, config);
  overlay(merged, words);

  const desired = buildDesired(merged, input.defaultRouteDev, problems);
  if (problems.length > 0) throw new XenplanError('config', problems.join('\n'));
  return { desired, declared: buildDeclared(merged, ifcfgDeclared) };
}

/** Orders `file:line: …` problems by file, then line; others keep their place after them. */
function sortByPlace(problems: readonly string[]): string[] {
  const place = (p: string): [string, number] => {
    const m = /^([^\s:]+)(?::([0-9]+))?: /.exec(p);
    return m === null ? ['\uffff', 0] : [m[1] ?? '', Number(m[2] ?? 0)];
  };
  return [...problems].sort((a, b) => {
    const [fa, la] = place(a);
    const [fb, lb] = place(b);
    return fa < fb ? -1 : fa > fb ? 1 : la - lb;
  });
}

function buildDesired(m: Source, defaultRouteDev: string | undefined, problems: string[]): NetworkDesired {
  const str = (key: string): string | undefined => {
    const v = m.get(key)?.value;
    return typeof v === 'string' ? v : undefined;
  };
  const list = (key: string): readonly string[] | undefined => {
    const v = m.get(key)?.value;
    return typeof v === 'string' ? [v] : v;
  };
  const shown = (key: string): string => m.get(key)?.written ?? key;
  const placed = (key: string): string => m.get(key)?.here ?? key;

  // Bridge.
  const stp = str('stp') === 'on';
  const forwardDelay = Number(str('forward-delay') ?? (stp ? '1500' : '0'));
  if (stp && (forwardDelay < 200 || forwardDelay > 3000))
    problems.push(`${placed('forward-delay')}: with stp=on the kernel needs 2 to 30 seconds`);
  const helloTime = str('hello-time');
  const maxAge = str('max-age');
  const mtu = str('mtu');
  const bridge: BridgeDesired = {
    name: str('bridge') ?? 'xenbr0',
    stp,
    forwardDelay,
    ...(helloTime === undefined ? {} : { helloTime: Number(helloTime) }),
    ...(maxAge === undefined ? {} : { maxAge: Number(maxAge) }),
    ...(mtu === undefined ? {} : { mtu: Number(mtu) }),
  };

  // Uplink: a bond, a NIC, or the default route's device.
  const bondName = str('bond');
  const slaves = list('slaves');
  const netdev = str('netdev');
  let bond: BondDesired | undefined;
  if (bondName === undefined) {
    for (const key of m.keys())
      if (isBondKey(key) && key !== 'bond') problems.push(`${placed(key)}: needs bond=NAME`);
  } else {
    if (netdev !== undefined)
      problems.push(`${shown('netdev')} and ${shown('bond')} both name the uplink; give one of them`);
    if (slaves === undefined || slaves.length === 0)
      problems.push(`${placed('bond')}: needs slaves=NIC,NIC (the NICs to enslave)`);
    bond = buildBond(bondName, slaves ?? [], m, problems);
  }
  let uplink = bondName ?? netdev;
  if (uplink === undefined) {
    const problem =
      defaultRouteDev === undefined ? undefined : checkInterfaceName(defaultRouteDev, 'default route device');
    if (defaultRouteDev === undefined) problems.push('no uplink: give netdev=NIC or bond=NAME slaves=…');
    else if (problem !== undefined) problems.push(problem);
    else if (defaultRouteDev === bridge.name || defaultRouteDev === str('dom0-port')?.split(':')[0])
      problems.push(
        `the default route is on ${defaultRouteDev}, which is dom0's side of the bridge; give netdev=NIC or bond=NAME slaves=… to name the uplink`,
      );
    else uplink = defaultRouteDev;
  }

  // dom0's layout.
  const port = str('dom0-port') ?? 'bridge';
  const mac = str('dom0-mac');
  let dom0: Dom0Layout = { kind: 'bridge' };
  if (port !== 'bridge') {
    const [veth = '', vif = ''] = port.split(':');
    dom0 = { kind: 'netloop', veth, vif, ...(mac === undefined ? {} : { mac }) };
  } else if (mac !== undefined) {
    problems.push(`${placed('dom0-mac')}: needs dom0-port=VETH:VIF (the netloop layout)`);
  }

  // One device, one role.
  const roles: [string, string][] = [[shown('bridge'), bridge.name]];
  if (bondName !== undefined) roles.push([shown('bond'), bondName]);
  else if (netdev !== undefined) roles.push([shown('netdev'), netdev]);
  else if (uplink !== undefined) roles.push([`the default route device ${uplink}`, uplink]);
  if (bondName !== undefined) for (const slave of slaves ?? []) roles.push([shown('slaves'), slave]);
  if (dom0.kind === 'netloop') {
    roles.push([`dom0-port veth ${dom0.veth}`, dom0.veth]);
    roles.push([`dom0-port vif ${dom0.vif}`, dom0.vif]);
  }
  roles.forEach(([role, name], i) => {
    const first = roles.findIndex(([, other]) => other === name);
    if (first < i)
      problems.push(`${roles[first]?.[0]} and ${role} name the same device ${name}; each needs its own`);
  });

  const addresses = list('address');
  const gateway = str('gateway');
  const switches = str('switches');
  const lacp = str('lacp');
  const topology: Record<string, string> = {
    ...(switches === undefined ? {} : { switches }),
    ...(lacp === undefined ? {} : { lacp }),
  };
  return {
    bridge,
    uplink: uplink ?? '',
    ...(bond === undefined ? {} : { bond }),
    dom0,
    ...(addresses === undefined ? {} : { addresses: [...addresses] }),
    ...(gateway === undefined ? {} : { gateway }),
    bridgeNf: (str('bridge-nf') ?? 'keep') as BridgeNf,
    strict: str('strict') === 'yes',
    ...(Object.keys(topology).length === 0 ? {} : { topology }),
  };
}

function buildBond(name: string, slaves: readonly string[], m: Source, problems: string[]): BondDesired {
  const mode = (m.get('bond-mode')?.value as string | undefined) ?? 'active-backup';
  const options: Record<string, string> = {};
  const miimon = m.get('miimon')?.value as string | undefined;
  const arpInterval = m.get('bond.arp_interval')?.value as string | undefined;
  if (miimon !== undefined && miimon !== '0' && arpInterval !== undefined && arpInterval !== '0')
    problems.push(
      `${m.get('miimon')?.written} and ${m.get('bond.arp_interval')?.written}: the kernel runs one link monitor; set the other to 0`,
    );
  // Default MII monitoring, unless the admin chose ARP monitoring.
  if (miimon !== undefined) options.miimon = miimon;
  else if (arpInterval === undefined || arpInterval === '0') options.miimon = '100';
  for (const [key, entry] of [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!key.startsWith('bond.')) continue;
    const option = BOND_OPTION_INDEX.get(key.slice(5));
    if (option === undefined) continue;
    if (option.modes !== undefined && !option.modes.includes(mode))
      problems.push(
        `${entry.here}: only for bond-mode ${option.modes.join(', ')}; the kernel refuses it in ${mode}`,
      );
    options[option.name] = entry.value as string;
  }
  const primary = options.primary;
  if (primary !== undefined && !slaves.includes(primary))
    problems.push(`${m.get('bond.primary')?.here}: is not one of slaves=${slaves.join(',')}`);
  return { name, slaves: [...slaves], mode, options };
}

function buildDeclared(m: Source, fromIfcfg: DeclaredFacts): DeclaredFacts {
  const declared: DeclaredFacts = {};
  const noarp = m.get('noarp')?.value;
  if (noarp !== undefined) declared.noarp = typeof noarp === 'string' ? [noarp] : [...noarp];
  const sysctls: Record<string, string> = {};
  for (const [key, entry] of m) if (key.startsWith('sysctl.')) sysctls[key.slice(7)] = entry.value as string;
  if (Object.keys(sysctls).length > 0) declared.sysctls = sysctls;
  if (fromIfcfg.macs !== undefined) declared.macs = fromIfcfg.macs;
  if (fromIfcfg.onboot !== undefined) declared.onboot = fromIfcfg.onboot;
  return declared;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
