import { describe, expect, it } from 'vitest';
import { chainGuest, guestChain } from '../../../src/model/antispoof.ts';
import {
  eui64,
  guestRules,
  markText,
  nftGuestScript,
  nftRemoveScript,
  planAntispoofGc,
  planAntispoofOffline,
  planAntispoofOnline,
  planAntispoofRestore,
} from '../../../src/plan/antispoof.ts';

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
    const steps = planAntispoofGc(['guest-vif5.0', 'guest-vif6.0', 'prerouting'], ['vif6.0']);
    expect(steps.map((s) => [s.id, s.argv, s.input, s.reason])).toEqual([
      [
        'antispoof:gc',
        ['nft', '-f', '-'],
        nftRemoveScript(['vif5.0']),
        'rules of vifs that no longer exist: vif5.0',
      ],
    ]);
    expect(planAntispoofGc(['guest-vif6.0'], ['vif6.0'])).toEqual([]);
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
