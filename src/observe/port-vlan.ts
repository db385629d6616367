import { XenplanError } from '../model/error.ts';
import type { FileReader, Runner } from '../model/ports.ts';
import type { PortVlan, PortVlanState } from '../model/vlan.ts';
import { asRecord, num, parseIpJson } from './json.ts';

/**
 * A bridge port's VLANs: the bridge's filtering and default PVID from /sys, the port's VLANs
 * from `bridge -j vlan show dev PORT` (one process, only when it is a port and filtering is on).
 */
export async function observePortVlans(
  runner: Runner,
  files: FileReader,
  bridge: string,
  port: string,
  isPort: boolean,
): Promise<PortVlanState> {
  const dir = `/sys/class/net/${bridge}/bridge`;
  const filtering = files.read(`${dir}/vlan_filtering`)?.trim() === '1';
  const defaultPvid = Number(files.read(`${dir}/default_pvid`)?.trim() ?? '1');
  if (!filtering) return { filtering, defaultPvid };
  // Every port's VLANs in one process: the guest's, and its bridge's uplinks (for the warning).
  const result = await runner.run(['bridge', '-j', 'vlan', 'show']);
  if (result.exitCode !== 0)
    throw new XenplanError(
      'environment',
      `bridge could not list the ports' VLANs: ${result.stderr.trim() || `exit ${result.exitCode}`}`,
    );
  const byPort = parseVlansByPort(result.stdout);
  const uplinks: Record<string, number[]> = {};
  for (const name of files.list(`/sys/class/net/${bridge}/brif`) ?? []) {
    if (name === port || GUEST.test(name)) continue;
    uplinks[name] = (byPort.get(name) ?? []).map((v) => v.vid);
  }
  return { filtering, defaultPvid, uplinks, ...(isPort ? { have: byPort.get(port) ?? [] } : {}) };
}

/** Names the kernel or qemu give guests' devices: not uplinks. */
const GUEST = /^(?:vif[0-9]+\.[0-9]+(?:-emu)?|tap[0-9]+\.[0-9]+)$/;

/** `bridge -j vlan show` → each port's VLANs. Pure. */
export function parseVlansByPort(text: string): Map<string, PortVlan[]> {
  const out = new Map<string, PortVlan[]>();
  for (const entry of parseIpJson(text, 'bridge -j vlan show').map(asRecord)) {
    const name = typeof entry.ifname === 'string' ? entry.ifname : undefined;
    if (name === undefined) continue;
    out.set(name, [...(out.get(name) ?? []), ...parsePortVlans(JSON.stringify([entry]))]);
  }
  return out;
}

/** `bridge -j vlan show dev PORT` → its VLANs (ranges expanded). Pure. */
export function parsePortVlans(text: string): PortVlan[] {
  const out: PortVlan[] = [];
  for (const entry of parseIpJson(text, 'bridge -j vlan show').map(asRecord)) {
    if (!Array.isArray(entry.vlans)) continue;
    for (const raw of entry.vlans.map(asRecord)) {
      const first = num(raw.vlan);
      if (first === undefined) continue;
      const last = num(raw.vlanEnd) ?? first;
      const flags = Array.isArray(raw.flags) ? raw.flags : [];
      const pvid = flags.includes('PVID');
      const untagged = flags.includes('Egress Untagged');
      for (let vid = first; vid <= last; vid += 1) out.push({ vid, pvid, untagged });
    }
  }
  return out;
}
