import type { PortVlan } from './vlan.ts';

/**
 * One guest interface as vif-script wants it: `dev` is the name the kernel gave it, `name`
 * the one it should carry (vifname), attached to `bridge` with `mtu`.
 */
export type VifKind = 'vif' | 'tap';

/** Xen's port MAC: numerically the largest, so the bridge never adopts a guest's MAC. */
export const PORT_MAC = 'fe:ff:ff:ff:ff:ff';

/** Which device is the guest's: what tells it apart from every other device of dom0. */
export interface VifIdentity {
  readonly kind: VifKind;
  /** The device as the kernel or qemu created it (vif5.0, vif5.0-emu, tap5.0). */
  readonly dev: string;
  /** The device's final name: vifname (+ `-emu` for a tap), else dev. */
  readonly name: string;
  /** The backend's vifname, as given (for messages). */
  readonly vifname?: string;
  /**
   * netback's xenbus device for a PV vif, `vif-<domid>-<devid>`: netback makes it the parent
   * of the netdev (SET_NETDEV_DEV in xenvif_alloc), so /sys/class/net/X/device names it under
   * any name. Undefined for a tap (qemu's, no parent).
   */
  readonly xenbusId?: string;
}

export interface VifDesired extends VifIdentity {
  readonly bridge: string;
  readonly mtu: number;
  /** The port's VLANs on a VLAN-aware bridge (the backend `vlan` key), when set. */
  readonly vlans?: readonly PortVlan[];
}

/**
 * The record xenplan leaves on a device before renaming it (its ifalias, which the kernel
 * keeps across renames and drops with the device): the proof, for a device without netback's
 * parent (a tap, a test's veth), that it is the one the kernel named `dev`.
 */
export function renameMark(dev: string): string {
  return `xenplan:${dev}`;
}
