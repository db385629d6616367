import {
  type AntispoofFamily,
  type AntispoofPolicy,
  chainGuest,
  type GuestAddresses,
  guestChain,
  NFT_BASE_CHAIN,
  NFT_MAP,
  NFT_TABLE,
} from '../model/antispoof.ts';
import { XenplanError } from '../model/error.ts';
import { isIpv4 } from '../model/names.ts';
import { makePlan, type Plan, type Step } from '../model/plan.ts';
import { NFT_APPLY } from './command.ts';
import { makeInputStep } from './step.ts';

/**
 * Antispoofing as nftables transactions (pure). A guest in a Linux bridge: the table
 * `bridge xenplan`, a base chain at the bridge's prerouting hook, priority -200 (before
 * anything else of the bridge family), sends each frame by its input port through a verdict
 * map to that guest's chain; a port not in the map is not touched. A guest on Open vSwitch,
 * routed or NAT: the table `netdev xenplan`, the guest's chain a base chain on its vif's
 * ingress hook (OVS takes frames from the device before any bridge or IP hook; ingress comes
 * earlier still). The rules are the same in both. Each event's change is one `nft -f -`
 * transaction, committed whole or not at all, touching only its own guest's chain (and map
 * element): events for other guests (each their own transaction, serialised by the kernel
 * only for the commit) never see or disturb it.
 */

const table = (family: AntispoofFamily) => `${family} ${NFT_TABLE}`;

/** The rules of a filtered guest's chain (each an nft rule body), or undefined: not filtered. */
export function guestRules(guest: GuestAddresses, policy: AntispoofPolicy): string[] | undefined {
  if (policy === 'off') return undefined;
  if (policy === 'ip' && guest.ips.length === 0) return undefined;
  const { mac } = guest;
  // The rules read untagged frames only, and drop tagged ones: a trunk would lose its VLANs.
  if (guest.tagged?.length)
    throw new XenplanError(
      'config',
      `vif-antispoof=${policy} filters ${guest.name}, which carries tagged VLANs ${guest.tagged.join(',')}; antispoofing checks untagged frames only: give the guest an access port (one untagged VLAN), or set vif-antispoof=off (or, with ip, drop the ip key)`,
    );
  if (mac === undefined && policy === 'locked')
    throw new XenplanError(
      'config',
      `vif-antispoof=locked needs the guest's MAC but the backend of ${guest.name} has no mac key; set mac= in the guest's vif config`,
    );
  const v4 = guest.ips.filter((ip) => isIpv4(ip.split('/')[0] ?? ''));
  const v6 = guest.ips.filter((ip) => !v4.includes(ip));
  const rules: string[] = [];
  const drop = (match: string, why: string) => rules.push(`${match} counter drop comment "${why}"`);
  if (mac !== undefined) drop(`ether saddr != ${mac}`, 'mac');
  // A tagged frame carries a header the rules below do not look into: never from a guest.
  drop('ether type { 8021q, 8021ad }', 'vlan');
  if (mac !== undefined) drop(`arp saddr ether != ${mac}`, 'arp-mac');
  // 0.0.0.0 is an ARP probe's sender (RFC 5227): no cache learns from it.
  if (v4.length > 0) drop(`arp saddr ip != { ${['0.0.0.0', ...v4].join(', ')} }`, 'arp-ip');
  // A guest is never the network's DHCP server or router.
  drop('ether type ip udp sport 67 udp dport 68', 'dhcp-server');
  drop('ether type ip6 udp sport 547 udp dport 546', 'dhcp-server');
  drop('icmpv6 type nd-router-advert', 'ra');
  if (guest.ips.length === 0) return rules;
  if (v4.length > 0) {
    // A DHCP client asks before it has an address.
    rules.push('ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept');
    drop(`ip saddr != { ${v4.join(', ')} }`, 'ipv4');
  } else drop('ether type ip', 'ipv4');
  // Duplicate address detection and MLD speak before an address is owned, from ::.
  rules.push(
    'ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld-listener-report, mld2-listener-report } accept',
  );
  // The link-local and SLAAC addresses derived from the MAC: any prefix, the MAC's EUI-64.
  if (mac !== undefined) rules.push(`ether type ip6 @nh,128,64 ${eui64(mac)} accept`);
  if (v6.length > 0) rules.push(`ip6 saddr { ${v6.join(', ')} } accept`);
  drop('ether type ip6', 'ipv6');
  return rules;
}

