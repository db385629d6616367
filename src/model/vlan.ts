import { show } from './names.ts';

/**
 * A guest port's VLANs as libxl's backend `vlan` key spells them (xl-network-configuration(5)):
 * terms joined by `/`, each `VID[p|u]`, `FIRST-LAST[u]` or `VID+STEPxCOUNT[u]`; `p` marks the
 * PVID (untagged), `u` an untagged VLAN, the rest are tagged. Exactly one PVID; a lone VID is it.
 */
export interface PortVlan {
  readonly vid: number;
  readonly pvid: boolean;
  readonly untagged: boolean;
}

export const VID_MIN = 1;
export const VID_MAX = 4094;

const TERM =
  /^(?:([0-9]{1,4})([pu]?)|([0-9]{1,4})-([0-9]{1,4})(u?)|([0-9]{1,4})\+([0-9]{1,4})x([0-9]{1,4})(u?))$/;

/** The VLANs of a `vlan` value, sorted by VID; or a sentence naming what is wrong. */
export function parseVlanKey(value: string, what = 'vlan'): PortVlan[] | string {
  const expected = `expected VLAN terms 1-${VID_MAX} joined by /, like 10p/20/30-40 or 10p/100+10x4`;
  const byVid = new Map<number, PortVlan>();
  const terms = value.split('/');
  for (const term of terms) {
    const m = TERM.exec(term);
    if (!m) return `${what} ${show(value)}: term ${show(term)} is not a VLAN term; ${expected}`;
    let vids: number[];
    let flag: string;
    if (m[1] !== undefined) {
      vids = [Number(m[1])];
      flag = m[2]!;
    } else if (m[3] !== undefined) {
      const [first, last] = [Number(m[3]), Number(m[4])];
      if (first > last) return `${what} ${show(value)}: range ${term} runs backwards; ${expected}`;
      vids = Array.from({ length: last - first + 1 }, (_, i) => first + i);
      flag = m[5]!;
    } else {
      const [start, step, count] = [Number(m[6]), Number(m[7]), Number(m[8])];
      if (step === 0) return `${what} ${show(value)}: ${term} steps by 0; ${expected}`;
      vids = Array.from({ length: count + 1 }, (_, i) => start + i * step);
      flag = m[9]!;
    }
    for (const vid of vids) {
      if (vid < VID_MIN || vid > VID_MAX)
        return `${what} ${show(value)}: VLAN ${vid} is out of range; ${expected}`;
      if (byVid.has(vid)) return `${what} ${show(value)}: VLAN ${vid} is given twice`;
      byVid.set(vid, { vid, pvid: flag === 'p', untagged: flag === 'p' || flag === 'u' });
    }
  }
  const all = [...byVid.values()].sort((a, b) => a.vid - b.vid);
  // A lone VID is the PVID (vlan=10).
  if (all.length === 1 && terms.length === 1 && /^[0-9]+$/.test(value))
    return [{ ...all[0]!, pvid: true, untagged: true }];
  const pvids = all.filter((v) => v.pvid).length;
  if (pvids !== 1)
    return `${what} ${show(value)}: ${pvids === 0 ? 'no VLAN is' : `${pvids} VLANs are`} marked as the PVID; mark exactly one with p, like 10p/20`;
  return all;
}

/** A bridge port's VLANs as observed, with what decides them for a port not yet enslaved. */
export interface PortVlanState {
  /** The bridge filters VLANs (vlan_filtering=1); without it a port's VLANs mean nothing. */
  readonly filtering: boolean;
  /** The VID a new port gets as PVID (untagged); 0 for none. */
  readonly defaultPvid: number;
  /** The port's VLANs now; undefined when it is not a port of the bridge yet. */
  readonly have?: readonly PortVlan[];
  /** The VIDs each other non-guest port of the bridge (its uplinks) carries, when read. */
  readonly uplinks?: Readonly<Record<string, readonly number[]>>;
}
