import { type AntispoofFamily, chainGuest, NFT_FAMILIES, NFT_TABLE } from '../model/antispoof.ts';
import { XenplanError } from '../model/error.ts';
import type { Runner } from '../model/ports.ts';

/** One guest chain of table bridge xenplan or netdev xenplan as nft lists it. */
export interface GuestChainState {
  /** The vif the chain belongs to. */
  readonly vif: string;
  readonly chain: string;
  /** bridge: a Linux bridge's port; netdev: the vif's ingress (Open vSwitch, routed, NAT). */
  readonly family: AntispoofFamily;
  /** Whether the vif's frames reach it (bridge: the verdict map; netdev: the hook's device). */
  readonly mapped: boolean;
  /** Its rules as nft prints them (counters included). */
  readonly rules: readonly string[];
  /** Packets dropped, by the rule's comment (mac, arp-ip, ipv4, …). */
  readonly dropped: Readonly<Record<string, number>>;
}

/**
 * xenplan's antispoofing tables as they are: every guest chain with its rules and counters,
 * bridge table first. Empty when neither table exists. Two nft calls per table (JSON for the
 * counters, text for the rules as an admin reads them): an admin command, not the vif hot path.
 */
export async function observeAntispoof(runner: Runner): Promise<GuestChainState[]> {
  const guests: GuestChainState[] = [];
  for (const family of NFT_FAMILIES) {
    const where = ['table', family, NFT_TABLE];
    const json = await runner.run(['nft', '-j', 'list', ...where]);
    if (json.exitCode !== 0) {
      if (/No such file or directory|does not exist/i.test(json.stderr)) continue;
      throw new XenplanError('environment', `nft -j list ${where.join(' ')} failed: ${json.stderr.trim()}`);
    }
    const text = await runner.run(['nft', 'list', ...where]);
    guests.push(...parseAntispoof(json.stdout, text.exitCode === 0 ? text.stdout : '', family));
  }
  return guests;
}

interface NftObject {
  readonly chain?: { readonly name: string };
  readonly map?: { readonly name: string; readonly elem?: readonly unknown[] };
  readonly rule?: { readonly chain: string; readonly comment?: string; readonly expr?: readonly unknown[] };
}

/** Parses `nft -j list table` (counters, map, hooks) and `nft list table` (rule text). */
export function parseAntispoof(
  json: string,
  text: string,
  family: AntispoofFamily = 'bridge',
): GuestChainState[] {
  let objects: NftObject[];
  try {
    objects = (JSON.parse(json) as { nftables: NftObject[] }).nftables;
  } catch {
    throw new XenplanError('environment', 'nft -j printed something that is not JSON');
  }
  const mapped = new Set<string>();
  for (const o of objects)
    for (const elem of o.map?.elem ?? [])
      if (Array.isArray(elem) && typeof elem[0] === 'string') mapped.add(elem[0]);
  const texts = chainTexts(text);
  const guests: GuestChainState[] = [];
  for (const o of objects) {
    const name = o.chain?.name;
    const vif = name === undefined ? undefined : chainGuest(name);
    if (name === undefined || vif === undefined) continue;
    const dropped: Record<string, number> = {};
    for (const r of objects) {
      if (r.rule?.chain !== name || r.rule.comment === undefined) continue;
      const packets = counterOf(r.rule.expr ?? []);
      if (packets !== undefined) dropped[r.rule.comment] = (dropped[r.rule.comment] ?? 0) + packets;
    }
    // nft -j (1.0.6) leaves a netdev chain's device out: the text names it.
    const lines = texts.get(name) ?? [];
    const hook = lines.find((l) => l.startsWith('type '));
    const hooked = hook?.includes(` device "${vif}"`) === true || hook?.includes(` device ${vif};`) === true;
    guests.push({
      vif,
      chain: name,
      family,
      mapped: family === 'bridge' ? mapped.has(vif) : hooked,
      rules: lines.filter((l) => l !== hook),
      dropped,
    });
  }
  return guests.sort((a, b) => a.vif.localeCompare(b.vif, 'en', { numeric: true }));
}

function counterOf(expr: readonly unknown[]): number | undefined {
  for (const e of expr) {
    const counter = (e as { counter?: { packets?: unknown } }).counter;
    if (counter && typeof counter.packets === 'number') return counter.packets;
  }
  return undefined;
}

/** Rule lines of each chain in nft's text listing. */
function chainTexts(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const head = /^\s*chain (\S+) \{/.exec(line);
    if (head) {
      current = [];
      out.set(head[1]!, current);
    } else if (/^\s*\}/.test(line)) current = undefined;
    else if (current && line.trim() !== '') current.push(line.trim());
  }
  return out;
}
