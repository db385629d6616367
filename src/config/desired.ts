/**
 * The merged settings → NetworkDesired: the bridge, the uplink (a bond, a NIC, or the default
 * route's device), dom0's layout, and the checks across keys (one device, one role; bond
 * options valid in the bond's mode). Pure.
 */
import { checkInterfaceName } from '../model/names.ts';
import {
  type BondDesired,
  type BridgeDesired,
  type BridgeNf,
  type Dom0Layout,
  type NetworkDesired,
  vlanBridgeName,
  vlanDeviceName,
} from '../model/network.ts';
import { BOND_OPTION_INDEX } from './bond-options.ts';
import { isBondKey, type Source } from './source.ts';

/** What the merged settings ask for; problems across keys are added to `problems`. */
export function buildDesired(
  m: Source,
  defaultRouteDev: string | undefined,
  problems: string[],
): NetworkDesired {
  const str = (key: string): string | undefined => {
    const v = m.get(key)?.value;
    return typeof v === 'string' ? v : undefined;
  };
  const list = (key: string): readonly string[] | undefined => {
    const v = m.get(key)?.value;
    return typeof v === 'string' ? [v] : v;
  };
  const shown = (key: string): string => m.get(key)?.written ?? key;
  const placed = (key: string): string => m.get(key)?.here ?? key;

  // Bridge.
  const stp = str('stp') === 'on';
  const forwardDelay = Number(str('forward-delay') ?? (stp ? '1500' : '0'));
  if (stp && (forwardDelay < 200 || forwardDelay > 3000))
    problems.push(`${placed('forward-delay')}: with stp=on the kernel needs 2 to 30 seconds`);
  const helloTime = str('hello-time');
  const maxAge = str('max-age');
  const mtu = str('mtu');
  // vifnum=N (Xen 3.0's network-bridge) numbers the defaults: xenbrN over ethN.
  const vifnum = str('vifnum');
  const bridge: BridgeDesired = {
    name: str('bridge') ?? `xenbr${vifnum ?? '0'}`,
    stp,
    forwardDelay,
    ...(helloTime === undefined ? {} : { helloTime: Number(helloTime) }),
    ...(maxAge === undefined ? {} : { maxAge: Number(maxAge) }),
    ...(mtu === undefined ? {} : { mtu: Number(mtu) }),
  };

  // Uplink: a bond, a NIC, or the default route's device.
  const bondName = str('bond');
  const slaves = list('slaves');
  const netdev =
    str('netdev') ?? (vifnum === undefined || bondName !== undefined ? undefined : `eth${vifnum}`);
  let bond: BondDesired | undefined;
  if (bondName === undefined) {
    for (const key of m.keys())
      if (isBondKey(key) && key !== 'bond') problems.push(`${placed(key)}: needs bond=NAME`);
  } else {
    if (netdev !== undefined)
      problems.push(`${shown('netdev')} and ${shown('bond')} both name the uplink; give one of them`);
    if (slaves === undefined || slaves.length === 0)
      problems.push(`${placed('bond')}: needs slaves=NIC,NIC (the NICs to enslave)`);
    bond = buildBond(bondName, slaves ?? [], m, problems);
  }
  let uplink = bondName ?? netdev;
  if (uplink === undefined) {
    const problem =
      defaultRouteDev === undefined ? undefined : checkInterfaceName(defaultRouteDev, 'default route device');
    if (defaultRouteDev === undefined) problems.push('no uplink: give netdev=NIC or bond=NAME slaves=…');
    else if (problem !== undefined) problems.push(problem);
    else if (defaultRouteDev === bridge.name || defaultRouteDev === str('dom0-port')?.split(':')[0])
      problems.push(
        `the default route is on ${defaultRouteDev}, which is dom0's side of the bridge; give netdev=NIC or bond=NAME slaves=… to name the uplink`,
      );
    else uplink = defaultRouteDev;
  }

  // dom0's layout.
  const port = str('dom0-port') ?? 'bridge';
  const mac = str('dom0-mac');
  let dom0: Dom0Layout = { kind: 'bridge' };
  if (port !== 'bridge') {
    const [veth = '', vif = ''] = port.split(':');
    dom0 = { kind: 'netloop', veth, vif, ...(mac === undefined ? {} : { mac }) };
  } else if (mac !== undefined) {
    problems.push(`${placed('dom0-mac')}: needs dom0-port=VETH:VIF (the netloop layout)`);
  }

  // One device, one role.
  const roles: [string, string][] = [[shown('bridge'), bridge.name]];
  if (bondName !== undefined) roles.push([shown('bond'), bondName]);
  else if (netdev !== undefined) roles.push([shown('netdev'), netdev]);
  else if (uplink !== undefined) roles.push([`the default route device ${uplink}`, uplink]);
  if (bondName !== undefined) for (const slave of slaves ?? []) roles.push([shown('slaves'), slave]);
  if (dom0.kind === 'netloop') {
    roles.push([`dom0-port veth ${dom0.veth}`, dom0.veth]);
    roles.push([`dom0-port vif ${dom0.vif}`, dom0.vif]);
  }
  roles.forEach(([role, name], i) => {
    const first = roles.findIndex(([, other]) => other === name);
    if (first < i)
      problems.push(`${roles[first]?.[0]} and ${role} name the same device ${name}; each needs its own`);
  });

  const addresses = list('address');
  const addressesFrom = sourceOf(m.get('address')?.here);
  const gateway = str('gateway');
  const vlans = [...new Set((list('vlans') ?? []).map(Number))].sort((a, b) => a - b);
  for (const vid of vlans) {
    const problem = checkInterfaceName(vlanDeviceName(uplink ?? '', vid), `vlans=${vid}: the VLAN device`);
    if (uplink !== undefined && problem) problems.push(problem);
    if (vlanBridgeName(vid) === bridge.name)
      problems.push(
        `vlans=${vid}: its bridge ${vlanBridgeName(vid)} is bridge=${bridge.name}; pick another bridge= name`,
      );
  }
  // Facts about the world outside the host, declared for doctor (never applied).
  const topology: Record<string, string> = {};
  for (const key of TOPOLOGY_KEYS) {
    const value = str(key);
    if (value !== undefined) topology[key] = value;
  }
  return {
    bridge,
    uplink: uplink ?? '',
    ...(bond === undefined ? {} : { bond }),
    dom0,
    ...(addresses === undefined ? {} : { addresses: [...addresses], addressesFrom }),
    ...(gateway === undefined ? {} : { gateway }),
    ...(str('dhcp') === 'move' ? { dhcp: 'move' as const } : {}),
    bridgeNf: (str('bridge-nf') ?? 'keep') as BridgeNf,
    strict: str('strict') === 'yes',
    ...(vlans.length === 0 ? {} : { vlans }),
    ...(Object.keys(topology).length === 0 ? {} : { topology }),
  };
}

