import { XenplanError } from '../model/error.ts';
import { findLink, type HostState } from '../model/host.ts';
import type { Dom0Layout } from '../model/network.ts';
import type { Step } from '../model/plan.ts';
import type { EnslavedDevice, SettingChange } from '../model/record.ts';
import { PORT_MAC } from '../model/vif.ts';
import { planNoLinkLocal } from './bridge.ts';
import { ip } from './command.ts';
import { planLinkUp } from './link.ts';
import { makeStep } from './step.ts';

/** What the netloop part of a start plan does, and what it records for stop. */
export interface NetloopPlan {
  /** Create the pair, set the MACs, put the vif in the bridge. */
  readonly steps: Step[];
  /** Bring the vif and the veth up (after the bridge is up). */
  readonly ups: Step[];
  readonly created: string[];
  readonly settings: SettingChange[];
  readonly enslaved: EnslavedDevice[];
}

/**
 * The MAC dom0's veth should get, and whether the uplink gives its own MAC up for it. Without
 * dom0-mac= it is the uplink's MAC, as Xen 3.x's network-bridge did (dom0 keeps its identity
 * on the LAN: DHCP reservations, ARP caches, switch port security), and the uplink then
 * carries Xen's port MAC. An uplink that already carries the port MAC gave its MAC away on an
 * earlier run: the veth keeps what it has.
 */
export function netloopMac(
  dom0: Extract<Dom0Layout, { kind: 'netloop' }>,
  uplinkMac: string | undefined,
): { mac?: string; fromUplink: boolean } {
  if (dom0.mac !== undefined) return { mac: dom0.mac, fromUplink: false };
  if (uplinkMac === undefined || uplinkMac.toLowerCase() === PORT_MAC) return { fromUplink: true };
  return { mac: uplinkMac.toLowerCase(), fromUplink: true };
}

/**
 * Netloop: dom0's veth, its peer in the bridge. Creates the pair when neither end exists (one
 * end alone is a config error), gives the veth dom0-mac= or else the uplink's MAC (then the
 * uplink Xen's port MAC, after the veth has its MAC, so an interrupted run loses nothing),
 * gives the vif Xen's port MAC so the bridge never adopts it, and puts the vif in the bridge.
 */
export function planNetloop(
  dom0: Extract<Dom0Layout, { kind: 'netloop' }>,
  bridgeName: string,
  host: HostState,
  uplink: { readonly name: string; readonly mac: string | undefined },
): NetloopPlan {
  const steps: Step[] = [];
  const created: string[] = [];
  const settings: SettingChange[] = [];
  const enslaved: EnslavedDevice[] = [];
  const { veth, vif } = dom0;
  const { mac, fromUplink } = netloopMac(dom0, uplink.mac);
  const vethLink = findLink(host, veth);
  const vifLink = findLink(host, vif);
  if (!vethLink && !vifLink) {
    created.push(veth);
    steps.push(
      makeStep(
        `link:${veth}:create`,
        'link',
        ip.linkAdd(veth, 'veth', ['peer', 'name', vif]),
        `${veth} and ${vif} do not exist; create the pair (dom0's end ${veth}, ${vif} in ${bridgeName})`,
      ),
    );
    steps.push(planNoLinkLocal(vif, 'link'));
  } else if (!vethLink || !vifLink) {
    const missing = vethLink ? vif : veth;
    throw new XenplanError(
      'config',
      `dom0-port=${veth}:${vif}: ${missing} does not exist but ${missing === veth ? vif : veth} does; expected both ends of a veth pair, or neither`,
    );
  }
  if (mac !== undefined && vethLink?.mac?.toLowerCase() !== mac.toLowerCase()) {
    if (vethLink?.mac !== undefined) settings.push({ dev: veth, kind: 'mac', before: vethLink.mac });
    const why = fromUplink
      ? `${uplink.name}'s, as Xen 3.x gave dom0's netloop device the NIC's MAC so dom0 keeps its identity on the LAN; dom0-mac= picks another`
      : 'dom0-mac=';
    steps.push(
      makeStep(
        `link:${veth}:mac`,
        'link',
        ip.linkMac(veth, mac),
        `${veth} MAC: want ${mac} (${why}), have ${vethLink?.mac ?? 'none yet'}`,
      ),
    );
  }
  // The uplink gives its MAC up to dom0's veth: two devices with one MAC on a LAN collide.
  const uplinkLink = findLink(host, uplink.name);
  if (fromUplink && uplink.mac?.toLowerCase() !== PORT_MAC) {
    if (uplinkLink?.mac !== undefined)
      settings.push({ dev: uplink.name, kind: 'mac', before: uplinkLink.mac });
    steps.push(
      makeStep(
        `link:${uplink.name}:mac`,
        'link',
        ip.linkMac(uplink.name, PORT_MAC),
        `${uplink.name} MAC: want ${PORT_MAC}, as Xen 3.x gave the physical port once ${veth} took its MAC ${uplink.mac ?? ''}`.trimEnd(),
      ),
    );
  }
  // Xen gave dom0's netloop port its port MAC too: the bridge must never adopt it.
  if (vifLink?.mac?.toLowerCase() !== PORT_MAC) {
    if (vifLink?.mac !== undefined) settings.push({ dev: vif, kind: 'mac', before: vifLink.mac });
    steps.push(
      makeStep(
        `link:${vif}:mac`,
        'link',
        ip.linkMac(vif, PORT_MAC),
        `${vif} MAC: want ${PORT_MAC} so ${bridgeName} never adopts it, have ${vifLink?.mac ?? 'none yet'}`,
      ),
    );
  }
  if (vifLink?.master !== bridgeName) {
    enslaved.push({
      dev: vif,
      master: bridgeName,
      up: vifLink?.up ?? false,
      ...(vifLink?.master ? { before: vifLink.master } : {}),
    });
    steps.push(
      makeStep(
        `port:${vif}:master`,
        'port',
        ip.linkMaster(vif, bridgeName),
        `${vif}: want in ${bridgeName} (dom0's netloop port), have ${vifLink?.master ? `in ${vifLink.master}` : 'not in a bridge'}`,
      ),
    );
  }
  return { steps, ups: [...planLinkUp(vif, host), ...planLinkUp(veth, host)], created, settings, enslaved };
}
