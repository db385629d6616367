import { describe, expect, it } from 'vitest';
import { chainGuest, guestChain } from '../../../src/model/antispoof.ts';
import { makePlan } from '../../../src/model/plan.ts';
import {
  eui64,
  guestRules,
  markFamily,
  markText,
  nftGuestScript,
  nftRemoveScript,
  planAntispoofGc,
  planAntispoofOffline,
  planAntispoofOnline,
  planAntispoofRestore,
  withFilter,
} from '../../../src/plan/antispoof.ts';
import { makeStep } from '../../../src/plan/step.ts';

const MAC = '00:16:3e:00:05:00';
const guest = { name: 'vif5.0', mac: MAC, ips: ['192.0.2.21'] };

const TABLE = [
  'add table bridge xenplan',
  'add map bridge xenplan vifs { type ifname : verdict; }',
  'add chain bridge xenplan prerouting { type filter hook prerouting priority -200; policy accept; }',
  'flush chain bridge xenplan prerouting',
  'add rule bridge xenplan prerouting iifname vmap @vifs',
];

const RULES_5 = [
  'ether saddr != 00:16:3e:00:05:00 counter drop comment "mac"',
  'ether type { 8021q, 8021ad } counter drop comment "vlan"',
  'arp saddr ether != 00:16:3e:00:05:00 counter drop comment "arp-mac"',
  'arp saddr ip != { 0.0.0.0, 192.0.2.21 } counter drop comment "arp-ip"',
  'ether type ip udp sport 67 udp dport 68 counter drop comment "dhcp-server"',
  'ether type ip6 udp sport 547 udp dport 546 counter drop comment "dhcp-server"',
  'icmpv6 type nd-router-advert counter drop comment "ra"',
  'ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept',
  'ip saddr != { 192.0.2.21 } counter drop comment "ipv4"',
  'ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld-listener-report, mld2-listener-report } accept',
  'ether type ip6 @nh,128,64 0x02163efffe000500 accept',
  'ether type ip6 counter drop comment "ipv6"',
];

describe('guestRules', () => {
  it('ip (Xen): a guest with ip is locked to its MAC, addresses, ARP, IPv6 from its MAC', () => {
    expect(guestRules(guest, 'ip')).toEqual(RULES_5);
  });

  it('ip (Xen): a guest without ip is not filtered; off filters nobody', () => {
    expect(guestRules({ ...guest, ips: [] }, 'ip')).toBeUndefined();
    expect(guestRules(guest, 'off')).toBeUndefined();
  });

  it('locked without ip: MAC (frames and ARP) only, plus no DHCP server, no RA', () => {
    expect(guestRules({ ...guest, ips: [] }, 'locked')).toEqual([
      'ether saddr != 00:16:3e:00:05:00 counter drop comment "mac"',
      'ether type { 8021q, 8021ad } counter drop comment "vlan"',
      'arp saddr ether != 00:16:3e:00:05:00 counter drop comment "arp-mac"',
      'ether type ip udp sport 67 udp dport 68 counter drop comment "dhcp-server"',
      'ether type ip6 udp sport 547 udp dport 546 counter drop comment "dhcp-server"',
      'icmpv6 type nd-router-advert counter drop comment "ra"',
    ]);
  });

  it('locked without a backend mac is a config error naming the vif', () => {
    expect(() => guestRules({ name: 'vif5.0', ips: [] }, 'locked')).toThrow(
      /vif-antispoof=locked needs the guest's MAC but the backend of vif5.0 has no mac key/,
    );
  });

  it('IPv6 addresses in ip are allowed besides the MAC-derived ones; IPv6 only drops all IPv4', () => {
    const rules = guestRules({ ...guest, ips: ['2001:db8::5/64'] }, 'ip')!;
    expect(rules).toContain('ether type ip counter drop comment "ipv4"');
    expect(rules).toContain('ip6 saddr { 2001:db8::5/64 } accept');
    expect(rules).not.toContain('ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept');
  });
});

describe('eui64 and chain names', () => {
  it('flips the universal/local bit and inserts ff:fe (RFC 4291)', () => {
    expect(eui64('00:16:3e:00:05:00')).toBe('0x02163efffe000500');
    expect(eui64('02:00:00:00:00:01')).toBe('0x000000fffe000001');
  });

  it('maps interface names to nft identifiers one to one', () => {
    expect(guestChain('vif5.0')).toBe('guest-vif5.0');
    expect(guestChain('1web+x')).toBe('guest-1web/x');
    expect(chainGuest('guest-1web/x')).toBe('1web+x');
    expect(chainGuest('prerouting')).toBeUndefined();
  });
});

