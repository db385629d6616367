import { findLink, type HostState } from '../model/host.ts';
import type { NetworkDesired } from '../model/network.ts';

/**
 * How long start waits, after applying, for the links to carry traffic before it probes the
 * gateway, derived from the links' own timers:
 *
 *   5 s                    a NIC taken down to be enslaved renegotiates its link (2-4 s seen)
 *   + updelay              the bond waits that long before using a slave whose link came up
 *   + 3 x arp_interval     ARP monitoring needs several intervals to see a slave answer
 *     (or 2 x miimon)      MII monitoring needs a poll or two
 *   + 2 x forward_delay    with STP, a port listens, then learns, before it forwards
 *
 * The wait ends as soon as everything holds: the bond has an active slave with carrier, and
 * the uplink (and netloop's vif) forwards in the bridge.
 */
export interface SettleBudget {
  readonly ms: number;
  /** How the budget was made, for messages ("5 s + updelay 200 ms + ..."). */
  readonly parts: readonly string[];
}

const NIC_RENEGOTIATION_MS = 5000;

export function settleBudget(want: NetworkDesired, host: HostState): SettleBudget {
  let ms = NIC_RENEGOTIATION_MS;
  const parts = ['5 s for NICs to renegotiate'];
  if (want.bond !== undefined) {
    const options = findLink(host, want.bond.name)?.bond?.options ?? {};
    const num = (key: string) => {
      const value = Number(options[key] ?? want.bond?.options[key] ?? 0);
      return Number.isFinite(value) && value > 0 ? value : 0;
    };
    const updelay = num('updelay');
    const arp = num('arp_interval');
    const mii = num('miimon');
    if (updelay > 0) {
      ms += updelay;
      parts.push(`updelay ${updelay} ms`);
    }
    if (arp > 0) {
      ms += 3 * arp;
      parts.push(`3 x arp_interval ${arp} ms`);
    } else if (mii > 0) {
      ms += 2 * mii;
      parts.push(`2 x miimon ${mii} ms`);
    }
  }
  if (want.bridge.stp) {
    // forwardDelay is in centiseconds, as the kernel keeps it.
    ms += 2 * want.bridge.forwardDelay * 10;
    parts.push(`2 x forward delay ${want.bridge.forwardDelay / 100} s`);
  }
  return { ms, parts };
}

/** The bridge ports start must see forwarding: the uplink, and netloop's vif. */
export function portsToForward(want: NetworkDesired): string[] {
  return [want.uplink, ...(want.dom0.kind === 'netloop' ? [want.dom0.vif] : [])];
}
