import { XenplanError } from '../model/error.ts';
import { isIpv4, show } from '../model/names.ts';
import type { Step } from '../model/plan.ts';
import { NAT_CHAIN, NAT_SET, NAT_TABLE, type NatState } from '../model/vif-mode.ts';
import { nftTransaction } from './command.ts';
import { makeStep } from './step.ts';

/** A NAT guest's address and dom0's address on its vif (its router). */
export interface NatAddresses {
  readonly guest: string;
  readonly router: string;
}

/**
 * Xen's vif-nat addressing: the backend's first `ip`, else 10.<domid/256>.<domid%256>.<devid+1>;
 * the router is the guest's address with 127 added to its last number. A router past .254
 * (a guest address above .127) is refused: Xen's script would write an invalid address.
 */
export function natAddresses(domid: number, devid: number, ips: readonly string[]): NatAddresses {
  const given = ips[0]?.split('/')[0];
  if (given !== undefined && !isIpv4(given))
    throw new XenplanError(
      'config',
      `ip ${show(ips[0]!)}: a NAT guest needs an IPv4 address (or no ip, for Xen's 10.x.y.z address)`,
    );
  if (given === undefined && devid > 126)
    throw new XenplanError(
      'config',
      `vif device ${devid} has no NAT address of Xen's scheme (10.x.y.<devid+1>, devid up to 126); set ip=`,
    );
  const guest = given ?? `10.${Math.floor(domid / 256)}.${domid % 256}.${devid + 1}`;
  const parts = guest.split('.').map(Number);
  const last = parts[3]! + 127;
  if (last > 254)
    throw new XenplanError(
      'config',
      `ip ${guest}: the NAT router address is the guest's last number + 127 (${last}), past 254; give the guest an address ending in 1 to 127`,
    );
  return { guest, router: [parts[0], parts[1], parts[2], last].join('.') };
}

/**
 * The table, its masquerade rule and the guest's element, in one transaction: every NAT
 * guest shares the table, so concurrent events each replace the rule whole and add only
 * their own element. Nothing when the guest is in the set and the chain has its one rule.
 */
export function planNatOnline(guest: string, name: string, nat: NatState): Step[] {
  if (nat.guests.includes(guest) && nat.rules === 1) return [];
  const commands = [
    `add table ip ${NAT_TABLE}`,
    `add chain ip ${NAT_TABLE} ${NAT_CHAIN} { type nat hook postrouting priority srcnat ; policy accept ; }`,
    `add set ip ${NAT_TABLE} ${NAT_SET} { type ipv4_addr ; }`,
    `flush chain ip ${NAT_TABLE} ${NAT_CHAIN}`,
    `add rule ip ${NAT_TABLE} ${NAT_CHAIN} ip saddr @${NAT_SET} ip daddr != @${NAT_SET} masquerade`,
    `add element ip ${NAT_TABLE} ${NAT_SET} { ${guest} }`,
  ];
  const why = nat.guests.includes(guest)
    ? `${NAT_TABLE}'s ${NAT_CHAIN} chain has ${nat.rules} rules, want the one masquerade rule`
    : `the guest of ${name} (${guest}) is not masqueraded yet`;
  return [makeStep(`nat:${guest}`, 'firewall', nftTransaction(commands), why)];
}

/** offline: the guest's element out of the set (the table stays for the others). */
export function planNatOffline(guests: readonly string[], name: string, nat: NatState): Step[] {
  const present = [...new Set(guests)].filter((g) => nat.guests.includes(g));
  if (present.length === 0) return [];
  return [
    makeStep(
      `nat:${name}:release`,
      'firewall',
      nftTransaction([`delete element ip ${NAT_TABLE} ${NAT_SET} { ${present.join(', ')} }`]),
      `${name}'s guest is going away: stop masquerading ${present.join(', ')}`,
    ),
  ];
}
