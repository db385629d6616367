import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireCommand, requireNetns } from '../support/env.ts';
import { cable, Netns } from '../support/netns.ts';
import { expectReport } from '../support/schema.ts';

// network-script as xend runs it (the built bundle under its own name), on the host kernel in
// namespaces: "dom0" with eth0 cabled to "upstream", which holds the gateway 192.0.2.1.
const can = requireNetns();
const hasNft = can.ok && requireCommand('nft');

interface Layout {
  links: { name: string; master?: string; up: boolean }[];
  addresses: string[];
  routes: string[];
}

describe.runIf(can.ok && hasNft)('network-script start|stop|status in namespaces', () => {
  let dom0: Netns;
  let upstream: Netns;
  const scripts = new Scripts();
  const runDir = mkdtempSync(join(tmpdir(), 'xenplan-run-'));
  const logDir = join(runDir, 'log');
  const env = { XENPLAN_RUN_DIR: runDir, XENPLAN_LOG_DIR: logDir };
  const state = join(runDir, 'network-xenbr0.json');
  let original: Layout;

  const run = (...args: string[]) => scripts.run('network-script', args, { ns: dom0, env });

  /** What network-script is about: links and their masters, dom0's addresses, routes (no kernel ones). */
  function layout(): Layout {
    const links = dom0
      .json('link', 'show')
      .map((l) => ({
        name: String(l.ifname),
        ...(l.master === undefined ? {} : { master: String(l.master) }),
        up: (l.flags as string[]).includes('UP'),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const addresses = dom0
      .json<{ ifname: string; addr_info: { local: string; prefixlen: number; scope: string }[] }[]>(
        'address',
        'show',
      )
      .flatMap((l) =>
        l.addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen} ${l.ifname}`),
      )
      .sort();
    const routes = [
      ...dom0.ip('route', 'show').split('\n'),
      ...dom0
        .ip('-6', 'route', 'show')
        .split('\n')
        .filter((r) => !r.startsWith('fe80')),
    ]
      .map((r) => r.trim())
      .filter((r) => r !== '' && !r.includes('proto kernel'))
      .sort();
    return { links, addresses, routes };
  }

  beforeAll(() => {
    dom0 = new Netns('net-dom0');
    upstream = new Netns('net-up');
    cable(dom0, 'eth0', upstream, 'up0');
    upstream.ip('address', 'add', '192.0.2.1/24', 'dev', 'up0');
    upstream.ip('address', 'add', '2001:db8::1/64', 'dev', 'up0', 'nodad');
    upstream.ip('link', 'set', 'up0', 'up');
    dom0.ip('address', 'add', '192.0.2.10/24', 'dev', 'eth0');
    dom0.ip('address', 'add', '2001:db8::10/64', 'dev', 'eth0', 'nodad');
    dom0.ip('link', 'set', 'eth0', 'up');
    dom0.ip('route', 'add', 'default', 'via', '192.0.2.1');
    dom0.ip('route', 'add', '198.51.100.0/24', 'via', '192.0.2.1', 'metric', '50');
    dom0.ip('-6', 'route', 'add', 'default', 'via', '2001:db8::1');
    dom0.settle();
    original = layout();
  });

  afterAll(() => {
    for (const ns of [dom0, upstream]) ns?.delete();
    scripts.remove();
    rmSync(runDir, { recursive: true, force: true });
  });

  it('starts from dom0 on eth0 with its routes', () => {
    expect(original.addresses).toEqual(['192.0.2.10/24 eth0', '2001:db8::10/64 eth0']);
    expect(original.routes).toEqual([
      '198.51.100.0/24 via 192.0.2.1 dev eth0 metric 50',
      'default via 192.0.2.1 dev eth0',
      'default via 2001:db8::1 dev eth0 metric 1024 pref medium',
    ]);
    expect(dom0.ping('192.0.2.1')).toBe(true);
  });

  it('--dry-run prints the plan apply would run and changes nothing', () => {
    const before = dom0.snapshot();
    const dry = run('start', 'netdev=eth0', '--dry-run');
    expect(dry.stderr).toBe('');
    expect(dry.status).toBe(0);
    const mac = String(dom0.link('eth0').address);
    expect(dry.stdout).toContain(
      [
        '# [bridge] xenbr0 does not exist; create it (stp off, forward delay 0s)',
        'ip link add name xenbr0 type bridge stp_state 0 forward_delay 0',
        `# [bridge] xenbr0 MAC: want ${mac} (eth0's, pinned so it never changes as vifs come and go), have none yet`,
        `ip link set dev xenbr0 address ${mac}`,
        '# [port] eth0: want in xenbr0, have not in a bridge (interrupts traffic)',
        'ip link set dev eth0 master xenbr0',
      ].join('\n'),
    );
    expect(dry.stdout).toContain('ip route replace default via 192.0.2.1 dev xenbr0\n');
    expect(dry.stdout).toContain('ip route replace 198.51.100.0/24 via 192.0.2.1 dev xenbr0 metric 50\n');
    expect(dry.stdout).toContain('ip route replace ::/0 via 2001:db8::1 dev xenbr0 metric 1024\n');
    expect(dom0.snapshot()).toBe(before);
    expect(existsSync(state)).toBe(false);
    // An admin's words for the same thing: xenplan plan.
    const plan = scripts.run('xenplan', ['plan', 'netdev=eth0'], { ns: dom0, env });
    expect(plan.status).toBe(0);
    expect(plan.stdout).toBe(dry.stdout);
  });

  it('start moves addresses and routes to xenbr0; traffic flows after', () => {
    const mac = String(dom0.link('eth0').address);
    const started = run('start', 'netdev=eth0');
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);
    expect(started.stdout).toBe(
      "xenbr0: 11 step(s) applied; dom0's addresses on xenbr0; gateway 192.0.2.1 answers\n",
    );
    expect(layout()).toEqual({
      links: [
        { name: 'eth0', master: 'xenbr0', up: true },
        { name: 'lo', up: true },
        { name: 'xenbr0', up: true },
      ],
      addresses: ['192.0.2.10/24 xenbr0', '2001:db8::10/64 xenbr0'],
      routes: [
        '198.51.100.0/24 via 192.0.2.1 dev xenbr0 metric 50',
        'default via 192.0.2.1 dev xenbr0',
        'default via 2001:db8::1 dev xenbr0 metric 1024 pref medium',
      ],
    });
    expect(dom0.link('xenbr0').address).toBe(mac);
    expect(dom0.exec(['cat', '/sys/class/net/xenbr0/addr_assign_type']).stdout).toBe('3\n');
    expect(dom0.ping('192.0.2.1')).toBe(true);
    const record = JSON.parse(readFileSync(state, 'utf8'));
    expect(record.created).toEqual(['xenbr0']);
    expect(record.enslaved).toEqual([{ dev: 'eth0', master: 'xenbr0', up: true }]);
    // The kernel log's clock when the bring-up had settled (doctor's BR002 leaves older lines
    // out): past the start of this run, within the settle budget (5 s here) of now.
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect(record.settledAt).toBeGreaterThan(uptime - 60);
    expect(record.settledAt).toBeLessThan(uptime + 6);
  });

  it('a second start plans nothing, and a guest vif in the bridge is left alone', () => {
    cable(dom0, 'vif1.0', upstream, 'guest0');
    // Xen's MAC for vifs, so the bridge never adopts it (doctor's BR001 would warn otherwise).
    dom0.ip('link', 'set', 'vif1.0', 'address', 'fe:ff:ff:ff:ff:ff');
    dom0.ip('link', 'set', 'vif1.0', 'master', 'xenbr0', 'up');
    const dry = run('start', 'netdev=eth0', '--dry-run', '--json');
    expect(dry.status).toBe(0);
    expect(expectReport(dry.stdout)).toEqual({
      schema: 'xenplan/1',
      command: 'network start',
      ok: true,
      changed: false,
      dryRun: true,
      bridge: 'xenbr0',
      findings: [],
      steps: [],
      warnings: [],
      xenstore: [],
    });
    const again = run('start', 'netdev=eth0');
    expect(again.status).toBe(0);
    expect(again.stdout).toBe("xenbr0: already as wanted (0 steps); dom0's addresses on xenbr0\n");
    expect(dom0.link('vif1.0').master).toBe('xenbr0');
  });

  it('status reports the bridge, its ports and where the addresses live; drift exits 3', () => {
    const mac = String(dom0.link('xenbr0').address);
    const human = run('status', 'netdev=eth0');
    expect(human.stderr).toBe('');
    expect(human.status).toBe(0);
    expect(human.stdout).toBe(
      [
        `bridge xenbr0: up, stp off, forward delay 0s, MAC ${mac}`,
        '  port eth0: up, link up',
        '  port vif1.0: up, link down',
        "dom0's addresses (want them on xenbr0): 192.0.2.10/24 on xenbr0, 2001:db8::10/64 on xenbr0",
        'default route: default via 192.0.2.1 dev xenbr0',
        'default route: ::/0 via 2001:db8::1 dev xenbr0',
        'converged: the host matches the settings (0 steps)',
        '',
      ].join('\n'),
    );
    dom0.ip('link', 'set', 'dev', 'xenbr0', 'type', 'bridge', 'forward_delay', '500');
    const drifted = run('status', 'netdev=eth0', '--json');
    expect(drifted.status).toBe(3);
    const json = expectReport(drifted.stdout);
    expect(json.converged).toBe(false);
    expect(json.ok).toBe(false);
    expect(json.drift).toEqual([
      {
        id: 'bridge:xenbr0:options',
        phase: 'bridge',
        argv: ['ip', 'link', 'set', 'dev', 'xenbr0', 'type', 'bridge', 'forward_delay', '0'],
        reason: 'xenbr0 options: want forward delay 0s (have 5s)',
        disruptive: false,
      },
    ]);
    expect(json.bridge.ports.map((p: { name: string }) => p.name)).toEqual(['eth0', 'vif1.0']);
    expect(json.recorded).toBe(true);
    const fixed = run('start', 'netdev=eth0');
    expect(fixed.status).toBe(0);
    expect(fixed.stdout).toContain('xenbr0: 1 step(s) applied');
    expect(run('status', 'netdev=eth0').status).toBe(0);
    const admin = scripts.run('xenplan', ['status', 'netdev=eth0'], { ns: dom0, env });
    expect(admin.status).toBe(0);
    expect(admin.stdout).toContain('converged: the host matches the settings (0 steps)\n');
    dom0.ip('link', 'del', 'vif1.0');
  });

  it('stop puts the addresses and routes back on eth0 and deletes xenbr0; a second stop has nothing to do', () => {
    const stopped = run('stop');
    expect(stopped.stderr).toBe('');
    expect(stopped.status).toBe(0);
    expect(layout()).toEqual(original);
    expect(dom0.hasLink('xenbr0')).toBe(false);
    expect(existsSync(state)).toBe(false);
    expect(dom0.ping('192.0.2.1')).toBe(true);
    const again = run('stop');
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(`xenbr0: start recorded nothing (no ${state}); nothing to undo\n`);
  });

  it('rolls back when the gateway answered before start and not after', () => {
    // The upstream answers exactly one more echo request (start's probe before applying).
    upstream.exec(['nft', 'add', 'table', 'inet', 'xpt']);
    upstream.exec(['nft', 'add', 'chain', 'inet', 'xpt', 'in', '{ type filter hook input priority 0; }']);
    const rule = upstream.exec([
      'nft',
      'add',
      'rule',
      'inet',
      'xpt',
      'in',
      'icmp',
      'type',
      'echo-request',
      'quota',
      'over',
      '100',
      'bytes',
      'drop',
    ]);
    expect(rule.stderr).toBe('');
    try {
      const started = run('start', 'netdev=eth0');
      expect(started.status).toBe(1);
      expect(started.stderr).toMatch(
        /^network-script: dom0's default gateway 192\.0\.2\.1 answered before start; after it it did not answer within 3 s \(waited for eth0 to forward in xenbr0 \(up to 5\.0 s: 5 s for NICs to renegotiate\); saw eth0 forwarding in xenbr0\); rolled back \(\d+ step\(s\)\): the host is as it was before start\n$/,
      );
      expect(layout()).toEqual(original);
      expect(existsSync(state)).toBe(false);
    } finally {
      upstream.exec(['nft', 'delete', 'table', 'inet', 'xpt']);
    }
    expect(dom0.ping('192.0.2.1')).toBe(true);
  });

  it('--confirm rolls back when nobody confirms, and keeps the change when xenplan confirm answers', async () => {
    const unconfirmed = run('start', 'netdev=eth0', '--confirm=1');
    expect(unconfirmed.status).toBe(1);
    expect(unconfirmed.stderr).toContain('network-script: no confirmation within 1 s; rolled back');
    expect(layout()).toEqual(original);

    const child = spawn(
      'ip',
      ['netns', 'exec', dom0.name, scripts.path('network-script'), 'start', 'netdev=eth0', '--confirm=20'],
      {
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin', ...env },
      },
    );
    const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    const pending = join(runDir, 'confirm-xenbr0.pending');
    const deadline = Date.now() + 15_000;
    while (!existsSync(pending) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const confirmed = scripts.run('xenplan', ['confirm'], { env });
    expect(confirmed.stderr).toBe('');
    expect(confirmed.stdout).toBe('confirmed: network-script start on xenbr0 keeps its changes\n');
    expect(await done).toBe(0);
    expect(stderr).toBe(
      'network-script: applied; run "xenplan confirm bridge=xenbr0" within 20 s to keep it\n',
    );
    expect(layout().addresses).toEqual(['192.0.2.10/24 xenbr0', '2001:db8::10/64 xenbr0']);
    expect(run('stop').status).toBe(0);
    expect(layout()).toEqual(original);
  });
  const ARP001_XENBR0 =
    "ARP is off (NOARP) on xenbr0, which carries IPv4: incoming ARP is ignored, no ARP is sent, and neighbours resolve to xenbr0's own MAC; IPv4 to the LAN is broken";
  const arp002 = (dev: string) =>
    `ARP is off on ${dev}: "arp off" on L2 ports does not affect bridging; it only hides the real fault, and on a bond with addresses it suppresses failover gratuitous ARPs (Xen stopped doing this in 2007)`;

  it('--dry-run puts the doctor findings at the top of the script and in the JSON', () => {
    // Live: eth0 (about to become a port) has ARP off. Declared: the admin turns ARP off on xenbr0.
    dom0.ip('link', 'set', 'dev', 'eth0', 'arp', 'off');
    dom0.settle();
    try {
      const before = dom0.snapshot();
      const dry = run('start', 'netdev=eth0', 'noarp=xenbr0', 'strict=yes', '--dry-run');
      expect(dry.stderr).toBe('');
      expect(dry.status).toBe(0);
      expect(dry.stdout.split('\n').slice(0, 5)).toEqual([
        '#!/bin/sh',
        '# network-script start: bridge xenbr0 with eth0',
        `# doctor: error ARP001 ${ARP001_XENBR0}`,
        `# doctor: warning ARP002 ${arp002('eth0')}`,
        '# doctor: strict=yes: doctor found 1 error(s); start would stop here',
      ]);
      expect(dry.stdout.indexOf('# doctor:')).toBeLessThan(dry.stdout.indexOf('\n( set -e\n'));
      expect(dom0.exec(['sh', '-n', '-c', dry.stdout])).toMatchObject({ status: 0, stderr: '' });

      const json = run('start', 'netdev=eth0', 'noarp=xenbr0', '--dry-run', '--json');
      expect(json.status).toBe(0);
      const doc = expectReport(json.stdout);
      expect(Object.keys(doc)).toEqual([
        'schema',
        'command',
        'ok',
        'changed',
        'dryRun',
        'bridge',
        'steps',
        'warnings',
        'xenstore',
        'findings',
      ]);
      expect(doc.findings).toEqual([
        {
          id: 'ARP001',
          severity: 'error',
          message: ARP001_XENBR0,
          fix: 'ip link set xenbr0 arp on (and drop "arp off" for xenbr0 from the setup)',
          source: 'net/ipv4/arp.c arp_rcv, arp_send_dst, arp_constructor',
          objects: ['xenbr0'],
        },
        expect.objectContaining({ id: 'ARP002', severity: 'warning', objects: ['eth0'] }),
      ]);
      expect(doc.steps.length).toBeGreaterThan(0);
      expect(dom0.snapshot()).toBe(before);
      expect(existsSync(state)).toBe(false);
    } finally {
      dom0.ip('link', 'set', 'dev', 'eth0', 'arp', 'on');
    }
  });

  it('start prints the findings on stderr and applies anyway (no strict=yes)', () => {
    const started = run('start', 'netdev=eth0', 'noarp=vif1.0');
    expect(started.stderr).toBe(
      [
        'network-script: doctor review:',
        'Warnings:',
        `  ARP002 ${arp002('vif1.0')}`,
        '    fix: ip link set vif1.0 arp on; then look at BOND001/BR002 for the real fault',
        '    source: net/ipv4/arp.c; xen-project/xen commit 06809a93ad ("Remove netloop from network bridge init scripts")',
        '',
        '0 errors, 1 warning, 0 info.',
        '',
      ].join('\n'),
    );
    expect(started.status).toBe(0);
    expect(started.stdout).toBe(
      "xenbr0: 11 step(s) applied; dom0's addresses on xenbr0; gateway 192.0.2.1 answers\n",
    );
    expect(layout().addresses).toEqual(['192.0.2.10/24 xenbr0', '2001:db8::10/64 xenbr0']);
    const stopped = run('stop');
    expect(stopped.status).toBe(0);
    expect(layout()).toEqual(original);
  });

  it('strict=yes: an error finding stops start before anything changes', () => {
    // A bridge left from an earlier setup, with ARP off: dom0's addresses would move onto it.
    dom0.ip('link', 'add', 'xenbr0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    dom0.ip('link', 'set', 'dev', 'xenbr0', 'arp', 'off');
    dom0.settle();
    try {
      const before = dom0.snapshot();
      const started = run('start', 'netdev=eth0', 'strict=yes');
      expect(started.status).toBe(1);
      expect(started.stdout).toBe('');
      expect(started.stderr).toContain(
        `network-script: doctor review:\nErrors:\n  ARP001 ${ARP001_XENBR0}\n`,
      );
      expect(started.stderr).toMatch(
        /\nnetwork-script: strict=yes: doctor found 1 error\(s\); nothing was changed\n$/,
      );
      expect(dom0.snapshot()).toBe(before);
      expect(existsSync(state)).toBe(false);

      // Without strict=yes the same finding is printed and start goes on (dry-run: nothing applied).
      const lenient = run('start', 'netdev=eth0', '--dry-run');
      expect(lenient.status).toBe(0);
      expect(lenient.stdout).toContain(`\n# doctor: error ARP001 ${ARP001_XENBR0}\n`);
      expect(lenient.stdout).not.toContain('start would stop here');
    } finally {
      dom0.ip('link', 'del', 'xenbr0');
    }
    expect(layout()).toEqual(original);
  });
});
