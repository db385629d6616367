import { XenplanError } from '../model/error.ts';
import { findLink, type HostState, type Link } from '../model/host.ts';
import { checkInterfaceName, show } from '../model/names.ts';
import { makePlan, type Plan, type Step, type XenstoreWrite } from '../model/plan.ts';
import { PORT_MAC, renameMark, type VifDesired, type VifIdentity } from '../model/vif.ts';
import type { PortVlanState } from '../model/vlan.ts';
import { ip } from './command.ts';
import { planPortVlans, vlanWarnings } from './port-vlan.ts';
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

/** Names the kernel or qemu give guests' devices: another guest's, whenever not ours. */
const GUEST_NAME = /^(?:vif[0-9]+\.[0-9]+(?:-emu)?|tap[0-9]+\.[0-9]+)$/;

/**
 * Why `link` (found under the vifname, the kernel's name gone) is not provably this guest's
 * device; undefined when it is. netback's parent decides where there is one; else only the
 * mark xenplan left before renaming (renameMark). Loopback, bridges, bonds and bond slaves
 * never are, whatever they carry.
 */
function whyNotOwn(link: Link, want: VifIdentity): string | undefined {
  const { name } = link;
  if (link.loopback) return `${name} is the loopback device`;
  if (link.kind === 'bridge') return `${name} is a bridge`;
  if (link.kind === 'bond') return `${name} is a bond`;
  if (link.bondSlave) return `${name} is enslaved to bond ${link.master ?? ''}`.trimEnd();
  if (link.parent !== undefined) {
    if (want.xenbusId !== undefined && link.parent === want.xenbusId) return undefined;
    return /^vif-[0-9]+-[0-9]+$/.test(link.parent)
      ? `it is netback's device ${link.parent}, not ${want.xenbusId ?? 'this one'}`
      : `it is the network device of ${link.parent}`;
  }
  if (link.alias === renameMark(want.dev)) return undefined;
  const from = /^xenplan:(.+)$/.exec(link.alias ?? '')?.[1];
  if (from) return `it was renamed from ${from}`;
  return `nothing shows it was ${want.dev} (no netback parent${want.xenbusId ? ` ${want.xenbusId}` : ''}, no ifalias ${renameMark(want.dev)})`;
}

function refuse(want: VifIdentity, why: string): XenplanError {
  return new XenplanError(
    'config',
    `vifname ${show(want.vifname ?? want.name)} names ${want.name}, which is not this guest's ${want.dev}: ${why}; nothing was changed`,
  );
}

/**
 * The device an online acts on: `dev` as the kernel named it (to be renamed when a vifname
 * asks), or, once renamed, the device under the vifname when it is provably the same one.
 * Throws a config error for a vifname naming any other device. Undefined: neither exists.
 */
export function guestDevice(want: VifIdentity, host: HostState): Link | undefined {
  const { dev, name } = want;
  const original = findLink(host, dev);
  if (name === dev) return original;
  if (GUEST_NAME.test(name))
    throw new XenplanError(
      'config',
      `vifname ${show(want.vifname ?? name)} is the kernel's name for another guest's device; expected a name of this guest's own (${dev} needs no vifname); nothing was changed`,
    );
  const target = findLink(host, name);
  if (original && target)
    throw new XenplanError(
      'config',
      `vifname ${name} is already taken by another device; cannot rename ${dev}`,
    );
  if (original || !target) return original;
  const why = whyNotOwn(target, want);
  if (why) throw refuse(want, why);
  return target;
}

/**
 * offline / remove: the device to detach, by its current name; only ever the guest's own. A
 * vifname naming another device is left alone, with a note saying so.
 */
export function offlineDevice(want: VifIdentity, host: HostState): { name: string; note?: string } {
  try {
    return { name: guestDevice(want, host)?.name ?? want.dev };
  } catch (error) {
    const why = error instanceof XenplanError ? error.message.replace(/; nothing was changed$/, '') : '';
    return { name: want.dev, note: `${why}; left alone, detaching only ${want.dev}` };
  }
}

