import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { Capture } from '../support/capture.ts';
import { requireCommand, requireNetns } from '../support/env.ts';
import { dhcpDiscover, sendFrame } from '../support/frames.ts';
import { cable, Netns } from '../support/netns.ts';
import { libxlEnv, XenHost } from '../support/xen.ts';
import { upstreamVifBridge } from '../support/xen-scripts.ts';

// A host that filters bridged traffic with iptables (br_netfilter on, FORWARD policy DROP, as
// Docker or network-bridge antispoof=yes leave it): Xen's own vif-bridge, with the iptables
// step upstream runs, and xenplan set up as `xenplan install` recommends for such a host
// (two static ACCEPT rules in place of vif-bridge's pair per vif) give the guest the same
// reachability: out from its listed address only, DHCP requests, everything towards it.
const can = requireNetns();
const tools =
  can.ok &&
  requireCommand('nft') &&
  requireCommand('iptables') &&
  requireCommand('python3') &&
  requireCommand('xenstore-read') &&
  requireCommand('apt-get') &&
  requireCommand('dpkg');

const GUEST_MAC = '00:16:3e:00:05:00';
/** Xen's script starts some 40 processes per event and each check pings: slow on a busy machine. */
const SLOW_MS = 180_000;

/** What `xenplan install` prints for such a host (src/plan/install-notes.ts). */
const RECOMMENDED = [
  ['-I', 'FORWARD', '-m', 'physdev', '--physdev-is-bridged', '--physdev-in', 'vif+', '-j', 'ACCEPT'],
  ['-I', 'FORWARD', '-m', 'physdev', '--physdev-is-bridged', '--physdev-out', 'vif+', '-j', 'ACCEPT'],
];

describe.runIf(tools)("a DROP-policy iptables host: Xen's vif-bridge and xenplan", () => {
  const scripts = new Scripts();
  const xen = new XenHost();
  let xenDir: string;
  let dom0: Netns;
  let gw: Netns;
  let g: Netns;
  let capture: Capture;

  const env = () => ({ ...xen.env(), ...libxlEnv(5, 0) });

  /** Xen's script as libxl runs it, with /var/log and /run private to the run (ip netns exec's mount namespace). */
  function vifBridge(command: 'online' | 'offline') {
    const varlog = join(xen.dir, 'varlog');
    const run = join(xen.dir, 'xenrun');
    mkdirSync(join(varlog, 'xen'), { recursive: true });
    mkdirSync(join(run, 'xen-hotplug'), { recursive: true });
    return dom0.exec(
      [
        'sh',
        '-c',
        'mount --bind "$1" /var/log && mount --bind "$2" /run && shift 2 && exec "$@"',
        'sh',
        varlog,
        run,
        join(xenDir, 'vif-bridge'),
        command,
        'type_if=vif',
      ],
      { env: env() },
    );
  }

  /** What the guest can reach, and what can reach it. */
  function reachability() {
    const before = capture.counts().dhcp ?? 0;
    sendFrame(g, 'eth0', dhcpDiscover(GUEST_MAC));
    return {
      pingsGateway: g.ping('192.0.2.1', 2, 5),
      fromSecondAddress:
        g.exec(['ping', '-n', '-q', '-c', '2', '-w', '2', '-I', '192.0.2.99', '192.0.2.1']).status === 0,
      gatewayReachesGuest: gw.exec(['ping', '-n', '-q', '-c', '2', '-w', '2', '192.0.2.21']).status === 0,
      dhcpDiscover: capture.waitAbove('dhcp', before, 5000) > before,
    };
  }

  const iptables = (...args: string[]) => dom0.exec(['iptables', ...args]);

  beforeAll(async () => {
    if (!existsSync('/proc/sys/net/bridge')) execFileSync('modprobe', ['br_netfilter']);
    xenDir = upstreamVifBridge();
    await xen.start();
    dom0 = new Netns('asx-dom0');
    gw = new Netns('asx-gw');
    g = new Netns('asx-g5');
    dom0.exec(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
    expect(iptables('-P', 'FORWARD', 'DROP').status).toBe(0);
    dom0.ip('link', 'add', 'xenbr0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    cable(dom0, 'eth0', gw, 'gw0');
    dom0.ip('link', 'set', 'eth0', 'master', 'xenbr0');
    dom0.ip('link', 'set', 'eth0', 'up');
    dom0.ip('link', 'set', 'xenbr0', 'up');
    gw.ip('address', 'add', '192.0.2.1/24', 'dev', 'gw0');
    gw.ip('link', 'set', 'gw0', 'up');
    capture = new Capture(gw, 'gw0', { dhcp: 'ip saddr 0.0.0.0 udp dport 67' });
    dom0.ip('link', 'add', 'vif5.0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', g.name);
    g.ip('link', 'set', 'eth0', 'address', GUEST_MAC);
    g.ip('address', 'add', '192.0.2.21/24', 'dev', 'eth0');
    g.ip('address', 'add', '192.0.2.99/24', 'dev', 'eth0');
    g.ip('link', 'set', 'eth0', 'up');
    xen.addVif(5, 0, { bridge: 'xenbr0', ip: '192.0.2.21' });
  });

  afterAll(async () => {
    for (const ns of [dom0, gw, g]) ns?.delete();
    if (xenDir) rmSync(xenDir, { recursive: true, force: true });
    scripts.remove();
    await xen.stop();
  });

  const expected = {
    pingsGateway: true,
    fromSecondAddress: false,
    // vif-bridge accepts everything towards a vif (--physdev-out, no state match).
    gatewayReachesGuest: true,
    dhcpDiscover: true,
  };

  it(
    "Xen's vif-bridge (iptables step enabled): its per-vif rules let the listed address out",
    () => {
      const run = vifBridge('online');
      expect(run.status, run.stderr).toBe(0);
      expect(xen.read('backend/vif/5/0/hotplug-status')).toBe('connected');
      expect(iptables('-S', 'FORWARD').stdout).toContain('--physdev-in vif5.0');
      expect(reachability()).toEqual(expected);
      expect(vifBridge('offline').status).toBe(0);
      expect(iptables('-S', 'FORWARD').stdout).not.toContain('vif5.0');
      xen.rm('backend/vif/5/0/hotplug-status');
    },
    SLOW_MS,
  );

  it(
    'xenplan alone on this host: the DROP policy cuts the guest off (what doctor NF002 reports)',
    () => {
      const run = scripts.run('vif-script', ['online', 'type_if=vif'], { ns: dom0, env: env() });
      expect(run.status, run.stderr).toBe(0);
      expect(g.ping('192.0.2.1', 1, 2)).toBe(false);
    },
    SLOW_MS,
  );

  it(
    "xenplan with install's two rules for such a host: the same reachability as vif-bridge",
    () => {
      for (const rule of RECOMMENDED) expect(iptables(...rule).status).toBe(0);
      expect(reachability()).toEqual(expected);
      expect(scripts.run('vif-script', ['offline', 'type_if=vif'], { ns: dom0, env: env() }).status).toBe(0);
    },
    SLOW_MS,
  );
});
