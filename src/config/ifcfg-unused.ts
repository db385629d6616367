/**
 * Why an `ifcfg-*` line xenplan does not use is left alone: every key of every file is either
 * turned into a setting, or named in doctor's report with one of these reasons, or a problem.
 * The reasons are what Red Hat's initscripts did with the key, so the admin learns what the
 * line did before, too. Pure.
 */
import type { IgnoredSetting } from '../model/doctor.ts';
import type { IfcfgDevice } from './ifcfg-file.ts';

/** What the caller knows about a device's role, for the reason. */
export interface DeviceRole {
  readonly slave: boolean;
  /** The device that carries dom0's addresses (the netloop veth, the bridge or the uplink). */
  readonly carrier: string | undefined;
  /** Whether the device is part of the setup xenplan builds (bridge, uplink, slave, netloop pair). */
  readonly inSetup: boolean;
}

const TIMERS =
  "Red Hat's initscripts never read FD=, HELLO= or MAXAGE= (ifup-eth reads DELAY= and, in later releases, BRIDGING_OPTS=): on CentOS 5 these lines did nothing, and xenplan ignores them too; for a timer write DELAY= or BRIDGING_OPTS (hundredths of a second), or forward-delay=, hello-time=, max-age=";

/** The reason an unused key of device d is ignored. */
export function ignoredReason(d: IfcfgDevice, key: string, value: string, role: DeviceRole): string {
  if (!role.inSetup)
    return `${d.name} is not part of the bridge xenplan builds (the bridge, its uplink, the bond's slaves, the netloop veth and vif)`;
  if (key === 'FD' || key === 'HELLO' || key === 'MAXAGE') return TIMERS;
  if (/^(IPADDR|PREFIX|NETMASK|GATEWAY|IPV6ADDR)/.test(key))
    return role.carrier === undefined
      ? "dom0's addresses are read from the netloop veth, else the bridge, else the uplink, and none of them has an address"
      : `dom0's addresses and gateway are read from ${role.carrier}'s file only (the netloop veth, else the bridge, else the uplink)`;
  switch (key) {
    case 'BOOTPROTO':
      return 'xenplan runs no DHCP client: start moves the addresses the uplink has when it runs onto the bridge (address= names them)';
    case 'MACADDR':
      return role.slave
        ? `bonding gives every slave the bond's MAC (fail_over_mac=none), so MACADDR= on ${d.name} was overridden; HWADDR= (which NIC this file is for) was probably meant`
        : "xenplan changes no NIC's MAC: the bridge takes its uplink's MAC (and the netloop veth dom0-mac=)";
    case 'HWADDR':
      return `it names the NIC this file is for; xenplan goes by DEVICE= (${d.name}) and does not check the MAC`;
    case 'ONBOOT':
      return `network-script start brings ${d.name} up whenever it builds the bridge`;
    case 'MTU':
      return "xenplan sets the bridge's MTU (mtu=, the bridge's MTU=); the kernel passes a bond's MTU to its slaves";
    case 'USERCTL':
      return 'it lets users other than root run ifup and ifdown; nothing for xenplan to do';
    case 'NM_CONTROLLED':
      return 'it tells NetworkManager whether to manage the device; xenplan does not consult it (NM_CONTROLLED=no keeps NetworkManager away from the devices xenplan manages)';
    case 'TYPE':
      return `TYPE=${value} does not change how xenplan sees ${d.name}`;
    default:
      return `xenplan does not read ${key}= (not part of the bridge and bond it builds); the distribution's network scripts would`;
  }
}

/** Every key of d not in used, as ignored settings with their reasons. */
export function unusedKeys(d: IfcfgDevice, used: ReadonlySet<string>, role: DeviceRole): IgnoredSetting[] {
  const out: IgnoredSetting[] = [];
  for (const [key, v] of d.vars) {
    if (used.has(key)) continue;
    out.push({
      where: `${d.file}:${v.line}`,
      device: d.name,
      key,
      value: v.value,
      reason: ignoredReason(d, key, v.value, role),
    });
  }
  return out;
}
