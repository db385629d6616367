import type { BondState, BridgeState, Link } from '../model/host.ts';
import { asRecord, type Json, num, parseIpJson, str } from './json.ts';

/** `ip -json -details link show` → Links. Pure. */
export function parseLinks(text: string): Link[] {
  const raw = parseIpJson(text, 'ip -json -details link show').map(asRecord);
  const names = new Map<number, string>();
  for (const entry of raw) {
    const index = num(entry.ifindex);
    const name = str(entry.ifname);
    if (index !== undefined && name !== undefined) names.set(index, name);
  }
  return raw.filter((entry) => str(entry.ifname) !== undefined).map((entry) => toLink(entry));
}

function toLink(entry: Json): Link {
  const flags = Array.isArray(entry.flags)
    ? entry.flags.filter((f): f is string => typeof f === 'string')
    : [];
  const info = asRecord(entry.linkinfo);
  const kind = str(info.info_kind);
  const data = asRecord(info.info_data);
  const operstate = str(entry.operstate) ?? 'UNKNOWN';
  const up = flags.includes('UP');
  const link: {
    -readonly [K in keyof Link]: Link[K];
  } = {
    name: str(entry.ifname) ?? '',
    ifindex: num(entry.ifindex) ?? 0,
    kind,
    master: str(entry.master),
    mtu: num(entry.mtu) ?? 0,
    mac: str(entry.address),
    up,
    carrier: up && !flags.includes('NO-CARRIER') && operstate !== 'DOWN' && operstate !== 'LOWERLAYERDOWN',
    noarp: flags.includes('NOARP'),
    operstate,
  };
  // ip names a veth's peer in `link` when the peer is in the same namespace.
  const peer = str(entry.link);
  if (kind === 'veth' && peer) link.peer = peer;
  if (kind === 'bridge') link.bridge = toBridge(data);
  if (kind === 'bond') link.bond = toBond(data);
  // ip names a VLAN device's real device in `link` too (without `@` when in this namespace).
  const vid = num(data.id);
  if (kind === 'vlan' && peer && vid !== undefined) link.vlan = { id: vid, parent: peer };
  return link;
}

function toBridge(data: Json): BridgeState {
  const state: { -readonly [K in keyof BridgeState]: BridgeState[K] } = {
    stp: (num(data.stp_state) ?? 0) !== 0,
    forwardDelay: num(data.forward_delay) ?? 0,
    helloTime: num(data.hello_time) ?? 0,
    maxAge: num(data.max_age) ?? 0,
  };
  const nf = num(data.nf_call_iptables);
  if (nf !== undefined) state.nfCallIptables = nf;
  const filtering = num(data.vlan_filtering);
  if (filtering !== undefined) state.vlanFiltering = filtering === 1;
  return state;
}

/** Every scalar ip reports for a bond, as text; arrays (arp_ip_target) joined with commas. */
function toBond(data: Json): BondState {
  const options: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'string' || typeof value === 'number') options[key] = String(value);
    else if (typeof value === 'boolean') options[key] = value ? '1' : '0';
    else if (Array.isArray(value)) options[key] = value.map(String).join(',');
  }
  return {
    mode: str(data.mode) ?? 'balance-rr',
    miimon: num(data.miimon) ?? 0,
    options,
    activeSlave: str(data.active_slave),
  };
}