function buildBond(name: string, slaves: readonly string[], m: Source, problems: string[]): BondDesired {
  const mode = (m.get('bond-mode')?.value as string | undefined) ?? 'active-backup';
  const options: Record<string, string> = {};
  const miimon = m.get('miimon')?.value as string | undefined;
  const arpInterval = m.get('bond.arp_interval')?.value as string | undefined;
  if (miimon !== undefined && miimon !== '0' && arpInterval !== undefined && arpInterval !== '0')
    problems.push(
      `${m.get('miimon')?.written} and ${m.get('bond.arp_interval')?.written}: the kernel runs one link monitor; set the other to 0`,
    );
  // Default MII monitoring, unless the admin chose ARP monitoring.
  if (miimon !== undefined) options.miimon = miimon;
  else if (arpInterval === undefined || arpInterval === '0') options.miimon = '100';
  for (const [key, entry] of [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!key.startsWith('bond.')) continue;
    const option = BOND_OPTION_INDEX.get(key.slice(5));
    if (option === undefined) continue;
    if (option.modes !== undefined && !option.modes.includes(mode))
      problems.push(
        `${entry.here}: only for bond-mode ${option.modes.join(', ')}; the kernel refuses it in ${mode}`,
      );
    options[option.name] = entry.value as string;
  }
  const primary = options.primary;
  if (primary !== undefined && !slaves.includes(primary))
    problems.push(`${m.get('bond.primary')?.here}: is not one of slaves=${slaves.join(',')}`);
  return { name, slaves: [...slaves], mode, options };
}

/**
 * Names where a setting was read, for step reasons: the words (`address=`), a config file
 * (`address= in FILE`) or an ifcfg file (`IPADDR in ifcfg-NAME`), from the entry's place.
 */
function sourceOf(here: string | undefined): string {
  const file = here === undefined ? undefined : /^(.+?):[0-9]+: /.exec(here)?.[1];
  if (file === undefined) return 'address=';
  const base = file.slice(file.lastIndexOf('/') + 1);
  return base.startsWith('ifcfg-') ? `IPADDR in ${base}` : `address= in ${file}`;
}

/** Settings that only declare facts for doctor; they land in NetworkDesired.topology. */
const TOPOLOGY_KEYS = ['switches', 'lacp', 'port-group', 'slb', 'updelay-needed-ms', 'antispoof'] as const;
