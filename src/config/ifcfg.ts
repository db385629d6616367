/**
 * Red Hat `ifcfg-*` files (initscripts) → network-script settings. Pure: the caller reads every
 * `ifcfg-*` file of the directory and passes name → contents. The result is the same
 * `key=value` settings the command line takes (checked there), plus facts that are declared but
 * not applied (MACs, ONBOOT).
 */
import { checkInterfaceName, checkMac, show } from '../model/names.ts';
import type { DeclaredFacts } from './declared.ts';
import type { RawSetting } from './file.ts';

export interface IfcfgVar {
  readonly value: string;
  readonly line: number;
}

export interface IfcfgDevice {
  /** File name as given, for messages. */
  readonly file: string;
  readonly name: string;
  readonly vars: ReadonlyMap<string, IfcfgVar>;
}

export interface IfcfgResult {
  readonly settings: RawSetting[];
  readonly declared: DeclaredFacts;
  readonly problems: string[];
}

/** Backup and package-manager leftovers initscripts skips. */
const IGNORED = /(~|\.bak|\.old|\.orig|\.rpmnew|\.rpmorig|\.rpmsave)$/;

/**
 * Parses one file's shell-style assignments: `NAME=value`, `NAME='…'`, `NAME="…"`, backslash
 * escapes, comments. Anything that needs a shell (expansions, `;`, `$(…)`) is a problem: the
 * file is read, never run.
 */
export function parseIfcfgText(
  file: string,
  text: string,
): { vars: Map<string, IfcfgVar>; problems: string[] } {
  const vars = new Map<string, IfcfgVar>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(trimmed);
    if (m === null) {
      problems.push(`${file}:${line}: ${show(trimmed)} is not a NAME=value assignment`);
      return;
    }
    const value = readShellWord(trimmed.slice(m[0].length));
    if (typeof value !== 'string') {
      problems.push(`${file}:${line}: ${show(trimmed)}: ${value.problem}`);
      return;
    }
    vars.set(m[1] ?? '', { value, line });
  });
  return { vars, problems };
}

/** Reads one shell word (the value), then allows only whitespace and a comment after it. */
function readShellWord(text: string): string | { problem: string } {
  let out = '';
  let i = 0;
  const refuse = (c: string) => ({ problem: `${show(c)} needs a shell; expected a plain or quoted value` });
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) break;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { problem: 'unterminated single quote' };
      out += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return { problem: 'unterminated double quote' };
        const d = text[i] ?? '';
        if (d === '"') break;
        if (d === '$' || d === '`') return refuse(d);
        if (d === '\\' && /[$`"\\]/.test(text[i + 1] ?? '')) {
          out += text[i + 1];
          i += 2;
        } else {
          out += d;
          i++;
        }
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= text.length) return { problem: 'backslash at end of line' };
      out += text[i + 1];
      i += 2;
    } else if (/[$`;&|<>()]/.test(c)) {
      return refuse(c);
    } else {
      out += c;
      i++;
    }
  }
  const rest = text.slice(i).trim();
  if (rest !== '' && !rest.startsWith('#'))
    return { problem: `unexpected ${show(rest)} after the value; quote values with spaces` };
  return out;
}

