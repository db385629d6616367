import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireCommand, requireNetns } from '../support/env.ts';
import { cable, Netns } from '../support/netns.ts';
import { libxlEnv, XenHost } from '../support/xen.ts';

// Routed (vif-xenplan-route) and NAT (vif-xenplan-nat) guests as libxl runs them: the built
// bundle under those names, in a dom0 namespace with no bridge, against the xenstore stand-in.
// Upstream routes 198.51.100.0/24 and 2001:db8:5::/64 to dom0 (a hosting provider's routed
// subnet); it has no route to 203.0.113.0/24, so the NAT guest gets answers only masqueraded.
const can = requireNetns();
const nft = can.ok && requireCommand('nft');

describe.runIf(can.ok && nft)('vif modes without a bridge', () => {
  const scripts = new Scripts();
  const xen = new XenHost();
  let dom0: Netns;
  let upstream: Netns;
  const guests: Netns[] = [];

  /** A guest behind vifDOMID.0, its eth0 with the backend's MAC, as netfront takes it. */
  function guest(domid: number): Netns {
    const ns = new Netns(`m${domid}`);
    guests.push(ns);
    dom0.ip('link', 'add', `vif${domid}.0`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
    ns.ip('link', 'set', 'eth0', 'address', macOf(domid));
    ns.ip('link', 'set', 'eth0', 'up');
    return ns;
  }
  const macOf = (domid: number) => `00:16:3e:00:${domid.toString(16).padStart(2, '0')}:00`;

  const run = (name: 'vif-xenplan-route' | 'vif-xenplan-nat', domid: number, args: string[]) =>
    scripts.run(name, args, { ns: dom0, env: { ...xen.env(), ...libxlEnv(domid, 0, { netdev: 'eth0' }) } });

  /** Routes through `dev`, as ip -j prints them (kernel-made ones left out). */
  const routesOn = (dev: string, family: '-4' | '-6') =>
    dom0
      .json<{ dst: string; protocol?: string; metric?: number; prefsrc?: string }[]>(
        family,
        'route',
        'show',
        'dev',
        dev,
      )
      .filter((r) => r.protocol !== 'kernel')
      .map((r) => ({ dst: r.dst, metric: r.metric, prefsrc: r.prefsrc }));
  const globalAddresses = (dev: string) =>
    dom0
      .json<{ addr_info: { local: string; prefixlen: number; scope: string }[] }[]>(
        'address',
        'show',
        'dev',
        dev,
      )
      .flatMap((l) => l.addr_info)
      .filter((a) => a.scope === 'global')
      .map((a) => `${a.local}/${a.prefixlen}`);
  const sysctl = (key: string) => dom0.exec(['cat', `/proc/sys/${key}`]).stdout.trim();

  beforeAll(async () => {
    await xen.start();
    dom0 = new Netns('mode-dom0');
    upstream = new Netns('mode-up');
    cable(dom0, 'eth0', upstream, 'gw0');
    dom0.ip('address', 'add', '192.0.2.2/24', 'dev', 'eth0');
    dom0.ip('address', 'add', '2001:db8::2/64', 'dev', 'eth0', 'nodad');
    dom0.ip('link', 'set', 'eth0', 'up');
    upstream.ip('address', 'add', '192.0.2.1/24', 'dev', 'gw0');
    upstream.ip('address', 'add', '2001:db8::1/64', 'dev', 'gw0', 'nodad');
    upstream.ip('link', 'set', 'gw0', 'up');
    upstream.ip('route', 'add', '198.51.100.0/24', 'via', '192.0.2.2');
    upstream.ip('-6', 'route', 'add', '2001:db8:5::/64', 'via', '2001:db8::2');
    // dom0 as a router: the admin's part, as with Xen's vif-route.
    for (const key of ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'])
      expect(dom0.exec(['sysctl', '-q', '-w', key]).status).toBe(0);
  });

  afterAll(async () => {
    for (const ns of [dom0, upstream, ...guests]) ns?.delete();
    scripts.remove();
    await xen.stop();
  });

  describe('routed (vif-xenplan-route, Xen vif-route)', () => {
    it('online gives vif7.0 dom0 address, proxy ARP, forwarding and a host route per guest address, IPv4 and IPv6', () => {
      const g = guest(7);
      g.ip('address', 'add', '198.51.100.7/32', 'dev', 'eth0');
      g.ip('address', 'add', '2001:db8:5::7/128', 'dev', 'eth0', 'nodad');
      g.ip('route', 'add', 'default', 'via', '192.0.2.2', 'dev', 'eth0', 'onlink');
      g.ip('-6', 'route', 'add', 'default', 'via', '2001:db8::2', 'dev', 'eth0', 'onlink');
      xen.addVif(7, 0, { ip: '198.51.100.7 2001:db8:5::7' });
      expect(g.ping('192.0.2.1', 1, 1)).toBe(false);
      const online = run('vif-xenplan-route', 7, ['online', 'type_if=vif']);
      expect(online.stderr).toBe('');
      expect(online.status).toBe(0);
      expect(xen.read('backend/vif/7/0/hotplug-status')).toBe('connected');
      expect(globalAddresses('vif7.0').sort()).toEqual(['192.0.2.2/32', '2001:db8::2/128']);
      expect(routesOn('vif7.0', '-4')).toEqual([{ dst: '198.51.100.7', metric: 2, prefsrc: '192.0.2.2' }]);
      expect(routesOn('vif7.0', '-6')).toEqual([{ dst: '2001:db8:5::7', metric: 2, prefsrc: '2001:db8::2' }]);
      expect(sysctl('net/ipv4/conf/vif7.0/proxy_arp')).toBe('1');
      expect(sysctl('net/ipv4/conf/vif7.0/forwarding')).toBe('1');
      expect(dom0.link('vif7.0').master).toBeUndefined();
      // IPv6 neighbours answer only once duplicate address detection of link-locals is done.
      g.settle();
      dom0.settle();
      expect(g.ping('192.0.2.1')).toBe(true);
      expect(g.ping('2001:db8::1')).toBe(true);
    });

    it('online again plans nothing and changes nothing', () => {
      const before = dom0.snapshot();
      const dry = run('vif-xenplan-route', 7, ['online', 'type_if=vif', '--dry-run', '--json']);
      expect(dry.status).toBe(0);
      expect(JSON.parse(dry.stdout).steps).toEqual([]);
      expect(run('vif-xenplan-route', 7, ['online', 'type_if=vif']).status).toBe(0);
      expect(JSON.parse(dom0.snapshot())).toEqual(JSON.parse(before));
    });

    it('offline leaves no route, no address and the vif down', () => {
      xen.rm('backend/vif/7/0/hotplug-status');
      const offline = run('vif-xenplan-route', 7, ['offline', 'type_if=vif']);
      expect(offline.stderr).toBe('');
      expect(offline.status).toBe(0);
      expect(routesOn('vif7.0', '-4')).toEqual([]);
      expect(routesOn('vif7.0', '-6')).toEqual([]);
      expect(globalAddresses('vif7.0')).toEqual([]);
      expect(dom0.link('vif7.0').flags).not.toContain('UP');
      expect(xen.read('backend/vif/7/0/hotplug-status')).toBeUndefined();
      const again = run('vif-xenplan-route', 7, ['offline', 'type_if=vif', '--dry-run', '--json']);
      expect(JSON.parse(again.stdout).steps).toEqual([]);
    });

    it('a gateway device that does not exist fails online in xenstore, naming it', () => {
      guest(18);
      xen.addVif(18, 0, { ip: '198.51.100.18' });
      const online = scripts.run('vif-xenplan-route', ['online', 'type_if=vif'], {
        ns: dom0,
        env: { ...xen.env(), ...libxlEnv(18, 0, { netdev: 'eth9' }) },
      });
      expect(online.status).toBe(1);
      expect(xen.read('backend/vif/18/0/hotplug-status')).toBe('error');
      expect(xen.read('backend/vif/18/0/hotplug-error')).toBe(
        'gateway device eth9 does not exist; set gatewaydev= in the vif config (libxl passes it as netdev)',
      );
    });

    it('a guest without ip fails online in xenstore, naming the key, and changes nothing', () => {
      guest(17);
      xen.addVif(17, 0, {});
      const before = dom0.snapshot();
      const online = run('vif-xenplan-route', 17, ['online', 'type_if=vif']);
      expect(online.status).toBe(1);
      expect(xen.read('backend/vif/17/0/hotplug-status')).toBe('error');
      expect(xen.read('backend/vif/17/0/hotplug-error')).toMatch(
        /routed guest needs its addresses in the vif's ip key/,
      );
      expect(JSON.parse(dom0.snapshot())).toEqual(JSON.parse(before));
    });
  });

  describe('NAT (vif-xenplan-nat, Xen vif-nat)', () => {
    const natSet = () => {
      const listed = dom0.exec(['nft', '-j', 'list', 'set', 'ip', 'xenplan_nat', 'guests']);
      if (listed.status !== 0) return [];
      const doc = JSON.parse(listed.stdout) as { nftables: { set?: { elem?: string[] } }[] };
      return doc.nftables.flatMap((e) => e.set?.elem ?? []);
    };

    it('online gives vif8.0 the router address (guest + 127), a host route, and masquerades the guest', () => {
      const g = guest(8);
      g.ip('address', 'add', '203.0.113.8/24', 'dev', 'eth0');
      g.ip('route', 'add', 'default', 'via', '203.0.113.135');
      xen.addVif(8, 0, { ip: '203.0.113.8' });
      expect(g.ping('192.0.2.1', 1, 1)).toBe(false);
      const online = run('vif-xenplan-nat', 8, ['online', 'type_if=vif']);
      expect(online.stderr).toBe('');
      expect(online.status).toBe(0);
      expect(xen.read('backend/vif/8/0/hotplug-status')).toBe('connected');
      expect(globalAddresses('vif8.0')).toEqual(['203.0.113.135/32']);
      expect(routesOn('vif8.0', '-4')).toEqual([
        { dst: '203.0.113.8', metric: undefined, prefsrc: '203.0.113.135' },
      ]);
      expect(natSet()).toEqual(['203.0.113.8']);
      // Upstream has no route back to 203.0.113.0/24: only masqueraded packets get answers.
      expect(g.ping('192.0.2.1')).toBe(true);
    });

    it('online again plans nothing', () => {
      const dry = run('vif-xenplan-nat', 8, ['online', 'type_if=vif', '--dry-run', '--json']);
      expect(dry.status).toBe(0);
      expect(JSON.parse(dry.stdout).steps).toEqual([]);
    });

    it('two guests coming online at once both land in the set, under the one rule', async () => {
      for (const domid of [9, 10]) {
        const g = guest(domid);
        g.ip('address', 'add', `203.0.113.${domid}/24`, 'dev', 'eth0');
        xen.addVif(domid, 0, { ip: `203.0.113.${domid}` });
      }
      const runs = await Promise.all(
        [9, 10].map((domid) =>
          scripts.start('vif-xenplan-nat', ['online', 'type_if=vif'], {
            ns: dom0,
            env: { ...xen.env(), ...libxlEnv(domid, 0) },
          }),
        ),
      );
      expect(runs.map((r) => [r.status, r.stderr])).toEqual([
        [0, ''],
        [0, ''],
      ]);
      expect(natSet().sort()).toEqual(['203.0.113.10', '203.0.113.8', '203.0.113.9']);
      const rules = dom0.exec(['nft', '-j', 'list', 'chain', 'ip', 'xenplan_nat', 'postrouting']);
      expect((JSON.parse(rules.stdout).nftables as { rule?: unknown }[]).filter((e) => e.rule).length).toBe(
        1,
      );
    });

    it('offline of a guest whose vif is already gone still takes it out of the set', () => {
      dom0.ip('link', 'del', 'vif9.0');
      const offline = run('vif-xenplan-nat', 9, ['offline', 'type_if=vif']);
      expect(offline.stderr).toBe('');
      expect(offline.status).toBe(0);
      expect(natSet().sort()).toEqual(['203.0.113.10', '203.0.113.8']);
      expect(run('vif-xenplan-nat', 10, ['offline', 'type_if=vif']).status).toBe(0);
    });

    it('a vlan key on a NAT vif is refused in xenstore, not ignored', () => {
      guest(11);
      xen.addVif(11, 0, { ip: '203.0.113.11', vlan: '10p/20' });
      const online = run('vif-xenplan-nat', 11, ['online', 'type_if=vif']);
      expect(online.status).toBe(1);
      expect(xen.read('backend/vif/11/0/hotplug-error')).toMatch(/a NAT vif carries no VLANs/);
      expect(natSet()).not.toContain('203.0.113.11');
    });

    it('offline takes the guest out of the masquerade set and leaves no route or address', () => {
      const offline = run('vif-xenplan-nat', 8, ['offline', 'type_if=vif']);
      expect(offline.stderr).toBe('');
      expect(offline.status).toBe(0);
      expect(natSet()).toEqual([]);
      expect(routesOn('vif8.0', '-4')).toEqual([]);
      expect(globalAddresses('vif8.0')).toEqual([]);
    });
  });

  describe('antispoofing without a bridge (vif-antispoof=ip: the netdev table, on the vif ingress)', () => {
    const status = () => {
      const r = scripts.run('xenplan', ['antispoof', 'status', '--json'], { ns: dom0, env: xen.env() });
      return JSON.parse(r.stdout) as {
        ok: boolean;
        guests: { vif: string; family: string; mapped: boolean; dropped: Record<string, number> }[];
      };
    };
    const dropped = (vif: string) => status().guests.find((g) => g.vif === vif)?.dropped ?? {};
    const chains = () => {
      const listed = dom0.exec(['nft', '-j', 'list', 'table', 'netdev', 'xenplan']);
      if (listed.status !== 0) return [];
      return (JSON.parse(listed.stdout).nftables as { chain?: { name: string } }[]).flatMap((o) =>
        o.chain ? [o.chain.name] : [],
      );
    };

    it('a routed guest reaches upstream from its address only; a second address and a changed MAC are dropped and counted', () => {
      const g = guest(12);
      g.ip('address', 'add', '198.51.100.12/32', 'dev', 'eth0');
      g.ip('address', 'add', '198.51.100.99/32', 'dev', 'eth0');
      g.ip('route', 'add', 'default', 'via', '192.0.2.2', 'dev', 'eth0', 'onlink', 'src', '198.51.100.12');
      xen.addVif(12, 0, { ip: '198.51.100.12' });
      const online = run('vif-xenplan-route', 12, ['online', 'type_if=vif']);
      expect(online.stderr).toBe('');
      expect(online.status).toBe(0);
      expect(chains()).toEqual(['guest-vif12.0']);
      expect(status().guests.map((x) => [x.vif, x.family, x.mapped])).toEqual([['vif12.0', 'netdev', true]]);
      expect(g.ping('192.0.2.1')).toBe(true);
      // Upstream routes 198.51.100.0/24 back to dom0: only the filter stops the spoofed ping.
      const before = dropped('vif12.0').ipv4 ?? 0;
      expect(g.exec(['ping', '-c', '2', '-W', '1', '-I', '198.51.100.99', '192.0.2.1']).status).not.toBe(0);
      expect(dropped('vif12.0').ipv4).toBeGreaterThan(before);
      g.ip('link', 'set', 'eth0', 'address', '00:16:3e:00:99:99');
      const macBefore = dropped('vif12.0').mac ?? 0;
      expect(g.ping('192.0.2.1', 2, 1)).toBe(false);
      expect(dropped('vif12.0').mac).toBeGreaterThan(macBefore);
      g.ip('link', 'set', 'eth0', 'address', macOf(12));
      expect(g.ping('192.0.2.1')).toBe(true);
    });

    it('online again plans nothing; offline removes the chain and the mark', () => {
      const dry = run('vif-xenplan-route', 12, ['online', 'type_if=vif', '--dry-run', '--json']);
      expect(JSON.parse(dry.stdout).steps).toEqual([]);
      const offline = run('vif-xenplan-route', 12, ['offline', 'type_if=vif']);
      expect(offline.stderr).toBe('');
      expect(offline.status).toBe(0);
      expect(chains()).toEqual([]);
      expect(existsSync(`${xen.env().XENPLAN_RUN_DIR}/antispoof/vif12.0`)).toBe(false);
      expect(status().ok).toBe(true);
    });

    it('a NAT guest is filtered the same way', () => {
      const g = guest(13);
      g.ip('address', 'add', '203.0.113.13/24', 'dev', 'eth0');
      g.ip('address', 'add', '203.0.113.99/24', 'dev', 'eth0');
      g.ip('route', 'add', 'default', 'via', '203.0.113.140', 'src', '203.0.113.13');
      xen.addVif(13, 0, { ip: '203.0.113.13' });
      expect(run('vif-xenplan-nat', 13, ['online', 'type_if=vif']).status).toBe(0);
      expect(g.ping('192.0.2.1')).toBe(true);
      const before = dropped('vif13.0').ipv4 ?? 0;
      expect(g.exec(['ping', '-c', '2', '-W', '1', '-I', '203.0.113.99', '192.0.2.1']).status).not.toBe(0);
      expect(dropped('vif13.0').ipv4).toBeGreaterThan(before);
      expect(run('vif-xenplan-nat', 13, ['offline', 'type_if=vif']).status).toBe(0);
      expect(chains()).toEqual([]);
    });
  });
});
