/**
 * Red Hat `ifcfg-*` files (initscripts) → network-script settings. Pure: the caller reads every
 * `ifcfg-*` file of the directory and passes name → contents. The result is the same
 * `key=value` settings the command line takes (checked there), plus facts that are declared but
 * not applied (MACs, ONBOOT).
 */
import type { IgnoredSetting } from '../model/doctor.ts';
import { checkInterfaceName, checkMac, show } from '../model/names.ts';
import type { DeclaredFacts } from './declared.ts';
import type { RawSetting } from './file.ts';
import { hasIfcfgAddress, readIfcfgAddresses } from './ifcfg-address.ts';
import { readBridgingOpts } from './ifcfg-bridge.ts';
import { compareNatural, type IfcfgDevice, parseIfcfgText, showPlain } from './ifcfg-file.ts';
import { unusedKeys } from './ifcfg-unused.ts';

export interface IfcfgResult {
  readonly settings: RawSetting[];
  readonly declared: DeclaredFacts;
  readonly problems: string[];
  /** Every line read but not used, with why (doctor reports them as IFCFG001). */
  readonly ignored: IgnoredSetting[];
}

/** Backup and package-manager leftovers initscripts skips. */
const IGNORED = /(~|\.bak|\.old|\.orig|\.rpmnew|\.rpmorig|\.rpmsave)$/;

const yes = (v: string | undefined) => v !== undefined && /^(yes|y|true|1|on)$/i.test(v);

