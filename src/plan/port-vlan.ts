import { XenplanError } from '../model/error.ts';
import type { Step } from '../model/plan.ts';
import type { PortVlan, PortVlanState } from '../model/vlan.ts';
import { makeStep } from './step.ts';

/** Consecutive VIDs with the same flags, as one `vid A-B` (the kernel takes ranges, not with pvid). */
function runs(vlans: readonly PortVlan[]): PortVlan[][] {
  const out: PortVlan[][] = [];
  for (const v of [...vlans].sort((a, b) => a.vid - b.vid)) {
    const last = out[out.length - 1];
    const tail = last?.[last.length - 1];
    if (last && tail && !v.pvid && !tail.pvid && tail.vid + 1 === v.vid && tail.untagged === v.untagged)
      last.push(v);
    else out.push([v]);
  }
  return out;
}

function vidWord(run: readonly PortVlan[]): string {
  const first = run[0]!.vid;
  const last = run[run.length - 1]!.vid;
  return first === last ? String(first) : `${first}-${last}`;
}

function describe(v: PortVlan | undefined): string {
  if (!v) return 'absent';
  return v.pvid ? 'PVID, untagged' : v.untagged ? 'untagged' : 'tagged';
}

/**
 * The guest port's VLANs on a VLAN-aware bridge from the backend `vlan` key: adds (PVID and
 * flags) first, then deletes of VIDs it must not carry (a new port starts with the bridge's
 * default PVID). Only what differs; `enslaving` says the port joins the bridge in this plan.
 */
export function planPortVlans(
  name: string,
  bridge: string,
  want: readonly PortVlan[],
  state: PortVlanState,
  enslaving: boolean,
): Step[] {
  if (!state.filtering)
    throw new XenplanError(
      'config',
      `the vif's vlan key needs bridge ${bridge} to filter VLANs, and it does not; make it VLAN-aware (ip link set dev ${bridge} type bridge vlan_filtering 1) or drop vlan= from the vif config`,
    );
  const have: readonly PortVlan[] = enslaving
    ? state.defaultPvid > 0
      ? [{ vid: state.defaultPvid, pvid: true, untagged: true }]
      : []
    : (state.have ?? []);
  const haveBy = new Map(have.map((v) => [v.vid, v]));
  const wantBy = new Set(want.map((v) => v.vid));
  const add = want.filter((v) => {
    const h = haveBy.get(v.vid);
    return !h || h.pvid !== v.pvid || h.untagged !== v.untagged;
  });
  const del = have.filter((v) => !wantBy.has(v.vid));
  const steps: Step[] = [];
  for (const run of runs(add)) {
    const v = run[0]!;
    const flags = [...(v.pvid ? ['pvid'] : []), ...(v.untagged ? ['untagged'] : [])];
    const vid = vidWord(run);
    steps.push(
      makeStep(
        `vlan:${name}:add:${vid}`,
        'port',
        ['bridge', 'vlan', 'add', 'dev', name, 'vid', vid, ...flags],
        `${name} VLAN ${vid}: want ${describe(v)}, have ${describe(haveBy.get(v.vid))} (backend vlan key)`,
      ),
    );
  }
  for (const run of runs(del.map((v) => ({ ...v, pvid: false, untagged: false })))) {
    const vid = vidWord(run);
    steps.push(
      makeStep(
        `vlan:${name}:del:${vid}`,
        'port',
        ['bridge', 'vlan', 'del', 'dev', name, 'vid', vid],
        `${name} must not carry VLAN ${vid} (not in the backend vlan key)`,
        true,
      ),
    );
  }
  return steps;
}

/**
 * The common VLAN mistake, said at once: a VID the guest's port carries that no uplink port
 * of the bridge carries, so the guest's traffic on it never leaves dom0.
 */
export function vlanWarnings(
  name: string,
  bridge: string,
  want: readonly PortVlan[],
  state: PortVlanState,
): string[] {
  const uplinks = Object.entries(state.uplinks ?? {});
  if (uplinks.length === 0) return [];
  const carried = new Set(uplinks.flatMap(([, vids]) => vids));
  const missing = want.map((v) => v.vid).filter((vid) => !carried.has(vid));
  if (missing.length === 0) return [];
  const which = uplinks
    .map(([port, vids]) => `${port} carries ${vids.length === 0 ? 'none' : vids.join(',')}`)
    .join('; ');
  const [first] = uplinks[0]!;
  return [
    `VLAN ${missing.join(', ')} of ${name} is on no uplink port of ${bridge} (${which}): its traffic never leaves dom0; add it there, e.g. bridge vlan add dev ${first} vid ${missing[0]}`,
  ];
}
