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

/** nft 1.0.6 on Linux 6.18 (guest-vif8.0: a chain hooked on another device name). */
const NETDEV_JSON = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6', json_schema_version: 1 } },
    { table: { family: 'netdev', name: 'xenplan', handle: 1 } },
    {
      chain: {
        family: 'netdev',
        table: 'xenplan',
        name: 'guest-vif7.0',
        handle: 1,
        type: 'filter',
        hook: 'ingress',
        prio: -500,
        policy: 'accept',
      },
    },
    {
      chain: {
        family: 'netdev',
        table: 'xenplan',
        name: 'guest-vif8.0',
        handle: 3,
        type: 'filter',
        hook: 'ingress',
        prio: -500,
        policy: 'accept',
      },
    },
    {
      rule: {
        family: 'netdev',
        table: 'xenplan',
        chain: 'guest-vif7.0',
        handle: 2,
        comment: 'ipv4',
        expr: [
          { match: { op: '!=', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '192.0.2.7' } },
          { counter: { packets: 4, bytes: 336 } },
          { drop: null },
        ],
      },
    },
  ],
});

const NETDEV_TEXT = `table netdev xenplan {
	chain guest-vif7.0 {
		type filter hook ingress device "vif7.0" priority -500; policy accept;
		ip saddr != 192.0.2.7 counter packets 4 bytes 336 drop comment "ipv4"
	}

	chain guest-vif8.0 {
		type filter hook ingress device "vif9.0" priority -500; policy accept;
	}
}
`;

describe('parseAntispoof', () => {
  it('lists guest chains with their map state, rule text and drops by reason', () => {
    expect(parseAntispoof(JSON_LISTING, TEXT)).toEqual([
      {
        vif: 'vif5.0',
        chain: 'guest-vif5.0',
        family: 'bridge',
        mapped: true,
        rules: ['ether saddr != 00:16:3e:00:05:00 counter packets 3 bytes 180 drop comment "mac"'],
        dropped: { mac: 3, 'dhcp-server': 3 },
      },
      { vif: 'vif6.0', chain: 'guest-vif6.0', family: 'bridge', mapped: false, rules: [], dropped: {} },
    ]);
  });

  it("netdev: a chain reaches its vif when its hook names the vif's device (nft -j leaves the device out)", () => {
    expect(parseAntispoof(NETDEV_JSON, NETDEV_TEXT, 'netdev')).toEqual([
      {
        vif: 'vif7.0',
        chain: 'guest-vif7.0',
        family: 'netdev',
        mapped: true,
        rules: ['ip saddr != 192.0.2.7 counter packets 4 bytes 336 drop comment "ipv4"'],
        dropped: { ipv4: 4 },
      },
      { vif: 'vif8.0', chain: 'guest-vif8.0', family: 'netdev', mapped: false, rules: [], dropped: {} },
    ]);
  });

  it('says what is wrong with output that is not JSON', () => {
    expect(() => parseAntispoof('Error', '')).toThrow('nft -j printed something that is not JSON');
  });
});
