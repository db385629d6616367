/** dom0's addresses as one `ifcfg-*` file declares them (IPADDR…, PREFIX/NETMASK, IPV6ADDR…). */
import { compareNatural, type IfcfgDevice, showPlain } from './ifcfg-file.ts';

/** Whether the file declares an IPv4 or IPv6 address. */
export function hasIfcfgAddress(d: IfcfgDevice): boolean {
  return [...d.vars.keys()].some((k) => /^(IPADDR[0-9]*|IPV6ADDR)$/.test(k));
}

/** IPADDR, IPADDR0…n with PREFIX/NETMASK of the same suffix; IPV6ADDR and its secondaries. */
export function readIfcfgAddresses(d: IfcfgDevice, problems: string[]): [string, string][] {
  const out: [string, string][] = [];
  const suffixes = [...d.vars.keys()]
    .map((k) => /^IPADDR([0-9]*)$/.exec(k)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort(compareNatural);
  for (const n of suffixes) {
    const ip = d.vars.get(`IPADDR${n}`);
    if (ip === undefined) continue;
    const where = `${d.file}:${ip.line}`;
    const prefix = d.vars.get(`PREFIX${n}`)?.value;
    const netmask = d.vars.get(`NETMASK${n}`)?.value;
    if (prefix !== undefined) {
      out.push([`${ip.value}/${prefix}`, where]);
    } else if (netmask !== undefined) {
      const bits = netmaskBits(netmask);
      if (bits === undefined)
        problems.push(
          `${where}: NETMASK${n}=${showPlain(netmask)}: expected a contiguous mask like 255.255.255.0`,
        );
      else out.push([`${ip.value}/${bits}`, where]);
    } else {
      problems.push(`${where}: IPADDR${n}=${showPlain(ip.value)} has no PREFIX${n} or NETMASK${n}`);
    }
  }
  const v6 = d.vars.get('IPV6ADDR');
  const more = d.vars.get('IPV6ADDR_SECONDARIES');
  const v6s: [string, number][] = [
    ...(v6 === undefined ? [] : [[v6.value, v6.line] as [string, number]]),
    ...(more === undefined ? [] : more.value.split(/\s+/).map((x): [string, number] => [x, more.line])),
  ];
  // initscripts give an IPv6 address without a prefix /64.
  for (const [v, line] of v6s) if (v !== '') out.push([v.includes('/') ? v : `${v}/64`, `${d.file}:${line}`]);
  return out;
}

function netmaskBits(mask: string): number | undefined {
  const parts = mask.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  const bits = parts.map((p) => Number(p).toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') < 0 ? 32 : bits.indexOf('0')) : undefined;
}
