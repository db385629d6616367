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
