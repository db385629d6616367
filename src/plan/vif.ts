import { XenplanError } from '../model/error.ts';
import { findLink, type HostState } from '../model/host.ts';
import { checkInterfaceName } from '../model/names.ts';
import { makePlan, type Plan, type XenstoreWrite } from '../model/plan.ts';
import { PORT_MAC, type VifDesired } from '../model/vif.ts';
import { ip } from './command.ts';
import { makeStep } from './step.ts';

export interface BridgeRequest {
  /** xenstore `bridge`, then the bridge= argument, then the environment, as in Xen. */
  readonly value: string | undefined;
  readonly source: string;
}

/**
 * Which bridge a vif joins: the one asked for; else the only bridge on the host. Keeps
 * Xen's rule that a missing `xenbrN` means `ethN` when that is a bridge (Xen 3.2 layout).
 */
export function chooseBridge(request: BridgeRequest, bridges: readonly string[]): string {
  const listed = bridges.length === 0 ? 'none' : bridges.join(', ');
  if (request.value !== undefined) {
    const problem = checkInterfaceName(request.value, `bridge (from ${request.source})`);
    if (problem) throw new XenplanError('config', problem);
    if (bridges.includes(request.value)) return request.value;
    const legacy = /^xenbr([0-9]+)$/.exec(request.value);
    if (legacy && bridges.includes(`eth${legacy[1]}`)) return `eth${legacy[1]}`;
    throw new XenplanError('config', `bridge ${request.value} does not exist; bridges here: ${listed}`);
  }
  if (bridges.length === 1) return bridges[0]!;
  if (bridges.length === 0)
    throw new XenplanError(
      'config',
      'no bridge was given (xenstore bridge, bridge= argument or environment) and this host has none; create one with network-script start',
    );
  throw new XenplanError(
    'config',
    `no bridge was given and this host has several (${listed}); set bridge= in the guest's vif config`,
  );
}

/**
 * online / add: rename (vifname), Xen's port MAC, MTU before enslaving (so the bridge's MTU
 * never drops), enslave, up. Only what differs.
 */
export function planVifOnline(
  want: VifDesired,
  host: HostState,
  xenstore: readonly XenstoreWrite[] = [],
): Plan {
  const { dev, name, bridge } = want;
  const bridgeLink = findLink(host, bridge);
  if (bridgeLink?.kind !== 'bridge')
    throw new XenplanError('config', `bridge ${bridge} does not exist (or is not a bridge)`);
  let link = findLink(host, name);
  const original = findLink(host, dev);
  const steps = [];
  if (name !== dev) {
    if (original && link)
      throw new XenplanError(
        'config',
        `vifname ${name} is already taken by another device; cannot rename ${dev}`,
      );
    if (original) {
      // The kernel renames only a link that is down.
      if (original.up)
        steps.push(
          makeStep(`vif:${dev}:down`, 'vif', ip.linkDown(dev), `${dev} must be down to be renamed`, true),
        );
      steps.push(
        makeStep(
          `vif:${dev}:rename`,
          'vif',
          ip.linkRename(dev, name),
          `vifname: ${dev} is to be called ${name}`,
        ),
      );
      link = { ...original, name, up: false };
    }
  }
  if (!link)
    throw new XenplanError(
      'config',
      `${want.kind} device ${dev} does not exist; has the backend created it?`,
    );
  if (link.mac?.toLowerCase() !== PORT_MAC)
    steps.push(
      makeStep(
        `vif:${name}:mac`,
        'vif',
        ip.linkMac(name, PORT_MAC),
        `${name} MAC: want ${PORT_MAC} so ${bridge} never adopts it, have ${link.mac ?? 'none'}`,
      ),
    );
  if (link.mtu !== want.mtu)
    steps.push(
      makeStep(
        `vif:${name}:mtu`,
        'vif',
        ip.linkMtu(name, want.mtu),
        `${name} mtu: want ${want.mtu}, have ${link.mtu}`,
      ),
    );
  if (link.master !== bridge)
    steps.push(
      makeStep(
        `vif:${name}:master`,
        'vif',
        ip.linkMaster(name, bridge),
        `${name}: want in ${bridge}, have ${link.master ? `in ${link.master}` : 'not in a bridge'}`,
      ),
    );
  if (!link.up) steps.push(makeStep(`vif:${name}:up`, 'vif', ip.linkUp(name), `${name} is down`));
  const warnings =
    want.mtu < bridgeLink.mtu && link.master !== bridge
      ? [
          `${name} mtu ${want.mtu} is below ${bridge}'s ${bridgeLink.mtu}: the kernel lowers ${bridge}'s MTU to ${want.mtu} for every port`,
        ]
      : [];
  return makePlan(steps, warnings, xenstore);
}

/** offline / remove: down, out of its bridge. A device already gone plans nothing. */
export function planVifOffline(name: string, host: HostState): Plan {
  const link = findLink(host, name);
  if (!link) return makePlan([], [`${name} is already gone`]);
  const steps = [];
  if (link.up)
    steps.push(
      makeStep(`vif:${name}:down`, 'vif', ip.linkDown(name), `${name} is up; the guest is going away`, true),
    );
  if (link.master)
    steps.push(
      makeStep(`vif:${name}:nomaster`, 'vif', ip.linkNoMaster(name), `${name} is still in ${link.master}`),
    );
  return makePlan(steps);
}
