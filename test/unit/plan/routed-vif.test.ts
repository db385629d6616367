import { describe, expect, it } from 'vitest';
import type { HostState, Link, Route } from '../../../src/model/host.ts';
import type { NatState, RoutedDesired } from '../../../src/model/vif-mode.ts';
import { natAddresses, planNatOffline, planNatOnline } from '../../../src/plan/nat-vif.ts';
import { planRoutedOffline, planRoutedOnline, routeDst } from '../../../src/plan/routed-vif.ts';
import { link as anyLink } from '../../support/host.ts';

const vif = (extra: Partial<Link> = {}) =>
  anyLink('vif7.0', { up: false, carrier: false, operstate: 'DOWN', ...extra });
const state = (links: Link[], extra: Partial<HostState> = {}): HostState => ({
  links,
  addresses: [],
  routes: [],
  sysctls: {},
  ...extra,
});
const rows = (plan: { steps: readonly { id: string; argv: readonly string[] }[] }) =>
  plan.steps.map((s) => [s.id, s.argv.join(' ')]);

const want: RoutedDesired = {
  kind: 'vif',
  dev: 'vif7.0',
  name: 'vif7.0',
  local: [
    { family: 'inet', address: '192.0.2.2' },
    { family: 'inet6', address: '2001:db8::2' },
  ],
  routes: [
    { family: 'inet', dst: '198.51.100.7', src: '192.0.2.2', metric: 2 },
    { family: 'inet6', dst: '2001:db8:5::7', src: '2001:db8::2', metric: 2 },
  ],
};
const converged: HostState = state([vif({ up: true })], {
  addresses: [
    { dev: 'vif7.0', family: 'inet', local: '192.0.2.2', prefixlen: 32, scope: 'global' },
    { dev: 'vif7.0', family: 'inet6', local: '2001:db8::2', prefixlen: 128, scope: 'global' },
  ],
  routes: [
    { dst: '198.51.100.7', family: 'inet', dev: 'vif7.0', metric: 2, prefsrc: '192.0.2.2', protocol: 'boot' },
    {
      dst: '2001:db8:5::7',
      family: 'inet6',
      dev: 'vif7.0',
      metric: 2,
      prefsrc: '2001:db8::2',
      protocol: 'boot',
    },
    { dst: 'fe80::/64', family: 'inet6', dev: 'vif7.0', metric: 256, protocol: 'kernel' },
  ] as Route[],
  sysctls: {
    'net/ipv4/conf/vif7.0/proxy_arp': '1',
    'net/ipv4/conf/vif7.0/forwarding': '1',
    'net/ipv4/ip_forward': '1',
    'net/ipv6/conf/all/forwarding': '1',
  },
});

describe('planRoutedOnline (vif-xenplan-route)', () => {
  it('a new vif: up, dom0 addresses (IPv6 without DAD), proxy ARP and forwarding, host routes with metric 2', () => {
    const plan = planRoutedOnline(want, state([vif()], { sysctls: { 'net/ipv4/ip_forward': '1' } }));
    expect(rows(plan)).toEqual([
      ['vif:vif7.0:up', 'ip link set dev vif7.0 up'],
      ['vif:vif7.0:address:192.0.2.2/32', 'ip address add 192.0.2.2/32 dev vif7.0'],
      ['vif:vif7.0:address:2001:db8::2/128', 'ip address add 2001:db8::2/128 nodad dev vif7.0'],
      [
        'sysctl:vif7.0:routed',
        'sysctl -q -w net/ipv4/conf/vif7.0/proxy_arp=1 net/ipv4/conf/vif7.0/forwarding=1',
      ],
      ['route:vif7.0:198.51.100.7', 'ip route replace 198.51.100.7 dev vif7.0 metric 2 src 192.0.2.2'],
      ['route:vif7.0:2001:db8:5::7', 'ip route replace 2001:db8:5::7 dev vif7.0 metric 2 src 2001:db8::2'],
    ]);
    expect(plan.warnings).toEqual([]);
  });

  it('a converged vif plans nothing', () => {
    expect(rows(planRoutedOnline(want, converged))).toEqual([]);
  });

  it('warns when dom0 does not forward the family a guest uses', () => {
    const off = { ...converged, sysctls: { ...converged.sysctls, 'net/ipv6/conf/all/forwarding': '0' } };
    expect(planRoutedOnline(want, off).warnings).toEqual([
      "net.ipv6.conf.all.forwarding is 0: dom0 does not forward IPv6, so vif7.0's guest reaches only dom0; set it to 1 (sysctl.conf)",
    ]);
  });

  it('a missing device is a config error naming it', () => {
    expect(() => planRoutedOnline(want, state([]))).toThrow('vif device vif7.0 does not exist');
  });

  it('routeDst drops only a host prefix of the right family', () => {
    expect(['198.51.100.7/32', '198.51.100.0/28', '2001:db8::7/128', '2001:db8::/64'].map(routeDst)).toEqual([
      '198.51.100.7',
      '198.51.100.0/28',
      '2001:db8::7',
      '2001:db8::/64',
    ]);
  });
});

