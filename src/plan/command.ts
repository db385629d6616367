/**
 * The only place `ip` argv is spelled. Planners call these; nothing else builds commands.
 */
export type Argv = readonly string[];

export const ip = {
  linkAdd: (name: string, type: string, options: readonly string[] = []): Argv => [
    'ip',
    'link',
    'add',
    'name',
    name,
    'type',
    type,
    ...options,
  ],
  linkDel: (name: string): Argv => ['ip', 'link', 'del', 'dev', name],
  vlanAdd: (name: string, parent: string, vid: number): Argv => [
    'ip',
    'link',
    'add',
    'link',
    parent,
    'name',
    name,
    'type',
    'vlan',
    'id',
    String(vid),
  ],
  linkType: (name: string, type: string, options: readonly string[]): Argv => [
    'ip',
    'link',
    'set',
    'dev',
    name,
    'type',
    type,
    ...options,
  ],
  linkUp: (name: string): Argv => ['ip', 'link', 'set', 'dev', name, 'up'],
  linkDown: (name: string): Argv => ['ip', 'link', 'set', 'dev', name, 'down'],
  linkMaster: (name: string, master: string): Argv => ['ip', 'link', 'set', 'dev', name, 'master', master],
  linkNoMaster: (name: string): Argv => ['ip', 'link', 'set', 'dev', name, 'nomaster'],
  linkMtu: (name: string, mtu: number): Argv => ['ip', 'link', 'set', 'dev', name, 'mtu', String(mtu)],
  linkMac: (name: string, mac: string): Argv => ['ip', 'link', 'set', 'dev', name, 'address', mac],
  linkRename: (name: string, to: string): Argv => ['ip', 'link', 'set', 'dev', name, 'name', to],
  linkAlias: (name: string, alias: string): Argv => ['ip', 'link', 'set', 'dev', name, 'alias', alias],
  linkArp: (name: string, on: boolean): Argv => ['ip', 'link', 'set', 'dev', name, 'arp', on ? 'on' : 'off'],
  linkNoAddrGen: (name: string): Argv => ['ip', 'link', 'set', 'dev', name, 'addrgenmode', 'none'],
  addrAdd: (dev: string, cidr: string, extra: readonly string[] = []): Argv => [
    'ip',
    'address',
    'add',
    cidr,
    ...extra,
    'dev',
    dev,
  ],
  addrDel: (dev: string, cidr: string): Argv => ['ip', 'address', 'del', cidr, 'dev', dev],
  routeReplace: (spec: readonly string[]): Argv => ['ip', 'route', 'replace', ...spec],
  routeDel: (spec: readonly string[]): Argv => ['ip', 'route', 'del', ...spec],
};

/** One nftables transaction read from stdin: all of it is committed, or none. */
export const NFT_APPLY: Argv = ['nft', '-f', '-'];

export function sysctlSet(key: string, value: string): Argv {
  return ['sysctl', '-q', '-w', `${key}=${value}`];
}

/** Bonding options by sysfs name → the keyword `ip link … type bond` takes, where they differ. */
const BOND_IP_NAMES: Readonly<Record<string, string>> = {
  peer_notif_delay: 'peer_notify_delay',
};

/** `ip link add … type bond` / `ip link set … type bond` words for options given by sysfs name. */
export function bondArgs(options: readonly (readonly [string, string])[]): string[] {
  return options.flatMap(([name, value]) => [BOND_IP_NAMES[name] ?? name, value]);
}

/** The words after `ip route replace|del` for one route: `[type] DST [via GW] dev DEV [table …] [metric …] …`. */
export interface RouteSpec {
  readonly family: 'inet' | 'inet6';
  readonly dst: string;
  readonly dev: string;
  readonly gateway?: string;
  readonly table?: string;
  readonly metric?: number;
  readonly prefsrc?: string;
  readonly protocol?: string;
  readonly scope?: string;
}

export function routeWords(route: RouteSpec): string[] {
  // ip -batch takes no -6 per line: an IPv6 default is spelled ::/0 so the family is implied.
  const dst = route.dst === 'default' && route.family === 'inet6' ? '::/0' : route.dst;
  const words = [dst];
  if (route.gateway !== undefined) words.push('via', route.gateway);
  words.push('dev', route.dev);
  if (route.table !== undefined) words.push('table', route.table);
  if (route.metric !== undefined) words.push('metric', String(route.metric));
  if (route.prefsrc !== undefined) words.push('src', route.prefsrc);
  if (route.protocol !== undefined) words.push('proto', route.protocol);
  if (route.scope !== undefined) words.push('scope', route.scope);
  return words;
}

/**
 * One nft transaction: the commands joined by `;` in one argument, which nft parses and
 * commits as one batch (all or nothing), like `nft -f -` but visible whole in dry-run.
 */
export function nftTransaction(commands: readonly string[]): Argv {
  return ['nft', commands.join(' ; ')];
}