/** The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A), as nft hex. */
export function eui64(mac: string): string {
  const bytes = mac.split(':').map((b) => Number.parseInt(b, 16));
  bytes[0] = (bytes[0] ?? 0) ^ 0x02;
  const id = [...bytes.slice(0, 3), 0xff, 0xfe, ...bytes.slice(3)];
  return `0x${id.map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Creates the table, map and base chain when missing; leaves them as they are otherwise. */
function tableLines(family: AntispoofFamily): string[] {
  const T = table(family);
  if (family === 'netdev') return [`add table ${T}`];
  return [
    `add table ${T}`,
    `add map ${T} ${NFT_MAP} { type ifname : verdict; }`,
    `add chain ${T} ${NFT_BASE_CHAIN} { type filter hook prerouting priority -200; policy accept; }`,
    // Flushed and refilled in the same transaction: its one rule, never twice, never absent.
    `flush chain ${T} ${NFT_BASE_CHAIN}`,
    `add rule ${T} ${NFT_BASE_CHAIN} iifname vmap @${NFT_MAP}`,
  ];
}

/**
 * The transaction that (re)places one guest's chain and its map element (bridge), or its
 * chain on the vif's ingress (netdev: priority -500, before anything else that hooks there).
 */
export function nftGuestScript(
  name: string,
  rules: readonly string[],
  family: AntispoofFamily = 'bridge',
): string {
  const chain = guestChain(name);
  const T = table(family);
  const hook =
    family === 'netdev' ? ` { type filter hook ingress device "${name}" priority -500; policy accept; }` : '';
  return lines([
    ...tableLines(family),
    `add chain ${T} ${chain}${hook}`,
    `flush chain ${T} ${chain}`,
    ...rules.map((rule) => `add rule ${T} ${chain} ${rule}`),
    ...(family === 'bridge' ? [`add element ${T} ${NFT_MAP} { "${name}" : goto ${chain} }`] : []),
  ]);
}

/** The family a mark's transaction was written for (undefined: a pending mark). */
export function markFamily(mark: string): AntispoofFamily | undefined {
  const match = /^add table (bridge|netdev) /m.exec(mark);
  return match ? (match[1] as AntispoofFamily) : undefined;
}

/**
 * The transaction that removes guests' chains and map elements. nft (before 1.0.8's
 * `destroy`) fails to delete what is missing, so each object is added first: the pair is a
 * delete that succeeds whether or not a crashed run left it.
 */
export function nftRemoveScript(names: readonly string[], family: AntispoofFamily = 'bridge'): string {
  return lines(removeLines(names, family));
}

function removeLines(names: readonly string[], family: AntispoofFamily): string[] {
  const T = table(family);
  // netdev: a chain whose device went is gone with it (kernels before 6.10) or kept unbound
  // (later ones); added without a hook, it is a plain chain when missing and left as it is
  // when present, so the delete succeeds either way.
  if (family === 'netdev')
    return [
      `add table ${T}`,
      ...names.flatMap((name) => {
        const chain = guestChain(name);
        return [`add chain ${T} ${chain}`, `flush chain ${T} ${chain}`, `delete chain ${T} ${chain}`];
      }),
    ];
  const out = [`add table ${T}`, `add map ${T} ${NFT_MAP} { type ifname : verdict; }`];
  for (const name of names) {
    const chain = guestChain(name);
    out.push(
      `add chain ${T} ${chain}`,
      `add element ${T} ${NFT_MAP} { "${name}" : goto ${chain} }`,
      `delete element ${T} ${NFT_MAP} { "${name}" }`,
      `flush chain ${T} ${chain}`,
      `delete chain ${T} ${chain}`,
    );
  }
  return out;
}

function lines(list: readonly string[]): string {
  return `${list.join('\n')}\n`;
}

/**
 * One vif event's antispoofing change: the steps (at most one nft transaction) and the mark
 * to record once they ran (its text; null: remove it; undefined: leave it alone).
 *
 * The mark (a file per guest under the run directory, see cli) holds the vif's ifindex and
 * the transaction that was applied. It is how an event observes its guest's rules without a
 * third process: a mark equal to the desired one means this very device already has these
 * rules. A new device (a new guest) has a new ifindex, so it never inherits a stale mark.
 */
export interface AntispoofChange {
  readonly steps: readonly Step[];
  readonly mark?: string | null;
}

export function markText(ifindex: number, script: string): string {
  return `ifindex ${ifindex}\n${script}`;
}

/** online / add: the guest's rules, from the policy and its backend; nothing when converged. */
export function planAntispoofOnline(
  policy: AntispoofPolicy,
  guest: GuestAddresses,
  ifindex: number,
  mark: string | undefined,
  family: AntispoofFamily = 'bridge',
): AntispoofChange {
  const rules = guestRules(guest, policy);
  if (rules === undefined) {
    if (mark === undefined) return { steps: [] };
    return {
      steps: [
        removeStep(
          guest.name,
          `${guest.name} is not filtered (vif-antispoof=${policy}${policy === 'ip' ? ', no ip key' : ''}): remove its rules`,
          markFamily(mark) ?? family,
        ),
      ],
      mark: null,
    };
  }
  const script = nftGuestScript(guest.name, rules, family);
  const want = markText(ifindex, script);
  if (mark === want) return { steps: [] };
  const what = guest.ips.length > 0 ? `${guest.mac ?? 'any MAC'}, ${guest.ips.join(' ')}` : (guest.mac ?? '');
  return {
    steps: [
      makeInputStep(
        `antispoof:${guest.name}`,
        'firewall',
        NFT_APPLY,
        script,
        `vif-antispoof=${policy}: ${guest.name} may send only from ${what} (${mark === undefined ? 'no rules yet' : 'rules differ or belong to an older device'})`,
      ),
    ],
    mark: want,
  };
}

/**
 * offline / remove: the guest's rules go, when an online left a mark (or began to): from the
 * table the mark names, else (a pending mark) from the mode's.
 */
export function planAntispoofOffline(
  name: string,
  mark: string | undefined,
  family: AntispoofFamily = 'bridge',
): AntispoofChange {
  if (mark === undefined) return { steps: [] };
  return {
    steps: [removeStep(name, `${name} is going away: remove its rules`, markFamily(mark) ?? family)],
    mark: null,
  };
}

/** A guest chain as gc sees it: its name and its table's family. */
export interface ChainRef {
  readonly chain: string;
  readonly family: AntispoofFamily;
}

/** gc: chains of guests whose vif no longer exists, in both tables, in one transaction. */
export function planAntispoofGc(chains: readonly ChainRef[], present: readonly string[]): Step[] {
  const gone = (family: AntispoofFamily) =>
    chains
      .filter((c) => c.family === family)
      .map((c) => chainGuest(c.chain))
      .filter((name): name is string => name !== undefined && !present.includes(name));
  const bridge = gone('bridge');
  const netdev = gone('netdev');
  if (bridge.length + netdev.length === 0) return [];
  return [
    makeInputStep(
      'antispoof:gc',
      'firewall',
      NFT_APPLY,
      lines([
        ...(bridge.length > 0 ? removeLines(bridge, 'bridge') : []),
        ...(netdev.length > 0 ? removeLines(netdev, 'netdev') : []),
      ]),
      `rules of vifs that no longer exist: ${[...bridge, ...netdev].join(', ')}`,
    ),
  ];
}

/**
 * A mode's plan with the guest's antispoofing steps in: right after the vif's rename (a
 * netdev chain hooks the device by its final name), before it goes up, so it never forwards
 * a frame unfiltered.
 */
export function withFilter(plan: Plan, filter: readonly Step[], dev: string): Plan {
  if (filter.length === 0) return plan;
  const at = plan.steps.findIndex((s) => s.id === `vif:${dev}:rename`) + 1;
  return makePlan(
    [...plan.steps.slice(0, at), ...filter, ...plan.steps.slice(at)],
    plan.warnings,
    plan.xenstore,
  );
}

/**
 * gc: put back the rules of a vif whose mark says they were applied but whose chain is gone
 * (a firewall reload flushed the ruleset): the mark holds the very transaction. Nothing for
 * a pending mark (that online never finished: its guest's next online redoes it).
 */
export function planAntispoofRestore(name: string, mark: string): Step[] {
  const match = /^ifindex [0-9]+\n([\s\S]+)$/.exec(mark);
  if (!match) return [];
  return [
    makeInputStep(
      `antispoof:${name}:restore`,
      'firewall',
      NFT_APPLY,
      match[1]!,
      `${name} was filtered but its rules are gone (a ruleset flush?): apply them again`,
    ),
  ];
}

function removeStep(name: string, reason: string, family: AntispoofFamily): Step {
  return makeInputStep(`antispoof:${name}`, 'firewall', NFT_APPLY, nftRemoveScript([name], family), reason);
}
