/**
 * One guest interface as vif-script wants it: `dev` is the name the kernel gave it, `name`
 * the one it should carry (vifname), attached to `bridge` with `mtu`.
 */
export type VifKind = 'vif' | 'tap';

/** Xen's port MAC: numerically the largest, so the bridge never adopts a guest's MAC. */
export const PORT_MAC = 'fe:ff:ff:ff:ff:ff';

export interface VifDesired {
  readonly kind: VifKind;
  /** The device as the kernel or qemu created it (vif5.0, vif5.0-emu, tap5.0). */
  readonly dev: string;
  /** The device's final name: vifname (+ `-emu` for a tap), else dev. */
  readonly name: string;
  readonly bridge: string;
  readonly mtu: number;
}
