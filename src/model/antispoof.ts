/**
 * Per-guest antispoofing: which guests are filtered (the host's `vif-antispoof` setting) and
 * what a filtered guest may send. Enforced with nftables: a guest in a Linux bridge by the
 * table `bridge xenplan`, so it works whether or not br_netfilter hands bridged frames to
 * iptables; a guest on Open vSwitch or routed (no Linux bridge to hook) by the table
 * `netdev xenplan`, a chain on its vif's ingress, which sees every frame before OVS or
 * routing does.
 */

/**
 * - `ip`: Xen's meaning: a guest whose backend has `ip` is filtered, others are not.
 * - `locked`: every guest is locked to its backend `mac`, and to its `ip` list when given.
 * - `off`: no guest is filtered.
 */
export type AntispoofPolicy = 'ip' | 'locked' | 'off';

export const ANTISPOOF_POLICIES: readonly AntispoofPolicy[] = ['ip', 'locked', 'off'];

/** The vif settings of the host config file (keys starting `vif-`). */
export interface VifSettings {
  readonly antispoof: AntispoofPolicy;
}

export const DEFAULT_VIF_SETTINGS: VifSettings = { antispoof: 'ip' };

/** What a filtered guest is locked to: its device (by final name), MAC and addresses. */
export interface GuestAddresses {
  /** The vif as the bridge sees it (vifname when set). */
  readonly name: string;
  /** The backend `mac` (lower case), undefined when the backend has none. */
  readonly mac?: string;
  /** The backend `ip` list (addresses or CIDRs, IPv4 and IPv6). */
  readonly ips: readonly string[];
  /** The VLANs the guest sends tagged (an OVS trunk, a bridge port's tagged VIDs), if any. */
  readonly tagged?: readonly number[];
}

/**
 * The nftables objects xenplan owns: a table per family. In `bridge xenplan`, one verdict map
 * (vif name → guest chain) from one base chain; in `netdev xenplan`, each guest chain is a
 * base chain of its own, on the vif's ingress hook.
 */
export const NFT_TABLE = 'xenplan';
export type AntispoofFamily = 'bridge' | 'netdev';
export const NFT_FAMILIES: readonly AntispoofFamily[] = ['bridge', 'netdev'];
export const NFT_MAP = 'vifs';
export const NFT_BASE_CHAIN = 'prerouting';

/**
 * The chain of one guest. nft identifiers take letters, digits and `/ - _ .`, not `+` and not
 * a leading digit, which interface names may have: prefix it, and spell `+` as `/` (never in
 * an interface name), so the mapping is one to one and reversible.
 */
export function guestChain(name: string): string {
  return `guest-${name.replaceAll('+', '/')}`;
}

/** The interface a guest chain belongs to; undefined for any other chain. */
export function chainGuest(chain: string): string | undefined {
  return chain.startsWith('guest-') ? chain.slice('guest-'.length).replaceAll('/', '+') : undefined;
}

/** Why a filtered guest's frame is dropped: the `comment` of its rule, the counter's name. */
export type DropReason = 'mac' | 'vlan' | 'arp-mac' | 'arp-ip' | 'dhcp-server' | 'ra' | 'ipv4' | 'ipv6';
