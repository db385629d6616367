import { describe, expect, it } from 'vitest';
import { parseAntispoof } from '../../../src/observe/antispoof.ts';

// As nft 1.0.6 prints `-j list table bridge xenplan` and `list table bridge xenplan`.
const JSON_LISTING = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6' } },
    { table: { family: 'bridge', name: 'xenplan' } },
    { map: { name: 'vifs', elem: [['vif5.0', { goto: { target: 'guest-vif5.0' } }]] } },
    { chain: { name: 'prerouting' } },
    { chain: { name: 'guest-vif5.0' } },
    { chain: { name: 'guest-vif6.0' } },
    { rule: { chain: 'prerouting', expr: [{ vmap: {} }] } },
    {
      rule: {
        chain: 'guest-vif5.0',
        comment: 'mac',
        expr: [{ match: {} }, { counter: { packets: 3, bytes: 180 } }, { drop: null }],
      },
    },
    { rule: { chain: 'guest-vif5.0', expr: [{ match: {} }, { accept: null }] } },
    {
      rule: { chain: 'guest-vif5.0', comment: 'dhcp-server', expr: [{ counter: { packets: 1, bytes: 1 } }] },
    },
    {
      rule: { chain: 'guest-vif5.0', comment: 'dhcp-server', expr: [{ counter: { packets: 2, bytes: 1 } }] },
    },
  ],
});

const TEXT = `table bridge xenplan {
	chain prerouting {
		type filter hook prerouting priority filter; policy accept;
		iifname vmap @vifs
	}

	chain guest-vif5.0 {
		ether saddr != 00:16:3e:00:05:00 counter packets 3 bytes 180 drop comment "mac"
	}
}
`;

describe('parseAntispoof', () => {
  it('lists guest chains with their map state, rule text and drops by reason', () => {
    expect(parseAntispoof(JSON_LISTING, TEXT)).toEqual([
      {
        vif: 'vif5.0',
        chain: 'guest-vif5.0',
        mapped: true,
        rules: ['ether saddr != 00:16:3e:00:05:00 counter packets 3 bytes 180 drop comment "mac"'],
        dropped: { mac: 3, 'dhcp-server': 3 },
      },
      { vif: 'vif6.0', chain: 'guest-vif6.0', mapped: false, rules: [], dropped: {} },
    ]);
  });

  it('says what is wrong with output that is not JSON', () => {
    expect(() => parseAntispoof('Error', '')).toThrow('nft -j printed something that is not JSON');
  });
});