function natural(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

const yes = (v: string | undefined) => v !== undefined && /^(yes|y|true|1|on)$/i.test(v);

/** Reads an ifcfg directory; `bridge` picks the bridge when the files hold several. */
export function parseIfcfgFiles(files: Readonly<Record<string, string>>, bridge?: string): IfcfgResult {
  const problems: string[] = [];
  const settings: RawSetting[] = [];
  const devices = new Map<string, IfcfgDevice>();

  for (const file of Object.keys(files).sort(natural)) {
    const base = file.slice(file.lastIndexOf('/') + 1);
    if (!base.startsWith('ifcfg-') || IGNORED.test(base)) continue;
    const parsed = parseIfcfgText(file, files[file] ?? '');
    problems.push(...parsed.problems);
    const name = parsed.vars.get('DEVICE')?.value ?? base.slice('ifcfg-'.length);
    if (name === 'lo') continue;
    const bad = checkInterfaceName(name, 'DEVICE');
    if (bad !== undefined) {
      problems.push(`${file}: ${bad}`);
      continue;
    }
    const other = devices.get(name);
    if (other !== undefined) {
      problems.push(`${file}: DEVICE=${name} is also described by ${other.file}`);
      continue;
    }
    devices.set(name, { file, name, vars: parsed.vars });
  }

  const at = (d: IfcfgDevice, key: string) => `${d.file}:${d.vars.get(key)?.line ?? 1}`;
  const get = (d: IfcfgDevice | undefined, key: string) => d?.vars.get(key)?.value;
  const emit = (key: string, value: string, where: string) => settings.push({ key, value, where });
  const all = [...devices.values()];

  // Bonds: devices others name as MASTER with SLAVE=yes, or that say they are bonds.
  const slavesOf = new Map<string, IfcfgDevice[]>();
  for (const d of all) {
    const master = get(d, 'MASTER');
    if (master !== undefined && yes(get(d, 'SLAVE')))
      slavesOf.set(master, [...(slavesOf.get(master) ?? []), d]);
  }
  const bondNames = new Set(slavesOf.keys());
  for (const d of all)
    if (
      /^bond$/i.test(get(d, 'TYPE') ?? '') ||
      get(d, 'BONDING_OPTS') !== undefined ||
      yes(get(d, 'BONDING_MASTER'))
    )
      bondNames.add(d.name);

  // The bridge and its ports.
  const bridges = all.filter((d) => /^bridge$/i.test(get(d, 'TYPE') ?? ''));
  let br: IfcfgDevice | undefined;
  if (bridge !== undefined) br = bridges.find((d) => d.name === bridge);
  else if (bridges.length === 1) br = bridges[0];
  else if (bridges.length > 1)
    problems.push(
      `ifcfg: several bridges (${bridges.map((d) => d.name).join(', ')}); give bridge=NAME to pick one`,
    );

  let uplink: string | undefined;
  let netloop: { veth: string; vif: string; where: string } | undefined;
  if (br !== undefined) {
    const bridgeDev = br;
    const ports = all.filter((d) => get(d, 'BRIDGE') === bridgeDev.name);
    const vifs = ports.filter((d) => /^vif0\.[0-9]+$/.test(d.name));
    const nics = ports.filter((d) => !vifs.includes(d));
    if (vifs.length > 1)
      problems.push(
        `ifcfg: several dom0 vifs in ${br.name} (${vifs.map((d) => d.name).join(', ')}); expected one`,
      );
    const vif = vifs[0];
    if (vif !== undefined)
      netloop = { veth: `veth${vif.name.slice(5)}`, vif: vif.name, where: at(vif, 'BRIDGE') };
    if (nics.length > 1)
      problems.push(
        `ifcfg: several uplinks in ${br.name} (${nics.map((d) => d.name).join(', ')}); xenplan puts one NIC or bond in the bridge`,
      );
    const nic = nics[0];
    if (nic !== undefined) {
      uplink = nic.name;
      if (!bondNames.has(nic.name)) emit('netdev', nic.name, at(nic, 'BRIDGE'));
    }
    emit('bridge', br.name, at(br, 'DEVICE'));
    const stp = get(br, 'STP');
    if (stp !== undefined) emit('stp', stp.toLowerCase(), at(br, 'STP'));
    const delay = get(br, 'DELAY');
    const fd = get(br, 'FD');
    if (delay !== undefined && fd !== undefined && delay !== fd)
      problems.push(`${br.file}: DELAY=${showPlain(delay)} and FD=${showPlain(fd)} disagree; keep one`);
    if (delay !== undefined) emit('forward-delay', delay, at(br, 'DELAY'));
    else if (fd !== undefined) emit('forward-delay', fd, at(br, 'FD'));
    for (const [from, to] of [
      ['HELLO', 'hello-time'],
      ['MAXAGE', 'max-age'],
      ['MTU', 'mtu'],
    ] as const) {
      const v = get(br, from);
      if (v !== undefined) emit(to, v, at(br, from));
    }
  } else if (bondNames.size === 1) {
    uplink = [...bondNames][0];
  } else if (bondNames.size === 0) {
    // No bridge yet: the uplink is the one NIC that carries dom0's addresses.
    const carriers = all.filter((d) => get(d, 'IPADDR') !== undefined && get(d, 'MASTER') === undefined);
    const only = carriers.length === 1 ? carriers[0] : undefined;
    if (only !== undefined) {
      uplink = only.name;
      emit('netdev', only.name, at(only, 'IPADDR'));
    }
  } else {
    problems.push(
      `ifcfg: several bonds (${[...bondNames].join(', ')}) and no bridge to tell which is the uplink`,
    );
  }

  // The bond in the bridge (or the only bond).
  if (uplink !== undefined && bondNames.has(uplink)) {
    const bondDev = devices.get(uplink);
    const slaves = (slavesOf.get(uplink) ?? []).sort((a, b) => natural(a.name, b.name));
    emit('bond', uplink, bondDev === undefined ? (slaves[0]?.file ?? 'ifcfg') : at(bondDev, 'DEVICE'));
    if (slaves.length > 0)
      emit('slaves', slaves.map((d) => d.name).join(','), slaves.map((d) => at(d, 'MASTER')).join(', '));
    const opts = get(bondDev, 'BONDING_OPTS');
    if (bondDev !== undefined && opts !== undefined) {
      const where = at(bondDev, 'BONDING_OPTS');
      for (const word of opts.split(/\s+/).filter((w) => w !== '')) {
        const eq = word.indexOf('=');
        if (eq <= 0) {
          problems.push(`${where}: BONDING_OPTS item ${show(word)} is not option=value`);
          continue;
        }
        const key = word.slice(0, eq);
        let value = word.slice(eq + 1);
        if (key === 'arp_ip_target') value = value.replace(/(^|,)\+/g, '$1');
        emit(key === 'mode' ? 'bond-mode' : key === 'miimon' ? 'miimon' : `bond.${key}`, value, where);
      }
    }
  }

  // netloop: vif0.N in the bridge, dom0's addresses on vethN.
  const veth = netloop === undefined ? undefined : devices.get(netloop.veth);
  if (netloop !== undefined) {
    emit('dom0-port', `${netloop.veth}:${netloop.vif}`, netloop.where);
    const mac = get(veth, 'MACADDR') ?? get(veth, 'HWADDR');
    if (veth !== undefined && mac !== undefined)
      emit('dom0-mac', mac, at(veth, get(veth, 'MACADDR') !== undefined ? 'MACADDR' : 'HWADDR'));
  }

  // dom0's addresses and gateway: on the veth, else the bridge, else the uplink.
  const candidates = [veth, br, uplink === undefined ? undefined : devices.get(uplink)];
  const carrier = candidates.find((d) => d !== undefined && hasAddress(d));
  if (carrier !== undefined) {
    for (const [address, where] of readAddresses(carrier, problems)) emit('address', address, where);
  }
  const gwDev =
    carrier !== undefined && get(carrier, 'GATEWAY') !== undefined
      ? carrier
      : all.filter((d) => get(d, 'GATEWAY') !== undefined).length === 1
        ? all.find((d) => get(d, 'GATEWAY') !== undefined)
        : undefined;
  const gateway = get(gwDev, 'GATEWAY');
  if (gwDev !== undefined && gateway !== undefined) emit('gateway', gateway, at(gwDev, 'GATEWAY'));

  // Declared, not applied.
  const noarp = all.filter((d) => /^(no|off|false|0)$/i.test(get(d, 'ARP') ?? ''));
  if (noarp.length > 0)
    emit('noarp', noarp.map((d) => d.name).join(','), noarp.map((d) => at(d, 'ARP')).join(', '));
  const macs: Record<string, string> = {};
  const onboot: Record<string, boolean> = {};
  for (const d of all) {
    const key = get(d, 'MACADDR') !== undefined ? 'MACADDR' : 'HWADDR';
    const mac = get(d, key);
    if (mac !== undefined && d !== veth) {
      const bad = checkMac(mac, key);
      if (bad === undefined) macs[d.name] = mac.toLowerCase();
      else problems.push(`${at(d, key)}: ${bad}`);
    }
    const on = get(d, 'ONBOOT');
    if (on !== undefined) {
      if (/^(yes|no)$/i.test(on)) onboot[d.name] = on.toLowerCase() === 'yes';
      else problems.push(`${at(d, 'ONBOOT')}: ONBOOT=${showPlain(on)}: expected yes or no`);
    }
  }
  const declared: DeclaredFacts = {
    ...(Object.keys(macs).length === 0 ? {} : { macs }),
    ...(Object.keys(onboot).length === 0 ? {} : { onboot }),
  };
  return { settings, declared, problems };
}

function hasAddress(d: IfcfgDevice): boolean {
  return [...d.vars.keys()].some((k) => /^(IPADDR[0-9]*|IPV6ADDR)$/.test(k));
}

/** IPADDR, IPADDR0…n with PREFIX/NETMASK of the same suffix; IPV6ADDR and its secondaries. */
function readAddresses(d: IfcfgDevice, problems: string[]): [string, string][] {
  const out: [string, string][] = [];
  const suffixes = [...d.vars.keys()]
    .map((k) => /^IPADDR([0-9]*)$/.exec(k)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort(natural);
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

function showPlain(value: string): string {
  return /^[\x21-\x7e]+$/.test(value) && !/["\\]/.test(value) ? value : show(value);
}
