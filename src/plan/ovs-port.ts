import { XenplanError } from '../model/error.ts';
import { checkInterfaceName, show } from '../model/names.ts';
import { makePlan, type Plan, type Step, type XenstoreWrite } from '../model/plan.ts';
import type { OvsDesired, OvsState } from '../model/vif-mode.ts';
import { makeStep } from './step.ts';

/** Xen's vif-openvswitch syntax: BR, BR.TAG (access port), BR:T1:T2 (trunk), BR.TAG:T1:T2. */
const OVS_BRIDGE = /^([^.:]+)(?:\.([0-9]+))?(?::([0-9]+(?::[0-9]+)*))?$/;
const VID_MAX = 4095;

export interface OvsBridgeSpec {
  readonly bridge: string;
  readonly tag?: number;
  readonly trunks: readonly number[];
}

export function parseOvsBridge(value: string, source: string): OvsBridgeSpec {
  const m = OVS_BRIDGE.exec(value);
  const problem = m ? checkInterfaceName(m[1]!, `bridge (from ${source})`) : undefined;
  if (!m || problem)
    throw new XenplanError(
      'config',
      problem ??
        `bridge ${show(value)} (from ${source}) is not an Open vSwitch port spec; expected BRIDGE, BRIDGE.TAG, BRIDGE:TRUNK[:TRUNK...] or BRIDGE.TAG:TRUNK[:TRUNK...]`,
    );
  const vids = [m[2], ...(m[3]?.split(':') ?? [])].filter((v) => v !== undefined).map(Number);
  const bad = vids.find((v) => v > VID_MAX);
  if (bad !== undefined)
    throw new XenplanError(
      'config',
      `bridge ${show(value)}: VLAN ${bad} is past ${VID_MAX}; expected 0 to ${VID_MAX}`,
    );
  return {
    bridge: m[1]!,
    ...(m[2] === undefined ? {} : { tag: Number(m[2]) }),
    trunks: [...new Set(m[3]?.split(':').map(Number) ?? [])].sort((a, b) => a - b),
  };
}

/** An OVSDB string atom, quoted (a VM name may hold anything). */
function atom(value: string): string {
  return JSON.stringify(value);
}

function sameIds(have: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/**
 * online / add on Open vSwitch: the guest's port in its bridge with its tag, trunks and
 * Xen's external-ids, in one ovs-vsctl transaction (`rename` are the vif's own steps before
 * it). Nothing when the port is there as wanted.
 */
export function planOvsOnline(
  want: OvsDesired,
  ovs: OvsState,
  linkSteps: readonly Step[],
  xenstore: readonly XenstoreWrite[] = [],
): Plan {
  const { name, bridge } = want;
  if (!ovs.bridges.includes(bridge))
    throw new XenplanError(
      'config',
      `Open vSwitch bridge ${bridge} does not exist; OVS bridges here: ${ovs.bridges.length === 0 ? 'none' : ovs.bridges.join(', ')}`,
    );
  const port = ovs.port;
  const trunks = want.trunks.join(',');
  const converged =
    port !== undefined &&
    port.bridge === bridge &&
    port.tag === want.tag &&
    port.trunks.join(',') === trunks &&
    sameIds(port.externalIds, want.externalIds);
  if (converged) return makePlan([...linkSteps], [], xenstore);
  const argv = ['ovs-vsctl', '--timeout=30'];
  // A port of the same name on another bridge (a guest moved): Xen deletes it first too.
  if (port !== undefined && port.bridge !== bridge)
    argv.push('--', '--if-exists', 'del-port', port.bridge, name);
  argv.push('--', '--may-exist', 'add-port', bridge, name);
  // What the port has no value for is cleared, so a port moved from access to trunk loses its tag.
  const set = [
    ...(want.tag === undefined ? [] : [`tag=${want.tag}`]),
    ...(trunks === '' ? [] : [`trunks=${trunks}`]),
  ];
  const clear = [...(want.tag === undefined ? ['tag'] : []), ...(trunks === '' ? ['trunks'] : [])];
  if (set.length > 0) argv.push('--', 'set', 'port', name, ...set);
  if (clear.length > 0) argv.push('--', 'clear', 'port', name, ...clear);
  const ids = Object.entries(want.externalIds).map(([k, v]) => `external-ids:${atom(k)}=${atom(v)}`);
  if (ids.length > 0) argv.push('--', 'set', 'interface', name, ...ids);
  const why =
    port === undefined
      ? `${name} is not a port of ${bridge}`
      : port.bridge !== bridge
        ? `${name} is a port of ${port.bridge}, want ${bridge}`
        : `${name} in ${bridge}: want tag ${want.tag ?? 'none'} trunks [${trunks}], have tag ${port.tag ?? 'none'} trunks [${port.trunks.join(',')}]${sameIds(port.externalIds, want.externalIds) ? '' : ', external-ids differ'}`;
  // The link steps (MTU) come first: OVS keeps the MTU a port has when it is added.
  const up = linkSteps.filter((s) => s.id.endsWith(':up'));
  const before = linkSteps.filter((s) => !s.id.endsWith(':up'));
  return makePlan([...before, makeStep(`ovs:${name}:port`, 'port', argv, why), ...up], [], xenstore);
}

/** offline / remove: the port out of OVS (when it is there). */
export function planOvsOffline(name: string, ovs: OvsState): Step[] {
  if (ovs.port === undefined) return [];
  return [
    makeStep(
      `ovs:${name}:del-port`,
      'port',
      ['ovs-vsctl', '--timeout=30', '--', '--if-exists', 'del-port', ovs.port.bridge, name],
      `${name} is still a port of ${ovs.port.bridge}; the guest is going away`,
    ),
  ];
}
