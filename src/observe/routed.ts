import { XenplanError } from '../model/error.ts';
import type { HostState } from '../model/host.ts';
import type { FileReader, Runner } from '../model/ports.ts';
import { NAT_CHAIN, NAT_SET, NAT_TABLE, type NatState } from '../model/vif-mode.ts';
import { parseAddresses } from './address.ts';
import { splitDocuments } from './host.ts';
import { asRecord, str } from './json.ts';
import { parseRoutes } from './route.ts';
import { observeLinks } from './sysfs.ts';

/**
 * What a routed or NAT vif event needs: the named links (from /sys), every address and
 * route (one `ip -json -batch` process), and the /proc/sys settings named in slash form
 * (`net/ipv4/conf/vif5.0/proxy_arp`: a vif name has dots).
 */
export async function observeRouted(
  runner: Runner,
  files: FileReader,
  names: readonly string[],
  sysctlKeys: readonly string[],
): Promise<HostState> {
  const batch = await runner.run(['ip', '-json', '-batch', '-'], 'address show\nroute show table all\n');
  if (batch.exitCode !== 0)
    throw new XenplanError(
      'environment',
      `ip could not list the host's addresses and routes: ${batch.stderr.trim() || `exit ${batch.exitCode}`}`,
    );
  const [addressText = '', routeText = ''] = splitDocuments(batch.stdout);
  const sysctls: Record<string, string> = {};
  for (const key of sysctlKeys) {
    const value = files.read(`/proc/sys/${key}`);
    if (value !== undefined) sysctls[key] = value.trim();
  }
  return {
    links: observeLinks(files, names).links,
    addresses: parseAddresses(addressText),
    routes: parseRoutes(routeText),
    sysctls,
  };
}

/** xenplan's NAT table, from `nft -j list table`; a missing table is an empty state. */
export async function observeNat(runner: Runner): Promise<NatState> {
  const result = await runner.run(['nft', '-j', 'list', 'table', 'ip', NAT_TABLE]);
  if (result.exitCode !== 0) {
    if (/No such file or directory|does not exist/i.test(result.stderr))
      return { table: false, guests: [], rules: 0 };
    throw new XenplanError(
      'environment',
      `nft could not list table ip ${NAT_TABLE}: ${result.stderr.trim() || `exit ${result.exitCode}`}`,
    );
  }
  return parseNat(result.stdout);
}

/** `nft -j list table ip xenplan_nat` → the guests in its set and the rules of its chain. Pure. */
export function parseNat(text: string): NatState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new XenplanError('environment', `cannot parse nft's JSON for table ip ${NAT_TABLE}`, { cause });
  }
  const entries = asRecord(doc).nftables;
  const guests: string[] = [];
  let rules = 0;
  for (const entry of Array.isArray(entries) ? entries.map(asRecord) : []) {
    const set = asRecord(entry.set);
    if (str(set.name) === NAT_SET && Array.isArray(set.elem))
      for (const element of set.elem) if (typeof element === 'string') guests.push(element);
    if (str(asRecord(entry.rule).chain) === NAT_CHAIN) rules += 1;
  }
  return { table: true, guests, rules };
}