describe('planAntispoofOnline', () => {
  const script = [
    ...TABLE,
    'add chain bridge xenplan guest-vif5.0',
    'flush chain bridge xenplan guest-vif5.0',
    ...RULES_5.map((r) => `add rule bridge xenplan guest-vif5.0 ${r}`),
    'add element bridge xenplan vifs { "vif5.0" : goto guest-vif5.0 }',
    '',
  ].join('\n');

  it('one nft -f - transaction replacing the chain and its map element, and the mark to record', () => {
    expect(nftGuestScript('vif5.0', RULES_5)).toBe(script);
    expect(planAntispoofOnline('ip', guest, 7, undefined)).toEqual({
      steps: [
        {
          id: 'antispoof:vif5.0',
          phase: 'firewall',
          argv: ['nft', '-f', '-'],
          input: script,
          reason: 'vif-antispoof=ip: vif5.0 may send only from 00:16:3e:00:05:00, 192.0.2.21 (no rules yet)',
          disruptive: false,
        },
      ],
      mark: `ifindex 7\n${script}`,
    });
  });

  it('a converged guest (the same device, the same rules) plans nothing', () => {
    expect(planAntispoofOnline('ip', guest, 7, markText(7, script))).toEqual({ steps: [] });
  });

  it('a new device under the same name, a pending mark or changed rules are applied again', () => {
    for (const mark of [markText(8, script), 'pending\n', markText(7, nftGuestScript('vif5.0', ['drop']))])
      expect(planAntispoofOnline('ip', guest, 7, mark).steps.map((s) => s.reason)).toEqual([
        'vif-antispoof=ip: vif5.0 may send only from 00:16:3e:00:05:00, 192.0.2.21 (rules differ or belong to an older device)',
      ]);
  });

  it('an unfiltered guest plans nothing, or the removal of rules an earlier online left', () => {
    const bare = { ...guest, ips: [] };
    expect(planAntispoofOnline('ip', bare, 7, undefined)).toEqual({ steps: [] });
    const change = planAntispoofOnline('ip', bare, 7, markText(7, script));
    expect(change.mark).toBeNull();
    expect(change.steps.map((s) => [s.reason, s.input])).toEqual([
      ['vif5.0 is not filtered (vif-antispoof=ip, no ip key): remove its rules', nftRemoveScript(['vif5.0'])],
    ]);
  });
});

describe('planAntispoofOffline and gc', () => {
  it('removes exactly the vif element and chain, succeeding whether they exist or not', () => {
    expect(nftRemoveScript(['vif5.0'])).toBe(
      [
        'add table bridge xenplan',
        'add map bridge xenplan vifs { type ifname : verdict; }',
        'add chain bridge xenplan guest-vif5.0',
        'add element bridge xenplan vifs { "vif5.0" : goto guest-vif5.0 }',
        'delete element bridge xenplan vifs { "vif5.0" }',
        'flush chain bridge xenplan guest-vif5.0',
        'delete chain bridge xenplan guest-vif5.0',
        '',
      ].join('\n'),
    );
    expect(planAntispoofOffline('vif5.0', 'pending\n')).toEqual({
      steps: [
        {
          id: 'antispoof:vif5.0',
          phase: 'firewall',
          argv: ['nft', '-f', '-'],
          input: nftRemoveScript(['vif5.0']),
          reason: 'vif5.0 is going away: remove its rules',
          disruptive: false,
        },
      ],
      mark: null,
    });
  });

  it('offline of a vif no online filtered plans nothing', () => {
    expect(planAntispoofOffline('vif5.0', undefined)).toEqual({ steps: [] });
  });

  it('gc removes the chains of vifs that are gone, in one transaction', () => {
    const bridge = (chain: string) => ({ chain, family: 'bridge' as const });
    const steps = planAntispoofGc(
      [bridge('guest-vif5.0'), bridge('guest-vif6.0'), bridge('prerouting')],
      ['vif6.0'],
    );
    expect(steps.map((s) => [s.id, s.argv, s.input, s.reason])).toEqual([
      [
        'antispoof:gc',
        ['nft', '-f', '-'],
        nftRemoveScript(['vif5.0']),
        'rules of vifs that no longer exist: vif5.0',
      ],
    ]);
    expect(planAntispoofGc([bridge('guest-vif6.0')], ['vif6.0'])).toEqual([]);
  });

  it('gc removes gone chains of both tables in the one transaction', () => {
    const steps = planAntispoofGc(
      [
        { chain: 'guest-vif5.0', family: 'bridge' },
        { chain: 'guest-vif7.0', family: 'netdev' },
      ],
      [],
    );
    expect(steps.map((s) => s.input)).toEqual([
      `${nftRemoveScript(['vif5.0'])}${nftRemoveScript(['vif7.0'], 'netdev')}`,
    ]);
  });
});

