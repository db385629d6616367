/**
 * The settings network-script reads, as one table: type, default, help, example and the check
 * of each key. `--help` is rendered from it. Pure.
 */
import { BOND_MODES } from '../model/network.ts';
import { wrap } from '../model/text.ts';
import { BOND_OPTIONS } from './bond-options.ts';
import {
  bad,
  type Checked,
  checkAddress,
  checkBondMode,
  checkChoice,
  checkDom0Port,
  checkIfname,
  checkInt,
  checkIpValue,
  checkMacValue,
  checkMtuValue,
  checkOnOff,
  checkPath,
  checkSeconds,
  checkSysctlValue,
  checkYesNo,
  INT_MAX,
} from './value.ts';

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
    key: 'vifnum',
    type: 'number',
    help: "Xen 3.0's network-bridge word: bridge= defaults to xenbrN and netdev= to ethN",
    example: 'vifnum=0',
    check: checkInt(0, 999),
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
    key: 'vlans',
    type: 'VID list',
    help: '802.1Q VLANs of the uplink, each (UPLINK.VID) in a bridge xenbrVID',
    example: 'vlans=100,200',
    list: true,
    check: checkInt(1, 4094),
  },
  {
    key: 'address',
    type: 'CIDR list',
    default: 'the addresses found on the uplink',
    help: "dom0's addresses, comma separated or repeated, each with its prefix: the whole set (others on the uplink or the bridge are removed)",
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
    key: 'dhcp',
    type: 'refuse|move',
    default: 'refuse',
    help: "a dynamic address (DHCP, SLAAC) of dom0's: refuse to start, or move it with its remaining lifetime (then run the DHCP client on the bridge)",
    example: 'dhcp=refuse',
    check: checkChoice(['refuse', 'move']),
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
    default: "the uplink's MAC, which then carries fe:ff:ff:ff:ff:ff (as Xen 3.x)",
    help: "the netloop veth's MAC",
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
    help: 'read settings from FILE instead of /etc/xen/xenplan.conf; words override it',
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
    key: 'port-group',
    type: 'static|none',
    help: 'declared for doctor: the switch ports form a static EtherChannel (balance-rr/xor need one)',
    example: 'port-group=static',
    check: checkChoice(['static', 'none']),
  },
  {
    key: 'slb',
    type: 'filtered|none',
    help: 'declared for doctor: balance-xor with vlan+srcmac has SLB receive filtering',
    example: 'slb=filtered',
    check: checkChoice(['filtered', 'none']),
  },
  {
    key: 'updelay-needed-ms',
    type: 'milliseconds',
    help: 'declared for doctor: how long the switch ports take to forward after link-up (STP)',
    example: 'updelay-needed-ms=30000',
    check: checkInt(0, 600000),
  },
  {
    key: 'antispoof',
    type: 'yes|no',
    help: 'declared for doctor: guests must not spoof addresses (bridge netfilter off is then an error)',
    example: 'antispoof=yes',
    check: checkYesNo,
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

export const KEY_INDEX = new Map(NETWORK_KEYS.map((k) => [k.key, k]));
export const SIMPLE_KEYS = NETWORK_KEYS.filter((k) => !k.key.includes('<')).map((k) => k.key);

/** The settings table as --help text: each key's example, its description wrapped under it. */
export function renderSettingsHelp(): string {
  return NETWORK_KEYS.map((k) => {
    const dflt = k.default === undefined ? '' : ` (default: ${k.default})`;
    return `  ${k.example}\n${wrap(`${k.key}: ${k.type}; ${k.help}${dflt}`, '      ')}`;
  }).join('\n');
}
