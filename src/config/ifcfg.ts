/**
 * Red Hat `ifcfg-*` files (initscripts) → network-script settings. Pure: the caller reads every
 * `ifcfg-*` file of the directory and passes name → contents. The result is the same
 * `key=value` settings the command line takes (checked there), plus facts that are declared but
 * not applied (MACs, ONBOOT).
 */
import { checkInterfaceName, checkMac, show } from '../model/names.ts';
import type { DeclaredFacts } from './declared.ts';
import type { RawSetting } from './file.ts';
import { hasIfcfgAddress, readIfcfgAddresses } from './ifcfg-address.ts';
import { compareNatural, type IfcfgDevice, parseIfcfgText, showPlain } from './ifcfg-file.ts';

export interface IfcfgResult {
  readonly settings: RawSetting[];
  readonly declared: DeclaredFacts;
  readonly problems: string[];
}

/** Backup and package-manager leftovers initscripts skips. */
const IGNORED = /(~|\.bak|\.old|\.orig|\.rpmnew|\.rpmorig|\.rpmsave)$/;

const yes = (v: string | undefined) => v !== undefined && /^(yes|y|true|1|on)$/i.test(v);

/** Reads an ifcfg directory; `bridge` picks the bridge when the files hold several. */
export function parseIfcfgFiles(files: Readonly<Record<string, string>>, bridge?: string): IfcfgResult {
  const problems: string[] = [];
  const settings: RawSetting[] = [];
  const devices = new Map<string, IfcfgDevice>();

  for (const file of Object.keys(files).sort(compareNatural)) {
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
    const slaves = (slavesOf.get(uplink) ?? []).sort((a, b) => compareNatural(a.name, b.name));
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
  const carrier = candidates.find((d) => d !== undefined && hasIfcfgAddress(d));
  if (carrier !== undefined) {
    for (const [address, where] of readIfcfgAddresses(carrier, problems)) emit('address', address, where);
  }
  // A DHCP-configured device of dom0's: network-script runs no DHCP client and never turns a
  // lease into a static address, so it says so instead of ignoring BOOTPROTO.
  for (const d of candidates)
    if (d !== undefined && /^(dhcp|bootp)$/i.test(get(d, 'BOOTPROTO') ?? ''))
      problems.push(
        `${at(d, 'BOOTPROTO')}: BOOTPROTO=${showPlain(get(d, 'BOOTPROTO') ?? '')}: dom0's address on ${d.name} comes from DHCP, which network-script does not run; give it IPADDR= and PREFIX= (static), or leave the bridge to your network manager's DHCP client`,
      );
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
