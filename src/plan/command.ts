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
  linkArp: (name: string, on: boolean): Argv => ['ip', 'link', 'set', 'dev', name, 'arp', on ? 'on' : 'off'],
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

export function sysctlSet(key: string, value: string): Argv {
  return ['sysctl', '-q', '-w', `${key}=${value}`];
}
