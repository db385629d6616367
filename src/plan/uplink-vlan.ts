import { XenplanError } from '../model/error.ts';
import { findLink, type HostState } from '../model/host.ts';
import { type NetworkDesired, vlanBridgeName, vlanDeviceName } from '../model/network.ts';
import type { Step } from '../model/plan.ts';
import type { SettingChange } from '../model/record.ts';
import { listBridgeChanges, planBridge, planNoLinkLocal, planPort } from './bridge.ts';
import { ip } from './command.ts';
import { planLinkUp } from './link.ts';
import { makeStep } from './step.ts';

export interface UplinkVlanPlan {
  readonly steps: Step[];
  /** Devices this plan creates, in creation order (stop deletes them in reverse). */
  readonly created: string[];
  readonly settings: SettingChange[];
  /** Existing devices put into a VLAN bridge (recorded so stop releases them). */
  readonly enslaved: { dev: string; master: string }[];
}

/**
 * vlans=: for each VID the uplink's VLAN device (`bond0.100`) in its own bridge (`xenbr100`),
 * both up, with the main bridge's STP and forward delay. Only what differs; the uplink itself
 * is planned by the caller before this.
 */
export function planUplinkVlans(
  want: NetworkDesired,
  host: HostState,
  /** The uplink's MAC, which its VLAN devices carry: each VLAN bridge is pinned to it. */
  uplinkMac?: string,
): UplinkVlanPlan {
  const out: UplinkVlanPlan = { steps: [], created: [], settings: [], enslaved: [] };
  for (const vid of want.vlans ?? []) {
    const dev = vlanDeviceName(want.uplink, vid);
    const bridge = vlanBridgeName(vid);
    const link = findLink(host, dev);
    if (link && link.kind !== undefined && link.kind !== 'vlan')
      throw new XenplanError(
        'config',
        `vlans=${vid}: ${dev} exists and is a ${link.kind}, not a VLAN of ${want.uplink}`,
      );
    if (!link) {
      out.created.push(dev);
      out.steps.push(
        makeStep(
          `vlan:${dev}:create`,
          'link',
          ip.vlanAdd(dev, want.uplink, vid),
          `${dev} is missing: VLAN ${vid} of ${want.uplink} (vlans=)`,
        ),
      );
      out.steps.push(planNoLinkLocal(dev, 'link'));
    }
    const desired = { name: bridge, stp: want.bridge.stp, forwardDelay: want.bridge.forwardDelay };
    const bridgeLink = findLink(host, bridge);
    if (!bridgeLink) out.created.push(bridge);
    out.steps.push(...planBridge(desired, host));
    out.settings.push(...listBridgeChanges(desired, host));
    // As the main bridge: a bridge's MAC follows its lowest port's unless pinned, so a guest
    // joining would change the MAC the LAN knows it by.
    if (uplinkMac !== undefined && (bridgeLink?.mac !== uplinkMac || bridgeLink.macPinned === false)) {
      if (bridgeLink?.mac !== undefined && bridgeLink.mac !== uplinkMac)
        out.settings.push({ dev: bridge, kind: 'mac', before: bridgeLink.mac });
      out.steps.push(
        makeStep(
          `bridge:${bridge}:mac`,
          'bridge',
          ip.linkMac(bridge, uplinkMac),
          `${bridge} MAC: want ${uplinkMac} (${dev}'s, pinned so it never changes as vifs come and go), have ${
            bridgeLink?.mac === uplinkMac
              ? `${bridgeLink.mac} but not pinned`
              : (bridgeLink?.mac ?? 'none yet')
          }`,
        ),
      );
    }
    // A device made in this plan is not in `host`: plan its port steps as if it were, down.
    const seen: HostState = link
      ? host
      : {
          ...host,
          links: [
            ...host.links,
            {
              name: dev,
              ifindex: 0,
              kind: 'vlan',
              master: undefined,
              mtu: 0,
              mac: undefined,
              up: false,
              carrier: false,
              noarp: false,
              operstate: 'DOWN',
            },
          ],
        };
    if (link && link.master !== bridge) out.enslaved.push({ dev, master: bridge });
    out.steps.push(...planPort(bridge, dev, seen));
    out.steps.push(...planLinkUp(bridge, host));
  }
  return out;
}
