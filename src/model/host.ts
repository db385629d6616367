/**
 * HostState: the network as observed (from `ip -json -details`, /sys and /proc/sys).
 * Only what planners and doctor need, in the kernel's own units.
 */
export interface BondState {
  /** Kernel mode name: balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb. */
  readonly mode: string;
  readonly miimon: number;
  /** Every option the kernel reported, by sysfs/ip name (`primary`, `updelay`, `fail_over_mac`, …), as text. */
  readonly options: Readonly<Record<string, string>>;
  readonly activeSlave: string | undefined;
}

export interface BridgeState {
  readonly stp: boolean;
  /** Centiseconds, as `ip link` takes and reports them. */
  readonly forwardDelay: number;
  readonly helloTime: number;
  readonly maxAge: number;
  readonly nfCallIptables?: number;
  /** VLAN-aware (vlan_filtering 1): ports carry only the VIDs given to them. */
  readonly vlanFiltering?: boolean;
}

/** An 802.1Q VLAN device (`bond0.100`): its VID and the device it tags onto. */
export interface VlanState {
  readonly id: number;
  /** The real device (ip's `link`), by name. */
  readonly parent: string;
}

export interface Link {
  readonly name: string;
  readonly ifindex: number;
  /** info_kind: bridge, bond, veth, tun, … (undefined for a plain NIC or loopback). */
  readonly kind: string | undefined;
  readonly master: string | undefined;
  readonly mtu: number;
  readonly mac: string | undefined;
  /** Administratively up (IFF_UP). */
  readonly up: boolean;
  /** Carrier (operstate UP or UNKNOWN and not NO-CARRIER). */
  readonly carrier: boolean;
  readonly noarp: boolean;
  readonly operstate: string;
  /** Whether the MAC was set by user space (addr_assign_type 3), when known. */
  readonly macPinned?: boolean;
  readonly bond?: BondState;
  readonly bridge?: BridgeState;
  readonly vlan?: VlanState;
  /** For a veth: the peer's interface index (the `link` of ip -j, resolved to a name when local). */
  readonly peer?: string;
  /** The loopback device (IFF_LOOPBACK). Read on the vif path only. */
  readonly loopback?: boolean;
  /** Enslaved to a bond (/sys/class/net/X/bonding_slave). Read on the vif path only. */
  readonly bondSlave?: boolean;
  /** The interface alias (ifalias), kept across renames. Read on the vif path only. */
  readonly alias?: string;
  /**
   * The device it hangs off (/sys/class/net/X/device), by name: `vif-5-0` for netback's vif of
   * domain 5, device 0 (the xenbus device), a PCI address for a NIC. Read on the vif path only.
   */
  readonly parent?: string;
}

export type Family = 'inet' | 'inet6';

export interface Address {
  readonly dev: string;
  readonly family: Family;
  readonly local: string;
  readonly prefixlen: number;
  /** global, link, host, … */
  readonly scope: string;
  readonly broadcast?: string;
  readonly peer?: string;
  /**
   * Seconds the address stays valid and preferred; undefined: forever (a static address). A
   * finite lifetime marks a dynamic one: a DHCP lease, SLAAC, an IPv6 temporary address.
   */
  readonly validLft?: number;
  readonly preferredLft?: number;
  /** IPv6: duplicate address detection failed (the kernel will not use it). */
  readonly dadFailed?: boolean;
}

export interface Route {
  /** `default` or a prefix. */
  readonly dst: string;
  readonly family: Family;
  readonly dev: string | undefined;
  readonly gateway?: string;
  readonly table?: string;
  readonly protocol?: string;
  readonly scope?: string;
  readonly metric?: number;
  readonly prefsrc?: string;
  /** unicast, local, broadcast, … (undefined means unicast). */
  readonly type?: string;
}

export interface HostState {
  readonly links: readonly Link[];
  readonly addresses: readonly Address[];
  readonly routes: readonly Route[];
  /** `/proc/sys/net/bridge/*` and the like, keyed by dotted sysctl name. Absent key = not present. */
  readonly sysctls: Readonly<Record<string, string>>;
  /** Whether this kernel can make bonds (absent: not observed). */
  readonly bonding?: BondingSupport;
}

/**
 * The bonding driver: `loaded` (/sys/class/net/bonding_masters exists), `loadable` (a module
 * for the running kernel, which `ip link add type bond` loads), or `absent` with what was
 * looked at, for the message.
 */
export type BondingSupport =
  | { readonly state: 'loaded' }
  | { readonly state: 'loadable'; readonly module: string }
  | { readonly state: 'absent'; readonly kernel: string; readonly looked: string };

export function findLink(host: HostState, name: string): Link | undefined {
  return host.links.find((l) => l.name === name);
}

export function portsOf(host: HostState, master: string): Link[] {
  return host.links.filter((l) => l.master === master);
}

export function addressesOn(host: HostState, dev: string): Address[] {
  return host.addresses.filter((a) => a.dev === dev);
}

/** Routes in the main table (or another non-local table) that use dev, excluding kernel-made ones. */
export function routesOn(host: HostState, dev: string): Route[] {
  return host.routes.filter((r) => r.dev === dev && r.table !== 'local' && r.protocol !== 'kernel');
}
