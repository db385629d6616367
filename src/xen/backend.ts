import { XenplanError } from '../model/error.ts';
import { checkCidr, checkInterfaceName, checkMac, checkMtu, show } from '../model/names.ts';
import { type PortVlan, parseVlanKey } from '../model/vlan.ts';

/** The backend keys a vif event reads, all in one pipelined round trip. */
export const BACKEND_KEYS = ['bridge', 'mac', 'ip', 'mtu', 'vifname', 'frontend', 'vlan'] as const;
export type BackendKey = (typeof BACKEND_KEYS)[number];
export type BackendKeys = Partial<Record<BackendKey, string>>;

export interface BackendValues {
  readonly bridge?: string;
  readonly mac?: string;
  readonly ips: readonly string[];
  readonly mtu?: number;
  readonly vifname?: string;
  readonly frontend?: string;
  /** The guest port's VLANs (libxl 4.19's `vlan` key: `10p/20/30-40`), for a VLAN-aware bridge. */
  readonly vlans?: readonly PortVlan[];
}

const FRONTEND = /^\/local\/domain\/[0-9]+\/device\/vif\/[0-9]+$/;

/**
 * Validates what xenstore holds (values from a guest's config: never trusted). Every problem
 * is collected and reported at once, naming the key and the value. On Open vSwitch the bridge
 * key is Xen's port spec (`ovsbr0.10:20:30`), not an interface name: its parser checks it.
 */
export function validateBackend(keys: BackendKeys, bridgeSyntax: 'linux' | 'ovs' = 'linux'): BackendValues {
  const problems: string[] = [];
  const note = (problem: string | undefined) => {
    if (problem) problems.push(problem);
  };
  const values: { -readonly [K in keyof BackendValues]: BackendValues[K] } = { ips: [] };
  if (keys.bridge !== undefined && keys.bridge !== '') {
    if (bridgeSyntax === 'linux') note(checkInterfaceName(keys.bridge, 'bridge'));
    values.bridge = keys.bridge;
  }
  if (keys.mac !== undefined && keys.mac !== '') {
    note(checkMac(keys.mac, 'mac'));
    values.mac = keys.mac.toLowerCase();
  }
  if (keys.ip !== undefined && keys.ip.trim() !== '') {
    values.ips = keys.ip.trim().split(/[ ,]+/);
    for (const ip of values.ips) note(checkCidr(ip, 'ip'));
  }
  if (keys.mtu !== undefined && keys.mtu !== '') {
    note(checkMtu(keys.mtu, 'mtu'));
    values.mtu = Number(keys.mtu);
  }
  if (keys.vifname !== undefined && keys.vifname !== '') {
    note(checkInterfaceName(keys.vifname, 'vifname'));
    values.vifname = keys.vifname;
  }
  if (keys.frontend !== undefined && keys.frontend !== '') {
    if (!FRONTEND.test(keys.frontend))
      problems.push(
        `frontend ${show(keys.frontend)} is not a vif frontend path; expected /local/domain/<domid>/device/vif/<devid>`,
      );
    else values.frontend = keys.frontend;
  }
  if (keys.vlan !== undefined && keys.vlan !== '') {
    const vlans = parseVlanKey(keys.vlan);
    if (typeof vlans === 'string') problems.push(vlans);
    else values.vlans = vlans;
  }
  if (problems.length > 0) throw new XenplanError('config', problems.join('; '));
  return values;
}
