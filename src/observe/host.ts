import { XenplanError } from '../model/error.ts';
import type { BondingSupport, HostState, Link } from '../model/host.ts';
import type { FileReader, Runner } from '../model/ports.ts';
import { parseAddresses } from './address.ts';
import { parseLinks } from './link.ts';
import { parseRoutes } from './route.ts';

/** Bridge-netfilter sysctls read for planners and doctor. */
export const BRIDGE_NF_SYSCTLS = [
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
  'net.bridge.bridge-nf-call-arptables',
] as const;

/**
 * Reads the whole host: links, addresses and routes of both families (`table all`) in one
 * `ip -batch` process, the rest from /sys and /proc/sys.
 */
export async function observeHost(runner: Runner, files: FileReader): Promise<HostState> {
  const batch = await runner.run(
    ['ip', '-json', '-details', '-batch', '-'],
    'link show\naddress show\nroute show table all\n',
  );
  if (batch.exitCode !== 0)
    throw new XenplanError(
      'environment',
      `ip could not list the host's links: ${batch.stderr.trim() || `exit ${batch.exitCode}`}`,
    );
  const [linkText = '', addressText = '', routeText = ''] = splitDocuments(batch.stdout);
  const links = parseLinks(linkText).map((link) => withSysfs(link, files));
  return {
    links,
    addresses: parseAddresses(addressText),
    routes: parseRoutes(routeText),
    sysctls: readSysctls(files, BRIDGE_NF_SYSCTLS),
    bonding: observeBonding(files),
  };
}

/**
 * Whether a bond can be made: the driver is loaded (bonding_masters), or the running kernel's
 * modules.dep lists it (ip link add type bond loads it). Reads modules.dep only when the driver
 * is not loaded.
 */
export function observeBonding(files: FileReader): BondingSupport {
  if (files.exists('/sys/class/net/bonding_masters')) return { state: 'loaded' };
  const kernel = files.read('/proc/sys/kernel/osrelease')?.trim() ?? 'unknown';
  const dir = `/lib/modules/${kernel}`;
  const dep = files.read(`${dir}/modules.dep`);
  const module = /^(\S*\/bonding\.ko(?:\.[a-z]+)?):/m.exec(dep ?? '')?.[1];
  if (module !== undefined) return { state: 'loadable', module: `${dir}/${module}` };
  return {
    state: 'absent',
    kernel,
    looked:
      dep === undefined
        ? `/sys/class/net/bonding_masters and ${dir}/modules.dep are missing`
        : `/sys/class/net/bonding_masters is missing and ${dir}/modules.dep has no bonding module`,
  };
}

/** `ip -json -batch` prints one JSON document per command, one per line. */
export function splitDocuments(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.trim() !== '');
}

function withSysfs(link: Link, files: FileReader): Link {
  const assign = files.read(`/sys/class/net/${link.name}/addr_assign_type`);
  return assign === undefined ? link : { ...link, macPinned: assign.trim() === '3' };
}

export function readSysctls(files: FileReader, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = files.read(`/proc/sys/${key.replaceAll('.', '/')}`);
    if (value !== undefined) out[key] = value.trim();
  }
  return out;
}
