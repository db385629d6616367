import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAddresses } from '../../../src/observe/address.ts';
import { splitDocuments } from '../../../src/observe/host.ts';
import { parseLinks } from '../../../src/observe/link.ts';
import { parseRoutes } from '../../../src/observe/route.ts';

// Captured on this machine's kernel: a bridge xenbr0 with veth eth0 in it, 192.0.2.10/24 and a default route.
const fixture = (name: string) => readFileSync(`test/fixtures/ip/bridge-veth/${name}`, 'utf8');

describe('parseLinks', () => {
  const links = parseLinks(fixture('link.json'));

  it('reads every link by name', () => {
    expect(links.map((l) => l.name)).toEqual(['lo', 'xenbr0', 'sw0', 'eth0']);
  });

  it('reads a bridge with its STP options in centiseconds', () => {
    expect(links[1]).toEqual({
      name: 'xenbr0',
      ifindex: 2,
      kind: 'bridge',
      master: undefined,
      mtu: 1500,
      mac: '12:d6:fa:8a:61:9e',
      up: true,
      carrier: false,
      noarp: false,
      operstate: 'DOWN',
      bridge: {
        stp: false,
        forwardDelay: 0,
        helloTime: 200,
        maxAge: 2000,
        nfCallIptables: 0,
        vlanFiltering: false,
      },
    });
  });

  it('reads a bridge port with its master and veth peer', () => {
    expect(links[3]).toMatchObject({
      name: 'eth0',
      kind: 'veth',
      master: 'xenbr0',
      up: true,
      carrier: false,
      peer: 'sw0',
    });
  });

  it('reads an 802.1Q device with its VID and real device, and a VLAN-aware bridge', () => {
    // As iproute2 6.1 prints them (ip -json -details link show), trimmed to what is read.
    const text = JSON.stringify([
      {
        ifindex: 7,
        link: 'bond0',
        ifname: 'bond0.100',
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        mtu: 1500,
        operstate: 'UP',
        address: '02:00:00:00:00:07',
        linkinfo: { info_kind: 'vlan', info_data: { protocol: '802.1Q', id: 100, flags: ['REORDER_HDR'] } },
      },
      {
        ifindex: 8,
        ifname: 'xenbr0',
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        mtu: 1500,
        operstate: 'UP',
        linkinfo: { info_kind: 'bridge', info_data: { stp_state: 0, vlan_filtering: 1 } },
      },
    ]);
    const [vlan, bridge] = parseLinks(text);
    expect(vlan?.vlan).toEqual({ id: 100, parent: 'bond0' });
    expect(vlan?.peer).toBeUndefined();
    expect(bridge?.bridge?.vlanFiltering).toBe(true);
  });

  it('refuses output that is not JSON', () => {
    expect(() => parseLinks('garbage')).toThrow(/cannot parse the JSON of ip -json -details link show/);
  });
});

describe('parseAddresses', () => {
  it('reads global addresses with their prefix', () => {
    expect(parseAddresses(fixture('address.json'))).toEqual([
      { dev: 'xenbr0', family: 'inet', local: '192.0.2.10', prefixlen: 24, scope: 'global' },
    ]);
  });

  it('marks an IPv6 address whose duplicate address detection failed (as ip -j prints it on Linux 6.1)', () => {
    const text = JSON.stringify([
      {
        ifindex: 5,
        ifname: 'xenbr0',
        addr_info: [
          {
            family: 'inet6',
            local: 'fe80::5054:ff:fe12:3456',
            prefixlen: 64,
            scope: 'link',
            dadfailed: true,
            tentative: true,
            valid_life_time: 4294967295,
            preferred_life_time: 4294967295,
          },
        ],
      },
    ]);
    expect(parseAddresses(text)).toEqual([
      {
        dev: 'xenbr0',
        family: 'inet6',
        local: 'fe80::5054:ff:fe12:3456',
        prefixlen: 64,
        scope: 'link',
        dadFailed: true,
      },
    ]);
  });
});

describe('parseRoutes', () => {
  it('reads main and local table routes', () => {
    const routes = parseRoutes(fixture('route.json'), 'inet');
    expect(routes[0]).toEqual({ dst: 'default', family: 'inet', dev: 'xenbr0', gateway: '192.0.2.1' });
    expect(routes[1]).toEqual({
      dst: '192.0.2.0/24',
      family: 'inet',
      dev: 'xenbr0',
      protocol: 'kernel',
      scope: 'link',
      prefsrc: '192.0.2.10',
    });
    expect(routes[2]).toMatchObject({ dst: '192.0.2.10', table: 'local', type: 'local' });
  });
});

describe('splitDocuments', () => {
  it('splits ip -batch JSON output, one document per line', () => {
    expect(splitDocuments('[1]\n[2]\n\n[3]\n')).toEqual(['[1]', '[2]', '[3]']);
  });
});

describe('parseRoutes with both families (table all)', () => {
  it('tells IPv6 routes by their addresses', () => {
    const text = JSON.stringify([
      { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
      { dst: 'default', gateway: '2001:db8::1', dev: 'eth0', metric: 1024 },
      { dst: '2001:db8::/64', dev: 'eth0', protocol: 'kernel', metric: 256 },
    ]);
    expect(parseRoutes(text).map((r) => [r.dst, r.family])).toEqual([
      ['default', 'inet'],
      ['default', 'inet6'],
      ['2001:db8::/64', 'inet6'],
    ]);
  });
});