/**
 * The guest's device under its final name: the rename steps a vifname asks for (marked
 * first, down, renamed) and the link as it will be after them. Every vif mode starts here.
 * Throws a config error when the device does not exist.
 */
export function planRename(want: VifIdentity, host: HostState): { steps: Step[]; link: Link } {
  const { dev, name } = want;
  let link = guestDevice(want, host);
  const steps: Step[] = [];
  if (link && link.name !== name) {
    // Marked first: a run that dies after the rename finds its device again by the mark.
    if (link.alias !== renameMark(dev))
      steps.push(
        makeStep(
          `vif:${dev}:mark`,
          'vif',
          ip.linkAlias(dev, renameMark(dev)),
          `${dev} is to be renamed: mark it as this guest's (ifalias)`,
        ),
      );
    // The kernel renames only a link that is down.
    if (link.up)
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
    link = { ...link, name, up: false };
  }
  if (!link)
    throw new XenplanError(
      'config',
      `${want.kind} device ${dev} does not exist; has the backend created it?`,
    );
  return { steps, link };
}

/**
 * online / add: rename (vifname), Xen's port MAC, MTU before enslaving (so the bridge's MTU
 * never drops), enslave, up. Only what differs, and only on the guest's own device.
 */
/** A guest device's MTU, set before it joins anything (a bridge, or dom0's routing). */
export function vifMtuStep(name: string, want: number, have: number | undefined): Step {
  return makeStep(
    `vif:${name}:mtu`,
    'vif',
    ip.linkMtu(name, want),
    `${name} mtu: want ${want}, have ${have}`,
  );
}

export function planVifOnline(
  want: VifDesired,
  host: HostState,
  xenstore: readonly XenstoreWrite[] = [],
  portVlans?: PortVlanState,
): Plan {
  const { name, bridge } = want;
  const bridgeLink = findLink(host, bridge);
  if (bridgeLink?.kind !== 'bridge')
    throw new XenplanError('config', `bridge ${bridge} does not exist (or is not a bridge)`);
  const { steps, link } = planRename(want, host);
  if (link.mac?.toLowerCase() !== PORT_MAC)
    steps.push(
      makeStep(
        `vif:${name}:mac`,
        'vif',
        ip.linkMac(name, PORT_MAC),
        `${name} MAC: want ${PORT_MAC} so ${bridge} never adopts it, have ${link.mac ?? 'none'}`,
      ),
    );
  if (link.mtu !== want.mtu) steps.push(vifMtuStep(name, want.mtu, link.mtu));
  if (link.master !== bridge)
    steps.push(
      makeStep(
        `vif:${name}:master`,
        'vif',
        ip.linkMaster(name, bridge),
        `${name}: want in ${bridge}, have ${link.master ? `in ${link.master}` : 'not in a bridge'}`,
      ),
    );
  if (want.vlans !== undefined) {
    if (!portVlans)
      throw new XenplanError('bug', `${name}: VLANs wanted but the bridge's VLANs were not observed`);
    steps.push(...planPortVlans(name, bridge, want.vlans, portVlans, link.master !== bridge));
  }
  if (!link.up) steps.push(makeStep(`vif:${name}:up`, 'vif', ip.linkUp(name), `${name} is down`));
  const warnings =
    want.mtu < bridgeLink.mtu && link.master !== bridge
      ? [
          `${name} mtu ${want.mtu} is below ${bridge}'s ${bridgeLink.mtu}: the kernel lowers ${bridge}'s MTU to ${want.mtu} for every port`,
        ]
      : [];
  const vlanNotes = want.vlans && portVlans ? vlanWarnings(name, bridge, want.vlans, portVlans) : [];
  return makePlan(steps, [...warnings, ...vlanNotes], xenstore);
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
