import type { Address, Family } from '../model/host.ts';
import { asRecord, num, parseIpJson, str } from './json.ts';

/** `ip -json address show` → Addresses. Pure. */
export function parseAddresses(text: string): Address[] {
  const out: Address[] = [];
  for (const link of parseIpJson(text, 'ip -json address show').map(asRecord)) {
    const dev = str(link.ifname);
    if (!dev || !Array.isArray(link.addr_info)) continue;
    for (const info of link.addr_info.map(asRecord)) {
      const family = str(info.family);
      const local = str(info.local);
      if ((family !== 'inet' && family !== 'inet6') || !local) continue;
      const address: { -readonly [K in keyof Address]: Address[K] } = {
        dev,
        family: family as Family,
        local,
        prefixlen: num(info.prefixlen) ?? (family === 'inet' ? 32 : 128),
        scope: str(info.scope) ?? 'global',
      };
      const broadcast = str(info.broadcast);
      if (broadcast) address.broadcast = broadcast;
      const peer = str(info.address);
      if (peer && peer !== local) address.peer = peer;
      // 4294967295 is the kernel's "forever".
      const valid = num(info.valid_life_time);
      if (valid !== undefined && valid < 4294967295) {
        address.validLft = valid;
        address.preferredLft = Math.min(valid, num(info.preferred_life_time) ?? valid);
      }
      if (info.dadfailed === true) address.dadFailed = true;
      out.push(address);
    }
  }
  return out;
}
