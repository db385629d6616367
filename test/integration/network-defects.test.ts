import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireNetns } from '../support/env.ts';
import { cable, Netns } from '../support/netns.ts';

// network-script's defects of issue 11, each through the built bundle in namespaces: "dom0"
// with eth0 cabled to "upstream", which holds the gateways 192.0.2.1 and 192.0.2.254.
const can = requireNetns();
const REAL_IP = execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim();

/** Polls until `test` holds or `ms` pass; never a fixed sleep. */
async function until(test: () => boolean, ms = 20_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

describe.runIf(can.ok)('network-script defects (issue 11)', () => {
  const scripts = new Scripts();
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-defects-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  // logger(1) stand-in: what network-script would send to syslog lands in a file.
  writeFileSync(join(bin, 'logger'), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${join(dir, 'syslog')}"\n`);
  chmodSync(join(bin, 'logger'), 0o755);
  // An ip that stops at network-script's first observation until the gate file exists.
  const gateBin = join(dir, 'gate-bin');
  mkdirSync(gateBin);
  writeFileSync(
    join(gateBin, 'ip'),
    `#!/bin/sh
if [ "$1" = -json ] && [ ! -e "$XPT_GATE" ]; then
  : > "$XPT_GATE.waiting"
  i=0
  while [ ! -e "$XPT_GATE" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
fi
exec "${REAL_IP}" "$@"
`,
  );
  chmodSync(join(gateBin, 'ip'), 0o755);
  let dom0: Netns;
  let upstream: Netns;
  let runDir: string;
  let env: Record<string, string>;
  let original: string;

  /** dom0's links and masters, global addresses and routes (no kernel ones). */
  function layout(): string {
    dom0.settle();
    const links = dom0
      .json('link', 'show')
      .map((l) => `${l.ifname}${l.master === undefined ? '' : ` in ${l.master}`}`)
      .sort();
    const addresses = dom0
      .json<{ ifname: string; addr_info: { local: string; prefixlen: number; scope: string }[] }[]>(
        'address',
        'show',
      )
      .flatMap((l) =>
        l.addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen} ${l.ifname}`),
      )
      .sort();
    const routes = [...dom0.ip('route', 'show').split('\n'), ...dom0.ip('-6', 'route', 'show').split('\n')]
      .map((r) => r.trim())
      .filter((r) => r !== '' && !r.includes('proto kernel') && !r.startsWith('fe80'))
      .sort();
    return [...links, ...addresses, ...routes].join('\n');
  }

  const run = (args: string[], extra: Record<string, string> = {}, timeout = 120_000) => {
    const result = spawnSync(REAL_IP, ['netns', 'exec', dom0.name, scripts.path('network-script'), ...args], {
      encoding: 'utf8',
      env: { PATH: `${bin}:${process.env.PATH}`, ...env, ...extra },
      input: '',
      timeout,
    });
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  };

  /** Runs network-script in the background (the test's own event loop stays free). */
  const launch = (args: string[], extra: Record<string, string> = {}) => {
    const child = spawn(REAL_IP, ['netns', 'exec', dom0.name, scripts.path('network-script'), ...args], {
      env: { PATH: `${bin}:${process.env.PATH}`, ...env, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += String(c);
    });
    child.stderr.on('data', (c) => {
      stderr += String(c);
    });
    let exited = false;
    const done = new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (code) => {
        exited = true;
        resolve({ status: code ?? -1, stdout, stderr });
      }),
    );
    return { done, exited: () => exited, stderr: () => stderr };
  };

  beforeEach(() => {
    dom0 = new Netns('def-dom0');
    upstream = new Netns('def-up');
    cable(dom0, 'eth0', upstream, 'up0');
    upstream.ip('address', 'add', '192.0.2.1/24', 'dev', 'up0');
    upstream.ip('address', 'add', '192.0.2.254/24', 'dev', 'up0');
    upstream.ip('link', 'set', 'up0', 'up');
    dom0.ip('address', 'add', '192.0.2.10/24', 'dev', 'eth0');
    dom0.ip('link', 'set', 'eth0', 'up');
    dom0.ip('route', 'add', 'default', 'via', '192.0.2.1');
    dom0.ip('route', 'add', '198.51.100.0/24', 'via', '192.0.2.1', 'metric', '50');
    runDir = mkdtempSync(join(dir, 'run-'));
    env = { XENPLAN_RUN_DIR: runDir, XENPLAN_LOG_DIR: join(runDir, 'log') };
    original = layout();
  });

  afterEach(() => {
    dom0.delete();
    upstream.delete();
  });

  afterAll(() => {
    scripts.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('#2 a lock file naming a live, unrelated pid locks nobody out', () => {
    const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });
    try {
      writeFileSync(join(runDir, 'network.lock'), `${sleeper.pid}\n`);
      const started = run(['start', 'netdev=eth0']);
      expect(started.stderr).toBe('');
      expect(started.status).toBe(0);
      expect(run(['stop']).status).toBe(0);
      expect(layout()).toBe(original);
    } finally {
      sleeper.kill('SIGKILL');
    }
  }, 180_000);

  it('#3 stop and status (with the same words, or none) act on the bridge config= named', () => {
    const config = join(runDir, 'net.conf');
    writeFileSync(config, 'bridge=br7\nnetdev=eth0\n');
    const started = run(['start', `config=${config}`]);
    expect(started.stderr).toBe('');
    expect(started.stdout).toMatch(/^br7: \d+ step\(s\) applied; dom0's addresses on br7/);
    const status = run(['status']);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(`settings start recorded for br7: config=${config}\n`);
    expect(status.stdout).toContain('bridge br7: up');
    expect(status.stdout).toContain('converged');
    const named = run(['status', `config=${config}`]);
    expect(named.status).toBe(0);
    expect(named.stdout).toContain('bridge br7: up');
    const stopped = run(['stop', `config=${config}`]);
    expect(stopped.stderr).toBe('');
    expect(stopped.stdout).toMatch(/^br7: \d+ step\(s\) undone/);
    expect(layout()).toBe(original);
    // With no words, stop undoes what start recorded.
    expect(run(['start', `config=${config}`]).status).toBe(0);
    const bare = run(['stop']);
    expect(bare.stdout).toMatch(/^br7: \d+ step\(s\) undone/);
    expect(layout()).toBe(original);
  }, 180_000);

  it('#4 a stop started while start holds the lock waits, then undoes what start did', async () => {
    const gate = join(runDir, 'gate');
    const start = launch(['start', 'netdev=eth0'], {
      PATH: `${gateBin}:${bin}:${process.env.PATH}`,
      XPT_GATE: gate,
    });
    expect(await until(() => existsSync(`${gate}.waiting`))).toBe(true);
    const stop = launch(['stop']);
    // The stop is queued on the lock (a "->" waiter in /proc/locks), or (old code) done already.
    const { ino } = statSync(join(runDir, 'network.lock'));
    const waiting = () =>
      readFileSync('/proc/locks', 'utf8')
        .split('\n')
        .some((l) => l.includes('->') && l.includes(`:${ino} `));
    await until(() => waiting() || stop.exited());
    writeFileSync(gate, '');
    const [started, stopped] = await Promise.all([start.done, stop.done]);
    expect(started.status).toBe(0);
    expect(stopped.stderr).toBe('');
    expect(stopped.stdout).toMatch(/^xenbr0: \d+ step\(s\) undone/);
    expect(stopped.status).toBe(0);
    expect(layout()).toBe(original);
  }, 180_000);

  it('#5 config= that is a FIFO, /dev/zero, too big or binary is refused at once; /dev/null is empty', () => {
    const fifo = join(runDir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const big = join(runDir, 'big.conf');
    writeFileSync(big, `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    const binary = join(runDir, 'binary.conf');
    writeFileSync(binary, Buffer.from([0x62, 0x72, 0x00, 0xff, 0xfe, 0x01]));
    const cases: [string, string][] = [
      [fifo, 'it is a FIFO; expected a regular text file'],
      ['/dev/zero', 'it is a character device; expected a regular text file'],
      [big, `it has ${2 * 1024 * 1024 + 3} bytes; expected a text file of at most 1048576 bytes`],
      [binary, 'it is not UTF-8 text (binary content); expected a text file of key=value lines'],
    ];
    for (const [path, why] of cases) {
      for (const command of ['start', 'stop', 'status']) {
        const result = run([command, 'netdev=eth0', `config=${path}`], {}, 20_000);
        expect(result.stderr).toBe(`network-script: config=${path}: ${why}\n`);
        expect(result.status).toBe(1);
      }
      expect(layout()).toBe(original);
    }
    expect(existsSync(join(runDir, 'network-xenbr0.json'))).toBe(false);
    const empty = run(['start', 'netdev=eth0', 'config=/dev/null', '--dry-run']);
    expect(empty.stderr).toBe('');
    expect(empty.status).toBe(0);
  }, 180_000);

  it('#6 gateway= replaces the default route on the first start; stop puts the old one back', () => {
    const started = run(['start', 'netdev=eth0', 'gateway=192.0.2.254']);
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);
    expect(started.stdout).toContain('gateway 192.0.2.254 answers');
    const routes = dom0.ip('route', 'show');
    expect(routes).toContain('default via 192.0.2.254 dev xenbr0');
    expect(routes).not.toContain('default via 192.0.2.1');
    expect(routes).toContain('198.51.100.0/24 via 192.0.2.1 dev xenbr0 metric 50');
    expect(run(['start', 'netdev=eth0', 'gateway=192.0.2.254']).stdout).toContain(
      'already as wanted (0 steps)',
    );
    expect(run(['stop']).status).toBe(0);
    expect(layout()).toBe(original);
  }, 180_000);

  it('#7 #10 a dead gateway= is rolled back (dom0 used .1 before); start, stop and the failure are logged', () => {
    const started = run(['start', 'netdev=eth0', 'gateway=192.0.2.99']);
    expect(started.stderr).toMatch(
      /^network-script: dom0's default gateway 192\.0\.2\.1 answered before start; after it its gateway 192\.0\.2\.99 did not answer within 3 s \(waited for eth0 to forward in xenbr0 .*; saw eth0 forwarding in xenbr0\); rolled back \(\d+ step\(s\)\): the host is as it was before start\n$/,
    );
    expect(started.status).toBe(1);
    expect(layout()).toBe(original);
    expect(existsSync(join(runDir, 'network-xenbr0.json'))).toBe(false);
    const syslog = readFileSync(join(dir, 'syslog'), 'utf8');
    expect(syslog).toMatch(
      /^-p daemon\.err -t network-script -- network-script start netdev=eth0 gateway=192\.0\.2\.99 failed after [0-9.]+ s: dom0's default gateway 192\.0\.2\.1 answered before start;/m,
    );
    expect(run(['start', 'netdev=eth0']).status).toBe(0);
    expect(run(['stop']).status).toBe(0);
    const log = readFileSync(join(runDir, 'log', 'xen-hotplug.log'), 'utf8').split('\n');
    expect(log[0]).toMatch(
      /^\S+Z network-script rollback xenbr0: dom0's default gateway 192\.0\.2\.1 answered before start; .*rolled back/,
    );
    expect(log[1]).toMatch(
      /^\S+Z network-script start netdev=eth0 gateway=192\.0\.2\.99 failed after [0-9.]+ s: /,
    );
    expect(log[2]).toMatch(
      /^\S+Z network-script start xenbr0: \d+ step\(s\) applied in [0-9.]+ s; gateway 192\.0\.2\.1 answers$/,
    );
    expect(log[3]).toMatch(/^\S+Z network-script stop xenbr0: \d+ step\(s\) undone in [0-9.]+ s$/);
  }, 180_000);

  it('#9 --confirm frees the lock while it waits, and never rolls back over a vif that joined', async () => {
    const start = launch(['start', 'netdev=eth0', '--confirm=20']);
    const pending = join(runDir, 'confirm-xenbr0.pending');
    expect(await until(() => existsSync(pending))).toBe(true);
    // Another network-script (a guest's vif-script likewise) gets the lock meanwhile.
    const again = run(['start', 'netdev=eth0']);
    expect(again.stdout).toBe("xenbr0: already as wanted (0 steps); dom0's addresses on xenbr0\n");
    cable(dom0, 'vif2.0', upstream, 'guest2');
    dom0.ip('link', 'set', 'vif2.0', 'master', 'xenbr0', 'up');
    const ended = await start.done;
    expect(ended.status).toBe(1);
    expect(ended.stderr).toContain(
      'network-script: no confirmation within 20 s; not rolled back: vif2.0 joined xenbr0 meanwhile and would be cut off; network-script stop bridge=xenbr0 undoes start once they are gone\n',
    );
    expect(dom0.link('vif2.0').master).toBe('xenbr0');
    expect(layout()).toContain('192.0.2.10/24 xenbr0');
    dom0.ip('link', 'del', 'vif2.0');
    expect(run(['stop']).status).toBe(0);
    expect(layout()).toBe(original);
  }, 180_000);

  it('#8 a DHCP lease is never made permanent: refused by default, moved with its lifetime by dhcp=move', () => {
    dom0.ip('address', 'change', '192.0.2.10/24', 'dev', 'eth0', 'valid_lft', '600', 'preferred_lft', '300');
    const lifetime = (dev: string) =>
      dom0
        .json<{ addr_info: { local: string; valid_life_time: number }[] }[]>('address', 'show', 'dev', dev)
        .flatMap((l) => l.addr_info)
        .find((a) => a.local === '192.0.2.10')?.valid_life_time;
    const before = layout();
    const refused = run(['start', 'netdev=eth0']);
    expect(refused.stderr).toMatch(
      /^network-script: 192\.0\.2\.10\/24 on eth0 is dynamic \(a DHCP lease or SLAAC address, valid \d+ s more\): start would make it permanent on xenbr0; .* or give dhcp=move .*; nothing was changed\n$/,
    );
    expect(refused.status).toBe(1);
    expect(layout()).toBe(before);
    expect(existsSync(join(runDir, 'network-xenbr0.json'))).toBe(false);

    const moved = run(['start', 'netdev=eth0', 'dhcp=move']);
    expect(moved.stderr).toBe('');
    expect(moved.status).toBe(0);
    expect(lifetime('xenbr0')).toBeLessThanOrEqual(600);
    expect(run(['stop']).status).toBe(0);
    expect(lifetime('eth0')).toBeLessThanOrEqual(600);

    const ifcfg = join(runDir, 'ifcfg');
    mkdirSync(ifcfg);
    // Red Hat's bridge with DHCP: BOOTPROTO=dhcp on the bridge, the NIC a port of it.
    writeFileSync(join(ifcfg, 'ifcfg-xenbr0'), 'DEVICE=xenbr0\nTYPE=Bridge\nBOOTPROTO=dhcp\n');
    writeFileSync(join(ifcfg, 'ifcfg-eth0'), 'DEVICE=eth0\nBRIDGE=xenbr0\n');
    const fromIfcfg = run(['start', `ifcfg=${ifcfg}`]);
    expect(fromIfcfg.stderr).toContain('ifcfg-xenbr0');
    expect(fromIfcfg.stderr).toContain("BOOTPROTO=dhcp: dom0's address on xenbr0 comes from DHCP");
    expect(fromIfcfg.status).toBe(1);
  }, 180_000);

  it("#8 doctor (and start's review) flag a DHCP client bound to a bridge port: XEN002", async () => {
    // A stand-in for dhclient in dom0's namespace: its command line is what doctor reads.
    const client = spawn(
      REAL_IP,
      ['netns', 'exec', dom0.name, 'bash', '-c', 'exec -a dhclient sh -c "sleep 60; :" x -v eth0'],
      { stdio: 'ignore' },
    );
    try {
      const found = () => {
        try {
          return readFileSync(`/proc/${client.pid}/cmdline`, 'utf8').startsWith('dhclient\0');
        } catch {
          return false;
        }
      };
      expect(await until(found)).toBe(true);
      const started = run(['start', 'netdev=eth0']);
      expect(started.status).toBe(0);
      expect(started.stderr).toContain(
        `  XEN002 dhclient (pid ${client.pid}) leases an address for eth0, which is in xenbr0: a port holds no address`,
      );
      const doctor = spawnSync(
        REAL_IP,
        ['netns', 'exec', dom0.name, scripts.path('xenplan'), 'doctor', '--json'],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, ...env },
        },
      );
      expect(doctor.stdout).toContain('"XEN002"');
      expect(run(['stop']).status).toBe(0);
    } finally {
      client.kill('SIGKILL');
    }
  }, 180_000);
});
