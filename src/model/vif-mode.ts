import type { Family } from './host.ts';
import type { VifIdentity } from './vif.ts';

/**
 * How a guest's vif reaches the network. Xen picks a vif script by the name in the guest's
 * config (`script=`); xenplan is installed under one name per mode and picks the mode the
 * same way (cli/dispatch.ts).
 */
export type VifMode = 'bridge' | 'route' | 'nat' | 'ovs';

/** The installed name of each mode: what a guest config names in `script=`. */
export const VIF_MODE_SCRIPTS: Readonly<Record<VifMode, string>> = {
  bridge: 'vif-xenplan',
  route: 'vif-xenplan-route',
  nat: 'vif-xenplan-nat',
  ovs: 'vif-xenplan-ovs',
};

/** An address dom0 puts on the guest's vif (host prefix), the guest's next hop. */
export interface LocalAddress {
  readonly family: Family;
  readonly address: string;
}

/** A route to the guest through its vif (`ip route replace DST dev VIF src SRC metric M`). */
export interface GuestRoute {
  readonly family: Family;
  /** The guest's address or prefix, as ip prints it (a host route has no /32 or /128). */
  readonly dst: string;
  readonly src?: string;
  readonly metric?: number;
}

/**
 * A routed or NAT guest (Xen's vif-route and vif-nat): no bridge; dom0 answers ARP for the
 * guest's neighbours on the vif (proxy ARP), forwards its traffic, and routes its addresses
 * to the vif.
 */
export interface RoutedDesired extends VifIdentity {
  readonly local: readonly LocalAddress[];
  readonly routes: readonly GuestRoute[];
  /** The backend's mtu key, when set (a routed vif has no bridge to follow). */
  readonly mtu?: number;
  /** NAT: the guest's IPv4 address, masqueraded as it leaves dom0. */
  readonly masquerade?: string;
}

/** xenplan's NAT table (nftables, family ip) as observed; undefined members: absent. */
export interface NatState {
  /** Guest addresses in the masquerade set. */
  readonly guests: readonly string[];
  /** Rules in its postrouting chain (one when converged). */
  readonly rules: number;
  /** Whether the table exists at all. */
  readonly table: boolean;
}

/** Names in nftables: one table for every NAT guest, changed only in whole transactions. */
export const NAT_TABLE = 'xenplan_nat';
export const NAT_SET = 'guests';
export const NAT_CHAIN = 'postrouting';

/** A port on an Open vSwitch bridge as observed (`ovs-vsctl --format=json`). */
export interface OvsPort {
  readonly bridge: string;
  readonly tag?: number;
  readonly trunks: readonly number[];
  readonly externalIds: Readonly<Record<string, string>>;
}

/** What OVS knows: its bridges, and the guest's port when it has one. */
export interface OvsState {
  readonly bridges: readonly string[];
  readonly port?: OvsPort;
}

/** A guest's OVS port as wanted: Xen's `bridge=BR[.TAG][:TRUNK[:TRUNK…]]`. */
export interface OvsDesired {
  readonly name: string;
  readonly bridge: string;
  readonly tag?: number;
  readonly trunks: readonly number[];
  /** xen-vm-name, xen-vm-uuid, attached-mac, as Xen's vif-openvswitch sets them. */
  readonly externalIds: Readonly<Record<string, string>>;
}
