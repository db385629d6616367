import { chainGuest, NFT_FAMILY, NFT_TABLE } from '../model/antispoof.ts';
import { XenplanError } from '../model/error.ts';
import type { Runner } from '../model/ports.ts';

/** One guest chain of table bridge xenplan as nft lists it. */
export interface GuestChainState {
  /** The vif the chain belongs to. */
  readonly vif: string;
  readonly chain: string;
  /** Whether the verdict map sends the vif's frames to it. */
  readonly mapped: boolean;
  /** Its rules as nft prints them (counters included). */
  readonly rules: readonly string[];
  /** Packets dropped, by the rule's comment (mac, arp-ip, ipv4, …). */
  readonly dropped: Readonly<Record<string, number>>;
}

/**
 * xenplan's antispoofing table as it is: every guest chain with its rules and counters.
 * Undefined when the table does not exist. Two nft calls (JSON for the counters, text for the
 * rules as an admin reads them): an admin command, not the vif hot path.
 */
export async function observeAntispoof(runner: Runner): Promise<GuestChainState[] | undefined> {
  const where = ['table', NFT_FAMILY, NFT_TABLE];
  const json = await runner.run(['nft', '-j', 'list', ...where]);
  if (json.exitCode !== 0) {
    if (/No such file or directory|does not exist/i.test(json.stderr)) return undefined;
    throw new XenplanError('environment', `nft -j list ${where.join(' ')} failed: ${json.stderr.trim()}`);
  }
  const text = await runner.run(['nft', 'list', ...where]);
  return parseAntispoof(json.stdout, text.exitCode === 0 ? text.stdout : '');
}

interface NftObject {
  readonly chain?: { readonly name: string };
  readonly map?: { readonly name: string; readonly elem?: readonly unknown[] };
  readonly rule?: { readonly chain: string; readonly comment?: string; readonly expr?: readonly unknown[] };
}

/** Parses `nft -j list table` (counters, map) and `nft list table` (rule text). */
export function parseAntispoof(json: string, text: string): GuestChainState[] {
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
    guests.push({ vif, chain: name, mapped: mapped.has(vif), rules: texts.get(name) ?? [], dropped });
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
