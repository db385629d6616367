/**
 * What network-script (and doctor) want the dom0 uplink to be: NICs, optionally bonded,
 * in one bridge, with dom0's addresses on the bridge or (netloop) on a veth.
 */
export interface BondDesired {
  readonly name: string;
  readonly slaves: readonly string[];
  /** Kernel mode name (numbers are translated when read). */
  readonly mode: string;
  /** Other kernel bonding options by sysfs name (`miimon`, `primary`, `updelay`, …), as text. */
  readonly options: Readonly<Record<string, string>>;
}

export interface BridgeDesired {
  readonly name: string;
  readonly stp: boolean;
  /** Centiseconds (ip link's unit). Config takes seconds. */
  readonly forwardDelay: number;
  readonly helloTime?: number;
  readonly maxAge?: number;
  readonly mtu?: number;
}

export type Dom0Layout =
  | { readonly kind: 'bridge' }
  /** Xen 3.x netloop: dom0's addresses on `veth`, its peer `vif` is the bridge port. */
  | { readonly kind: 'netloop'; readonly veth: string; readonly vif: string; readonly mac?: string };

export type BridgeNf = 'on' | 'off' | 'keep';

export interface NetworkDesired {
  readonly bridge: BridgeDesired;
  /** The device enslaved to the bridge: the NIC, or the bond's name. */
  readonly uplink: string;
  readonly bond?: BondDesired;
  readonly dom0: Dom0Layout;
  /**
   * Explicit dom0 addresses (CIDR, prefix required): the whole wanted set on dom0's holder,
   * so any other address there or on the uplink goes. When absent, those found on the
   * uplink move.
   */
  readonly addresses?: readonly string[];
  /** Where the explicit addresses come from, for step reasons: `address=`, `IPADDR in ifcfg-veth0`. */
  readonly addressesFrom?: string;
  readonly gateway?: string;
  /**
   * A dynamic address (DHCP lease, SLAAC, IPv6 temporary) among dom0's: refuse to start
   * (undefined, the default), or move it with its remaining lifetimes (a DHCP client must
   * then run on the bridge to renew it).
   */
  readonly dhcp?: 'refuse' | 'move';
  readonly bridgeNf: BridgeNf;
  /** Doctor errors block start. */
  readonly strict: boolean;
  /** 802.1Q VLANs on the uplink (`vlans=100,200`): `UPLINK.VID` in a bridge `xenbrVID` each. */
  readonly vlans?: readonly number[];
  /** Extra facts an admin declared for doctor (e.g. `switches=separate`). */
  readonly topology?: Readonly<Record<string, string>>;
}

/** Kernel bonding mode names, indexed by mode number. */
export const BOND_MODES: readonly string[] = [
  'balance-rr',
  'active-backup',
  'balance-xor',
  'broadcast',
  '802.3ad',
  'balance-tlb',
  'balance-alb',
];

/** The bridge network-script makes for VLAN `vid` of the uplink (vlans=): `xenbr<VID>`. */
export function vlanBridgeName(vid: number): string {
  return `xenbr${vid}`;
}

/** The uplink's VLAN device for `vid`: `bond0.100`, `eth0.100`. */
export function vlanDeviceName(uplink: string, vid: number): string {
  return `${uplink}.${vid}`;
}