describe('the netdev table (Open vSwitch, routed and NAT guests)', () => {
  const guest = { name: 'vif7.0', mac: '00:16:3e:00:00:07', ips: ['192.0.2.7'] };
  const script = [
    'add table netdev xenplan',
    'add chain netdev xenplan guest-vif7.0 { type filter hook ingress device "vif7.0" priority -500; policy accept; }',
    'flush chain netdev xenplan guest-vif7.0',
    'add rule netdev xenplan guest-vif7.0 drop',
    '',
  ].join('\n');

  it("a guest's chain is a base chain on its vif's ingress, with no map", () => {
    expect(nftGuestScript('vif7.0', ['drop'], 'netdev')).toBe(script);
  });

  it('online applies the same rules as on a bridge, in the netdev table; converged plans nothing', () => {
    const change = planAntispoofOnline('ip', guest, 9, undefined, 'netdev');
    const want = nftGuestScript('vif7.0', guestRules(guest, 'ip')!, 'netdev');
    expect(change.steps.map((s) => [s.id, s.argv, s.input])).toEqual([
      ['antispoof:vif7.0', ['nft', '-f', '-'], want],
    ]);
    expect(change.mark).toBe(markText(9, want));
    expect(planAntispoofOnline('ip', guest, 9, markText(9, want), 'netdev')).toEqual({ steps: [] });
  });

  it('removal adds each chain plain before deleting it: succeeds whether the kernel dropped it with its device or kept it', () => {
    expect(nftRemoveScript(['vif7.0'], 'netdev')).toBe(
      [
        'add table netdev xenplan',
        'add chain netdev xenplan guest-vif7.0',
        'flush chain netdev xenplan guest-vif7.0',
        'delete chain netdev xenplan guest-vif7.0',
        '',
      ].join('\n'),
    );
  });

  it("offline removes from the table the mark names, else the mode's", () => {
    const netdevMark = markText(9, script);
    expect(planAntispoofOffline('vif7.0', netdevMark).steps.map((s) => s.input)).toEqual([
      nftRemoveScript(['vif7.0'], 'netdev'),
    ]);
    expect(planAntispoofOffline('vif7.0', 'pending\n', 'netdev').steps.map((s) => s.input)).toEqual([
      nftRemoveScript(['vif7.0'], 'netdev'),
    ]);
    expect(planAntispoofOffline('vif7.0', 'pending\n').steps.map((s) => s.input)).toEqual([
      nftRemoveScript(['vif7.0']),
    ]);
    expect(markFamily(netdevMark)).toBe('netdev');
    expect(markFamily('pending\n')).toBeUndefined();
  });

  it('a filtered guest with tagged VLANs is refused, naming them; unfiltered it is fine', () => {
    expect(() => guestRules({ ...guest, tagged: [100, 200] }, 'ip')).toThrow(
      /vif-antispoof=ip filters vif7\.0, which carries tagged VLANs 100,200; .* set vif-antispoof=off/,
    );
    expect(guestRules({ ...guest, ips: [], tagged: [100] }, 'ip')).toBeUndefined();
  });
});

describe('withFilter', () => {
  const step = (id: string) => makeStep(id, 'vif', ['ip'], id);
  const plan = makePlan([step('vif:vif7.0:rename'), step('vif:vif7.0:up')], ['w']);

  it("puts the rules right after the vif's rename, before it goes up", () => {
    expect(withFilter(plan, [step('antispoof:web')], 'vif7.0').steps.map((s) => s.id)).toEqual([
      'vif:vif7.0:rename',
      'antispoof:web',
      'vif:vif7.0:up',
    ]);
  });

  it('first when there is no rename', () => {
    const noRename = makePlan([step('vif:vif7.0:up')]);
    expect(withFilter(noRename, [step('antispoof:vif7.0')], 'vif7.0').steps.map((s) => s.id)).toEqual([
      'antispoof:vif7.0',
      'vif:vif7.0:up',
    ]);
    expect(withFilter(plan, [], 'vif7.0')).toBe(plan);
  });
});

describe('planAntispoofRestore', () => {
  it('re-applies the transaction a mark recorded; nothing for a pending mark', () => {
    const script = nftGuestScript('vif5.0', ['drop']);
    expect(
      planAntispoofRestore('vif5.0', markText(7, script)).map((s) => [s.id, s.argv, s.input, s.reason]),
    ).toEqual([
      [
        'antispoof:vif5.0:restore',
        ['nft', '-f', '-'],
        script,
        'vif5.0 was filtered but its rules are gone (a ruleset flush?): apply them again',
      ],
    ]);
    expect(planAntispoofRestore('vif5.0', 'pending\n')).toEqual([]);
  });
});
