import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireNetns } from '../support/env.ts';
import { cable, Netns } from '../support/netns.ts';
import { expectReport } from '../support/schema.ts';

// The first real slice, run as an admin would: the built bundle invoked as `xenplan`.
const can = requireNetns();

describe.runIf(can.ok)('xenplan bridge-port in a namespace', () => {
  let dom0: Netns;
  let left: Netns;
  let right: Netns;
  const scripts = new Scripts();

  beforeAll(() => {
    dom0 = new Netns('bp-dom0');
    left = new Netns('bp-left');
    right = new Netns('bp-right');
    cable(dom0, 'eth0', left, 'peer0');
    cable(dom0, 'eth1', right, 'peer1');
    left.ip('address', 'add', '192.0.2.1/24', 'dev', 'peer0');
    right.ip('address', 'add', '192.0.2.2/24', 'dev', 'peer1');
    left.ip('link', 'set', 'peer0', 'up');
    right.ip('link', 'set', 'peer1', 'up');
  });

  afterAll(() => {
    for (const ns of [dom0, left, right]) ns?.delete();
    scripts.remove();
  });

  it('dry-run prints a plan and changes nothing', () => {
    const before = dom0.snapshot();
    const run = scripts.run('xenplan', ['bridge-port', 'xenbr0', 'eth0', '--dry-run'], { ns: dom0 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('ip link add name xenbr0 type bridge stp_state 0 forward_delay 0\n');
    expect(run.stdout).toContain('ip link set dev eth0 master xenbr0\n');
    expect(dom0.snapshot()).toBe(before);
    expect(dom0.hasLink('xenbr0')).toBe(false);
  });

  it('applies: the bridge exists with the port in it, both up', () => {
    expect(left.ping('192.0.2.2', 1, 1)).toBe(false);
    // Forget the failed neighbour entry that ping left, so the next one resolves afresh.
    left.ip('neigh', 'flush', 'all');
    for (const port of ['eth0', 'eth1']) {
      const run = scripts.run('xenplan', ['bridge-port', 'xenbr0', port], { ns: dom0 });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
    }
    const bridge = dom0.link('xenbr0');
    expect(bridge.flags).toContain('UP');
    expect(
      (bridge.linkinfo as { info_data: { stp_state: number; forward_delay: number } }).info_data,
    ).toMatchObject({
      stp_state: 0,
      forward_delay: 0,
    });
    expect(dom0.link('eth0').master).toBe('xenbr0');
    expect(dom0.link('eth1').master).toBe('xenbr0');
    expect(dom0.link('eth0').flags).toContain('UP');
  });

  it('a second dry-run plans zero steps', () => {
    const run = scripts.run('xenplan', ['bridge-port', 'xenbr0', 'eth0', '--dry-run', '--json'], {
      ns: dom0,
    });
    expect(expectReport(run.stdout)).toEqual({
      schema: 'xenplan/1',
      command: 'bridge-port',
      ok: true,
      changed: false,
      dryRun: true,
      steps: [],
      warnings: [],
      xenstore: [],
    });
  });

  it('traffic flows between two namespaces through the bridge', () => {
    expect(left.ping('192.0.2.2')).toBe(true);
  });

  it('refuses a hostile or missing port with a config error and changes nothing', () => {
    const before = dom0.snapshot();
    const hostile = scripts.run('xenplan', ['bridge-port', 'xenbr0', 'eth0;reboot'], { ns: dom0 });
    expect(hostile.status).toBe(4);
    expect(hostile.stderr).toContain('port name "eth0;reboot" is not a valid interface name');
    const missing = scripts.run('xenplan', ['bridge-port', 'xenbr0', 'eth7'], { ns: dom0 });
    expect(missing.status).toBe(4);
    expect(missing.stderr).toContain('port eth7 does not exist');
    expect(dom0.snapshot()).toBe(before);
  });
});

describe.runIf(can.ok)('xenplan bridge-port --stp on, and a failed verification rolled back', () => {
  let dom0: Netns;
  let far: Netns;
  const scripts = new Scripts();
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-bp-'));
  const realIp = execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim();
  // An ip whose batches run, after which "the kernel" raises xenbr9's forward delay to 7 s.
  writeFileSync(
    join(dir, 'ip'),
    `#!/bin/sh\nif [ "$1" = -batch ]; then "${realIp}" "$@" || exit $?; "${realIp}" link set dev xenbr9 type bridge forward_delay 700 2>/dev/null; exit 0; fi\nexec "${realIp}" "$@"\n`,
  );
  chmodSync(join(dir, 'ip'), 0o755);

  beforeAll(() => {
    dom0 = new Netns('bp-stp');
    far = new Netns('bp-far');
    cable(dom0, 'eth0', far, 'peer0');
    cable(dom0, 'eth1', far, 'peer1');
  });

  afterAll(() => {
    for (const ns of [dom0, far]) ns?.delete();
    scripts.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--stp on plans the 2 s forward delay the kernel takes, says so, and converges', () => {
    const run = scripts.run('xenplan', ['bridge-port', 'xenbr1', 'eth1', '--stp', 'on'], { ns: dom0 });
    expect(run.stderr).toBe(
      'xenplan bridge-port: STP on: forward delay 2 s, the least the kernel takes with STP\n',
    );
    expect(run.status).toBe(0);
    const info = (dom0.link('xenbr1').linkinfo as { info_data: { stp_state: number; forward_delay: number } })
      .info_data;
    expect(info).toMatchObject({ stp_state: 1, forward_delay: 200 });
    expect(dom0.link('eth1').master).toBe('xenbr1');
    const low = scripts.run(
      'xenplan',
      ['bridge-port', 'xenbr1', 'eth1', '--stp', 'on', '--forward-delay', '1'],
      {
        ns: dom0,
      },
    );
    expect(low.status).toBe(4);
    expect(low.stderr).toContain('--forward-delay "1": expected whole seconds from 2 to 30');
  });

  it('a verification that fails rolls back what the apply changed', () => {
    const before = dom0.snapshot();
    const run = scripts.run('xenplan', ['bridge-port', 'xenbr9', 'eth0'], {
      ns: dom0,
      env: { PATH: `${dir}:${process.env.PATH}` },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^xenplan: applied \d+ step\(s\) but the host still differs: .*forward delay 0s \(have 7s\).*; rolled back \(\d+ step\(s\)\): xenbr9 and eth0 are as they were\n$/,
    );
    expect(dom0.hasLink('xenbr9')).toBe(false);
    expect(dom0.link('eth0').master).toBeUndefined();
    expect(dom0.snapshot()).toBe(before);
  });
});
