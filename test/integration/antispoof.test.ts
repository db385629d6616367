import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { Capture } from '../support/capture.ts';
import { requireCommand, requireNetns } from '../support/env.ts';
import { dhcpDiscover, gratuitousArp, routerAdvert, sendFrame, udp4 } from '../support/frames.ts';
import { cable, Netns } from '../support/netns.ts';
import { expectReport } from '../support/schema.ts';
import { libxlEnv, XenHost } from '../support/xen.ts';

// Per-guest antispoofing through the built bundle as libxl runs it, with real traffic: a guest
// namespace behind vif5.0 (backend ip=192.0.2.21) in dom0's xenbr0, and a gateway namespace
// whose ingress counts what reaches it. Once with bridged frames skipping iptables and once
// with br_netfilter handing them to it: the nftables bridge family filters in both.
const can = requireNetns();
const tools = can.ok && requireCommand('nft') && requireCommand('python3');

const GUEST_MAC = '00:16:3e:00:05:00';
const GUEST_LL = 'fe80::216:3eff:fe00:500';
const GW_MAC = '00:16:3e:00:00:01';
const GW_LL = 'fe80::216:3eff:fe00:1';

describe.runIf(tools).each([0, 1])('antispoofing, bridge-nf-call-iptables=%i', (nf) => {
  const scripts = new Scripts();
  const xen = new XenHost();
  let dom0: Netns;
  let gw: Netns;
  let g: Netns;
  let capture: Capture;
  let markers = 0;

  const env = () => ({ ...xen.env(), ...libxlEnv(5, 0) });
  const vif = (args: string[]) => scripts.run('vif-script', args, { ns: dom0, env: env() });
  const dropped = (): Record<string, number> => {
    const run = scripts.run('xenplan', ['antispoof', 'status', '--json'], { ns: dom0, env: xen.env() });
    const guest = (
      expectReport(run.stdout).guests as { vif: string; dropped: Record<string, number> }[]
    ).find((x: { vif: string }) => x.vif === 'vif5.0');
    return guest?.dropped ?? {};
  };
  /** A frame the filter lets through, sent after the ones under test: once it is counted, they were too or never came. */
  const marker = () => {
    sendFrame(g, 'eth0', udp4(GUEST_MAC, GW_MAC, ['192.0.2.21', 40000], ['192.0.2.1', 9]));
    markers += 1;
    expect(capture.waitAbove('marker', markers - 1)).toBe(markers);
  };

  beforeAll(async () => {
    // br_netfilter's sysctls appear once the module is in (kmod is in scripts/deps.sh).
    if (!existsSync('/proc/sys/net/bridge')) execFileSync('modprobe', ['br_netfilter']);
    await xen.start();
    dom0 = new Netns('as-dom0');
    gw = new Netns('as-gw');
    g = new Netns('as-g5');
    dom0.exec(['sysctl', '-q', '-w', `net.bridge.bridge-nf-call-iptables=${nf}`]);
    dom0.exec(['sysctl', '-q', '-w', `net.bridge.bridge-nf-call-ip6tables=${nf}`]);
    dom0.exec(['sysctl', '-q', '-w', `net.bridge.bridge-nf-call-arptables=${nf}`]);
    dom0.ip('link', 'add', 'xenbr0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    cable(dom0, 'eth0', gw, 'gw0');
    dom0.ip('link', 'set', 'eth0', 'master', 'xenbr0');
    dom0.ip('link', 'set', 'eth0', 'up');
    dom0.ip('link', 'set', 'xenbr0', 'up');
    gw.ip('link', 'set', 'gw0', 'address', GW_MAC);
    gw.ip('address', 'add', '192.0.2.1/24', 'dev', 'gw0');
    gw.ip('address', 'add', '2001:db8::1/64', 'dev', 'gw0', 'nodad');
    gw.ip('link', 'set', 'gw0', 'up');
    capture = new Capture(gw, 'gw0', {
      marker: 'udp dport 9',
      'ping-guest': 'ip saddr 192.0.2.21 icmp type echo-request',
      'spoofed-ip': 'ip saddr 192.0.2.99',
      'spoofed-mac': 'ether saddr 00:16:3e:99:99:99',
      'garp-gw': 'arp saddr ip 192.0.2.1',
      'dhcp-discover': 'ip saddr 0.0.0.0 udp dport 67',
      'ipv6-unlisted': 'ip6 saddr 2001:db8::99',
      'ipv6-ll': `ip6 saddr ${GUEST_LL} icmpv6 type echo-request`,
      ra: 'icmpv6 type nd-router-advert',
    });
    dom0.ip('link', 'add', 'vif5.0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', g.name);
    g.ip('link', 'set', 'eth0', 'address', GUEST_MAC);
    g.ip('address', 'add', '192.0.2.21/24', 'dev', 'eth0');
    g.ip('link', 'set', 'eth0', 'up');
    xen.addVif(5, 0, { bridge: 'xenbr0', ip: '192.0.2.21' });
  });

  afterAll(async () => {
    for (const ns of [dom0, gw, g]) ns?.delete();
    scripts.remove();
    await xen.stop();
  });

  it('online filters the guest in one nft transaction, shown by dry-run first', () => {
    const dry = vif(['online', 'type_if=vif', '--dry-run']);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain("nft -f - <<'XENPLAN_INPUT'\nadd table bridge xenplan\n");
    expect(dry.stdout).toContain('add element bridge xenplan vifs { "vif5.0" : goto guest-vif5.0 }\n');
    const run = vif(['online', 'type_if=vif']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(xen.read('backend/vif/5/0/hotplug-status')).toBe('connected');
    expect(Object.keys(dropped()).sort()).toEqual(
      ['arp-ip', 'arp-mac', 'dhcp-server', 'ipv4', 'ipv6', 'mac', 'ra', 'vlan'].sort(),
    );
  });

  it('a converged guest plans nothing', () => {
    const dry = vif(['online', 'type_if=vif', '--dry-run', '--json']);
    expect(expectReport(dry.stdout).steps).toEqual([]);
  });

  it('the guest pings the gateway from its own address', () => {
    expect(g.ping('192.0.2.1')).toBe(true);
    expect(capture.counts()['ping-guest']).toBeGreaterThan(0);
  });

  it('from a second address: no reply, nothing reaches the gateway, counted as ipv4', () => {
    g.ip('address', 'add', '192.0.2.99/24', 'dev', 'eth0');
    const before = dropped().ipv4 ?? 0;
    expect(
      g.exec(['ping', '-n', '-q', '-c', '2', '-w', '2', '-I', '192.0.2.99', '192.0.2.1']).status,
    ).not.toBe(0);
    marker();
    expect(capture.counts()['spoofed-ip']).toBe(0);
    expect(dropped().ipv4).toBeGreaterThan(before);
    g.ip('address', 'del', '192.0.2.99/24', 'dev', 'eth0');
  });

  it('with its MAC changed nothing gets through, counted as mac', () => {
    g.ip('link', 'set', 'eth0', 'address', '00:16:3e:99:99:99');
    const before = dropped().mac ?? 0;
    expect(g.ping('192.0.2.1', 2, 2)).toBe(false);
    g.ip('link', 'set', 'eth0', 'address', GUEST_MAC);
    marker();
    expect(capture.counts()['spoofed-mac']).toBe(0);
    expect(dropped().mac).toBeGreaterThan(before);
  });

  it("a gratuitous ARP claiming the gateway's address never reaches it, counted as arp-ip", () => {
    const before = dropped()['arp-ip'] ?? 0;
    sendFrame(g, 'eth0', gratuitousArp(GUEST_MAC, '192.0.2.1'));
    marker();
    expect(capture.counts()['garp-gw']).toBe(0);
    expect(dropped()['arp-ip']).toBe(before + 1);
  });

  it('a DHCP discover from 0.0.0.0 reaches the gateway', () => {
    sendFrame(g, 'eth0', dhcpDiscover(GUEST_MAC));
    expect(capture.waitAbove('dhcp-discover', 0)).toBe(1);
  });

  it('IPv6 from an unlisted global address is dropped; from its MAC-derived link-local it passes', () => {
    g.ip('address', 'add', '2001:db8::99/64', 'dev', 'eth0', 'nodad');
    const before = dropped().ipv6 ?? 0;
    expect(
      g.exec(['ping', '-n', '-q', '-c', '2', '-w', '2', '-I', '2001:db8::99', '2001:db8::1']).status,
    ).not.toBe(0);
    marker();
    expect(capture.counts()['ipv6-unlisted']).toBe(0);
    expect(dropped().ipv6).toBeGreaterThan(before);
    g.settle();
    expect(g.ping(`${GW_LL}%eth0`)).toBe(true);
    expect(capture.counts()['ipv6-ll']).toBeGreaterThan(0);
    g.ip('address', 'del', '2001:db8::99/64', 'dev', 'eth0');
  });

  it('a router advertisement from the guest is dropped, counted as ra', () => {
    const before = dropped().ra ?? 0;
    sendFrame(g, 'eth0', routerAdvert(GUEST_MAC, GUEST_LL));
    marker();
    expect(capture.counts().ra).toBe(0);
    expect(dropped().ra).toBe(before + 1);
  });

  it('offline removes exactly the guest rules', () => {
    const run = vif(['offline', 'type_if=vif']);
    expect(run.status).toBe(0);
    const status = scripts.run('xenplan', ['antispoof', 'status', '--json'], { ns: dom0, env: xen.env() });
    expect(status.status).toBe(0);
    expect(expectReport(status.stdout).guests).toEqual([]);
    const table = dom0.exec(['nft', 'list', 'table', 'bridge', 'xenplan']).stdout;
    expect(table).not.toContain('vif5.0');
    expect(table).toContain('iifname vmap @vifs');
  });

  it('status shows the rules of a vif that is gone (exit 3); gc removes exactly those', () => {
    const xenplan = (...args: string[]) => scripts.run('xenplan', args, { ns: dom0, env: xen.env() });
    for (const d of [6, 7]) {
      dom0.ip('link', 'add', `vif${d}.0`, 'type', 'veth', 'peer', 'name', `p${d}`);
      xen.addVif(d, 0, { bridge: 'xenbr0', ip: `192.0.2.${d}` });
      const run = scripts.run('vif-script', ['online', 'type_if=vif'], {
        ns: dom0,
        env: { ...xen.env(), ...libxlEnv(d, 0) },
      });
      expect(run.status, run.stderr).toBe(0);
    }
    dom0.ip('link', 'del', 'vif6.0');
    const status = xenplan('antispoof', 'status');
    expect(status.status).toBe(3);
    expect(status.stdout).toContain('vif6.0 (bridge): vif gone (xenplan antispoof gc); dropped: ');
    expect(status.stdout).toContain('vif7.0 (bridge): filtered; dropped: ');
    const dry = xenplan('antispoof', 'gc', '--dry-run');
    expect(dry.stdout).toContain('# [firewall] rules of vifs that no longer exist: vif6.0\n');
    expect(xenplan('antispoof', 'gc').stdout).toBe('rules of vifs that no longer exist: vif6.0: done\n');
    const after = expectReport(xenplan('antispoof', 'status', '--json').stdout);
    expect((after.guests as { vif: string }[]).map((x) => x.vif)).toEqual(['vif7.0']);
    expect(xenplan('antispoof', 'status').status).toBe(0);
    // A firewall reload flushes everything: status says so, gc puts the rules back.
    expect(dom0.exec(['nft', 'flush', 'ruleset']).status).toBe(0);
    const flushed = xenplan('antispoof', 'status');
    expect(flushed.status).toBe(3);
    expect(flushed.stdout).toContain(
      'vif7.0: vif-script filtered it but its rules are gone; xenplan antispoof gc puts them back\n',
    );
    expect(xenplan('antispoof', 'gc').status).toBe(0);
    const restored = expectReport(xenplan('antispoof', 'status', '--json').stdout);
    expect((restored.guests as { vif: string; mapped: boolean }[]).map((x) => [x.vif, x.mapped])).toEqual([
      ['vif7.0', true],
    ]);
    expect(xenplan('antispoof', 'status').status).toBe(0);
  });
});