/** Reads an ifcfg directory; `bridge` picks the bridge when the files hold several. */
export function parseIfcfgFiles(files: Readonly<Record<string, string>>, bridge?: string): IfcfgResult {
  const problems: string[] = [];
  const ignored: IgnoredSetting[] = [];
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
  // Every key a setting comes from is marked used; the rest are reported as ignored, with why.
  const used = new Map<string, Set<string>>();
  const use = (d: IfcfgDevice | undefined, key: string) => {
    if (d?.vars.has(key)) used.set(d.name, (used.get(d.name) ?? new Set()).add(key));
  };
  /** Reads a key that decides what xenplan builds (and so counts as used). */
  const get = (d: IfcfgDevice | undefined, key: string) => {
    use(d, key);
    return d?.vars.get(key)?.value;
  };
  /** Looks at a key to find the devices' roles, without using it. */
  const peek = (d: IfcfgDevice | undefined, key: string) => d?.vars.get(key)?.value;
  const emit = (key: string, value: string, where: string) => settings.push({ key, value, where });
  const all = [...devices.values()];

  // Bonds: devices others name as MASTER with SLAVE=yes, or that say they are bonds.
  const slavesOf = new Map<string, IfcfgDevice[]>();
  for (const d of all) {
    const master = peek(d, 'MASTER');
    if (master !== undefined && yes(peek(d, 'SLAVE')))
      slavesOf.set(master, [...(slavesOf.get(master) ?? []), d]);
  }
  const bondNames = new Set(slavesOf.keys());
  for (const d of all)
    if (
      /^bond$/i.test(peek(d, 'TYPE') ?? '') ||
      peek(d, 'BONDING_OPTS') !== undefined ||
      yes(peek(d, 'BONDING_MASTER'))
    )
      bondNames.add(d.name);

  // The bridge and its ports.
  const bridges = all.filter((d) => /^bridge$/i.test(peek(d, 'TYPE') ?? ''));
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
    use(br, 'TYPE');
    const ports = all.filter((d) => peek(d, 'BRIDGE') === bridgeDev.name);
    const vifs = ports.filter((d) => /^vif0\.[0-9]+$/.test(d.name));
    const nics = ports.filter((d) => !vifs.includes(d));
    if (vifs.length > 1)
      problems.push(
        `ifcfg: several dom0 vifs in ${br.name} (${vifs.map((d) => d.name).join(', ')}); expected one`,
      );
    const vif = vifs[0];
    if (vif !== undefined) {
      use(vif, 'BRIDGE');
      netloop = { veth: `veth${vif.name.slice(5)}`, vif: vif.name, where: at(vif, 'BRIDGE') };
    }
    if (nics.length > 1)
      problems.push(
        `ifcfg: several uplinks in ${br.name} (${nics.map((d) => d.name).join(', ')}); xenplan puts one NIC or bond in the bridge`,
      );
    const nic = nics[0];
    if (nic !== undefined) {
      use(nic, 'BRIDGE');
      uplink = nic.name;
      if (!bondNames.has(nic.name)) emit('netdev', nic.name, at(nic, 'BRIDGE'));
    }
    emit('bridge', br.name, at(br, 'DEVICE'));
    // What initscripts' ifup-eth applies to a bridge: STP=, DELAY=, then BRIDGING_OPTS
    // (FD=, HELLO= and MAXAGE= it never read: they are reported as ignored).
    const opts = readBridgingOpts(br, get(br, 'BRIDGING_OPTS'), problems);
    ignored.push(...opts.ignored);
    const stp = get(br, 'STP');
    const delay = get(br, 'DELAY');
    const both = (key: string, a: string | undefined, b: string | undefined, said: string) => {
      if (a !== undefined && b !== undefined && a !== b)
        problems.push(`${at(br, 'BRIDGING_OPTS')}: ${said} disagrees with ${key}=${showPlain(a)}; keep one`);
    };
    both(
      'STP',
      stp
        ?.toLowerCase()
        .replace(/^(yes|1)$/, 'on')
        .replace(/^(no|0)$/, 'off'),
      opts.stp,
      `stp_state`,
    );
    both('DELAY', delay, opts.forwardDelay, 'forward_delay');
    if (stp !== undefined) emit('stp', stp.toLowerCase(), at(br, 'STP'));
    else if (opts.stp !== undefined) emit('stp', opts.stp, opts.where('stp_state'));
    if (delay !== undefined) emit('forward-delay', delay, at(br, 'DELAY'));
    else if (opts.forwardDelay !== undefined)
      emit('forward-delay', opts.forwardDelay, opts.where('forward_delay'));
    if (opts.helloTime !== undefined) emit('hello-time', opts.helloTime, opts.where('hello_time'));
    if (opts.maxAge !== undefined) emit('max-age', opts.maxAge, opts.where('max_age'));
    const mtu = get(br, 'MTU');
    if (mtu !== undefined) emit('mtu', mtu, at(br, 'MTU'));
  } else if (bondNames.size === 1) {
    uplink = [...bondNames][0];
  } else if (bondNames.size === 0) {
    // No bridge yet: the uplink is the one NIC that carries dom0's addresses.
    const carriers = all.filter((d) => peek(d, 'IPADDR') !== undefined && peek(d, 'MASTER') === undefined);
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
    for (const slave of slaves) for (const key of ['MASTER', 'SLAVE']) use(slave, key);
    for (const key of ['TYPE', 'BONDING_MASTER']) use(bondDev, key);
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
    const macKey = peek(veth, 'MACADDR') !== undefined ? 'MACADDR' : 'HWADDR';
    const mac = get(veth, macKey);
    if (veth !== undefined && mac !== undefined) emit('dom0-mac', mac, at(veth, macKey));
  }

  // dom0's addresses and gateway: on the veth, else the bridge, else the uplink.
  const candidates = [veth, br, uplink === undefined ? undefined : devices.get(uplink)];
  const carrier = candidates.find((d) => d !== undefined && hasIfcfgAddress(d));
  if (carrier !== undefined) {
    for (const [address, where] of readIfcfgAddresses(carrier, problems)) emit('address', address, where);
    for (const key of carrier.vars.keys())
      if (/^(IPADDR|PREFIX|NETMASK)[0-9]*$|^IPV6ADDR(_SECONDARIES)?$/.test(key)) use(carrier, key);
  }
  // A DHCP-configured device of dom0's: network-script runs no DHCP client and never turns a
  // lease into a static address, so it says so instead of ignoring BOOTPROTO.
  for (const d of candidates)
    if (d !== undefined && /^(dhcp|bootp)$/i.test(get(d, 'BOOTPROTO') ?? '')) {
      problems.push(
        `${at(d, 'BOOTPROTO')}: BOOTPROTO=${showPlain(get(d, 'BOOTPROTO') ?? '')}: dom0's address on ${d.name} comes from DHCP, which network-script does not run; give it IPADDR= and PREFIX= (static), or leave the bridge to your network manager's DHCP client`,
      );
      use(d, 'BOOTPROTO');
    }
  const gwDev =
    carrier !== undefined && peek(carrier, 'GATEWAY') !== undefined
      ? carrier
      : all.filter((d) => peek(d, 'GATEWAY') !== undefined).length === 1
        ? all.find((d) => peek(d, 'GATEWAY') !== undefined)
        : undefined;
  const gateway = get(gwDev, 'GATEWAY');
  if (gwDev !== undefined && gateway !== undefined) emit('gateway', gateway, at(gwDev, 'GATEWAY'));

  // Declared, not applied.
  const noarp = all.filter((d) => /^(no|off|false|0)$/i.test(get(d, 'ARP') ?? ''));
  // Already what xenplan does, so used: static addresses, TYPE as xenplan sees the device, ONBOOT=yes.
  for (const d of all) {
    use(d, 'DEVICE');
    if (/^(none|static|)$/i.test(peek(d, 'BOOTPROTO') ?? 'x')) use(d, 'BOOTPROTO');
    if (/^(ethernet|bond|bridge)$/i.test(peek(d, 'TYPE') ?? '')) use(d, 'TYPE');
    if (/^yes$/i.test(peek(d, 'ONBOOT') ?? '')) use(d, 'ONBOOT');
  }
  if (noarp.length > 0)
    emit('noarp', noarp.map((d) => d.name).join(','), noarp.map((d) => at(d, 'ARP')).join(', '));
  const macs: Record<string, string> = {};
  const onboot: Record<string, boolean> = {};
  for (const d of all) {
    const key = peek(d, 'MACADDR') !== undefined ? 'MACADDR' : 'HWADDR';
    const mac = peek(d, key);
    if (mac !== undefined && d !== veth) {
      const bad = checkMac(mac, key);
      if (bad === undefined) macs[d.name] = mac.toLowerCase();
      else problems.push(`${at(d, key)}: ${bad}`);
    }
    const on = peek(d, 'ONBOOT');
    if (on !== undefined) {
      if (/^(yes|no)$/i.test(on)) onboot[d.name] = on.toLowerCase() === 'yes';
      else problems.push(`${at(d, 'ONBOOT')}: ONBOOT=${showPlain(on)}: expected yes or no`);
    }
  }
  const declared: DeclaredFacts = {
    ...(Object.keys(macs).length === 0 ? {} : { macs }),
    ...(Object.keys(onboot).length === 0 ? {} : { onboot }),
  };
  // Every other line: named, with why, so nothing the admin wrote is dropped without a word.
  const slaveNames = new Set((uplink === undefined ? [] : (slavesOf.get(uplink) ?? [])).map((d) => d.name));
  const setup = new Set(
    [br?.name, uplink, netloop?.veth, netloop?.vif, ...slaveNames].filter(
      (n): n is string => n !== undefined,
    ),
  );
  for (const d of all)
    ignored.push(
      ...unusedKeys(d, used.get(d.name) ?? new Set(), {
        slave: slaveNames.has(d.name),
        carrier: carrier?.name,
        inSetup: setup.has(d.name),
      }),
    );
  return { settings, declared, problems, ignored };
}