describe('planRoutedOffline', () => {
  it("deletes the guest's routes and dom0's addresses, then downs the vif; kernel routes stay", () => {
    expect(rows(planRoutedOffline('vif7.0', converged))).toEqual([
      ['route:vif7.0:198.51.100.7', 'ip route del 198.51.100.7 dev vif7.0 metric 2 src 192.0.2.2'],
      ['route:vif7.0:2001:db8:5::7', 'ip route del 2001:db8:5::7 dev vif7.0 metric 2 src 2001:db8::2'],
      ['vif:vif7.0:address:192.0.2.2/32', 'ip address del 192.0.2.2/32 dev vif7.0'],
      ['vif:vif7.0:address:2001:db8::2/128', 'ip address del 2001:db8::2/128 dev vif7.0'],
      ['vif:vif7.0:down', 'ip link set dev vif7.0 down'],
    ]);
  });

  it('a vif already gone plans nothing', () => {
    expect(rows(planRoutedOffline('vif7.0', state([])))).toEqual([]);
  });
});

describe('NAT (vif-xenplan-nat)', () => {
  it("derives Xen's addresses: 10.<domid/256>.<domid%256>.<devid+1>, router +127", () => {
    expect(natAddresses(5, 0, [])).toEqual({ guest: '10.0.5.1', router: '10.0.5.128' });
    expect(natAddresses(300, 2, [])).toEqual({ guest: '10.1.44.3', router: '10.1.44.130' });
    expect(natAddresses(5, 0, ['203.0.113.8/24'])).toEqual({ guest: '203.0.113.8', router: '203.0.113.135' });
  });

  it('refuses a guest address whose router would pass .254, and IPv6', () => {
    expect(() => natAddresses(5, 0, ['203.0.113.200'])).toThrow(
      "ip 203.0.113.200: the NAT router address is the guest's last number + 127 (327), past 254; give the guest an address ending in 1 to 127",
    );
    expect(() => natAddresses(5, 0, ['2001:db8::8'])).toThrow('a NAT guest needs an IPv4 address');
  });

  const empty: NatState = { table: false, guests: [], rules: 0 };
  it('online: table, chain, set, the one masquerade rule and the element, in one nft transaction', () => {
    expect(planNatOnline('203.0.113.8', 'vif8.0', empty).map((s) => [s.id, ...s.argv])).toEqual([
      [
        'nat:203.0.113.8',
        'nft',
        'add table ip xenplan_nat ; add chain ip xenplan_nat postrouting { type nat hook postrouting priority srcnat ; policy accept ; } ; add set ip xenplan_nat guests { type ipv4_addr ; } ; flush chain ip xenplan_nat postrouting ; add rule ip xenplan_nat postrouting ip saddr @guests ip daddr != @guests masquerade ; add element ip xenplan_nat guests { 203.0.113.8 }',
      ],
    ]);
    expect(
      planNatOnline('203.0.113.8', 'vif8.0', { table: true, guests: ['203.0.113.8'], rules: 1 }),
    ).toEqual([]);
    // A second rule (someone added one) is replaced whole.
    expect(
      planNatOnline('203.0.113.8', 'vif8.0', { table: true, guests: ['203.0.113.8'], rules: 2 }),
    ).toHaveLength(1);
  });

  it('offline: only elements present, one transaction; none present plans nothing', () => {
    const nat: NatState = { table: true, guests: ['203.0.113.8', '203.0.113.9'], rules: 1 };
    expect(planNatOffline(['203.0.113.8', '10.0.8.1'], 'vif8.0', nat).map((s) => s.argv)).toEqual([
      ['nft', 'delete element ip xenplan_nat guests { 203.0.113.8 }'],
    ]);
    expect(planNatOffline(['10.0.8.1'], 'vif8.0', nat)).toEqual([]);
  });
});
