import { XenplanError } from '../model/error.ts';
import { findLink, type HostState } from '../model/host.ts';
import type { Dom0Layout } from '../model/network.ts';
import type { Step } from '../model/plan.ts';
import type { EnslavedDevice, SettingChange } from '../model/record.ts';
import { PORT_MAC } from '../model/vif.ts';
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
 * Netloop: dom0's veth, its peer in the bridge. Creates the pair when neither end exists (one
 * end alone is a config error), gives the veth dom0-mac=, gives the vif Xen's port MAC so the
 * bridge never adopts it, and puts the vif in the bridge.
 */
export function planNetloop(
  dom0: Extract<Dom0Layout, { kind: 'netloop' }>,
  bridgeName: string,
  host: HostState,
): NetloopPlan {
  const steps: Step[] = [];
  const created: string[] = [];
  const settings: SettingChange[] = [];
  const enslaved: EnslavedDevice[] = [];
  const { veth, vif, mac } = dom0;
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
  } else if (!vethLink || !vifLink) {
    const missing = vethLink ? vif : veth;
    throw new XenplanError(
      'config',
      `dom0-port=${veth}:${vif}: ${missing} does not exist but ${missing === veth ? vif : veth} does; expected both ends of a veth pair, or neither`,
    );
  }
  if (mac !== undefined && vethLink?.mac !== mac) {
    if (vethLink?.mac !== undefined) settings.push({ dev: veth, kind: 'mac', before: vethLink.mac });
    steps.push(
      makeStep(
        `link:${veth}:mac`,
        'link',
        ip.linkMac(veth, mac),
        `${veth} MAC: want ${mac} (dom0-mac=), have ${vethLink?.mac ?? 'none yet'}`,
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
