import type { HostState, Link } from '../model/host.ts';
import type { FileReader } from '../model/ports.ts';

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;

/**
 * The links named, read from /sys/class/net without starting a process: the vif hot path.
 * Links that do not exist are left out. Addresses and routes are not read.
 */
export function observeLinks(files: FileReader, names: readonly string[]): HostState {
  const links: Link[] = [];
  for (const name of new Set(names)) {
    const link = readLink(files, name);
    if (link) links.push(link);
  }
  return { links, addresses: [], routes: [], sysctls: {} };
}

/** Names of every bridge on the host. */
export function listBridges(files: FileReader): string[] {
  return (files.list('/sys/class/net') ?? [])
    .filter((name) => files.exists(`/sys/class/net/${name}/bridge`))
    .sort();
}

function readLink(files: FileReader, name: string): Link | undefined {
  const dir = `/sys/class/net/${name}`;
  const ifindex = files.read(`${dir}/ifindex`);
  if (ifindex === undefined) return undefined;
  const flags = Number.parseInt(files.read(`${dir}/flags`)?.trim() ?? '0', 16);
  const operstate = (files.read(`${dir}/operstate`)?.trim() ?? 'unknown').toUpperCase();
  const master = files.readlink(`${dir}/master`)?.split('/').pop();
  const isBridge = files.exists(`${dir}/bridge`);
  const up = (flags & IFF_UP) !== 0;
  return {
    name,
    ifindex: Number(ifindex.trim()),
    kind: isBridge ? 'bridge' : files.exists(`${dir}/bonding`) ? 'bond' : undefined,
    master,
    mtu: Number(files.read(`${dir}/mtu`)?.trim() ?? 0),
    mac: files.read(`${dir}/address`)?.trim(),
    up,
    carrier: up && files.read(`${dir}/carrier`)?.trim() === '1',
    noarp: (flags & IFF_NOARP) !== 0,
    operstate,
    // What tells whose device it is (plan/vif.ts, ownership): cheap reads, no process.
    loopback: (flags & IFF_LOOPBACK) !== 0,
    bondSlave: files.exists(`${dir}/bonding_slave`),
    alias: files.read(`${dir}/ifalias`)?.trim() || undefined,
    parent: files.readlink(`${dir}/device`)?.split('/').pop(),
  };
}
