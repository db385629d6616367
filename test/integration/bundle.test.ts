import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE } from '../support/bundle.ts';
import { requireNetns } from '../support/env.ts';
import { Netns } from '../support/netns.ts';
import { libxlEnv, XenHost } from '../support/xen.ts';

// The single file as shipped: copied alone into an empty folder under the names Xen calls,
// with no node_modules anywhere near it, on today's Node and on the oldest one supported.
const NODE18 = resolve('.tmp/node-18.19.0/bin');
const nodes: [string, string][] = [[`Node ${process.version}`, '']];
if (existsSync(join(NODE18, 'node'))) nodes.push(['Node 18.19.0', NODE18]);
else if (process.env.CI)
  throw new Error('CI needs Node 18.19.0 in .tmp/node-18.19.0 (scripts/deps.sh fetches it)');
else console.warn('skipping Node 18.19.0: run scripts/deps.sh to fetch it');

describe('the bundle', () => {
  it('is one small executable file with a node shebang', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(BUNDLE).mode & 0o111).toBe(0o111);
    expect(statSync(BUNDLE).size).toBeLessThan(512 * 1024);
    expect(text).not.toMatch(/require\("(execa|minimist)"\)/);
  });
});

describe.each(nodes)('the bundle copied alone, on %s', (_name, nodeDir) => {
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-alone-'));
  const env = {
    PATH: nodeDir ? `${nodeDir}:${process.env.PATH}` : (process.env.PATH ?? ''),
    XENPLAN_CACHE_DIR: join(dir, 'cache'),
  };
  for (const name of ['vif-script', 'network-script', 'xenplan']) copyFileSync(BUNDLE, join(dir, name));
  execFileSync('chmod', ['755', ...['vif-script', 'network-script', 'xenplan'].map((n) => join(dir, n))]);
  const run = (name: string, args: string[], extra: Record<string, string> = {}) => {
    const r = spawnSync(join(dir, name), args, { cwd: dir, encoding: 'utf8', env: { ...env, ...extra } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs on the Node it is meant to', () => {
    const version = execFileSync('node', ['--version'], { encoding: 'utf8', env }).trim();
    expect(version).toBe(nodeDir ? 'v18.19.0' : process.version);
  });

  it('answers --help as vif-script (online), network-script (start) and xenplan', () => {
    const vif = run('vif-script', ['--help']);
    expect(vif.status).toBe(0);
    expect(vif.stdout).toContain('Usage: vif-script online|offline');
    const network = run('network-script', ['--help']);
    expect(network.status).toBe(0);
    expect(network.stdout).toContain('Usage: network-script start|stop|status');
    const xenplan = run('xenplan', ['--help']);
    expect(xenplan.status).toBe(0);
    expect(xenplan.stdout).toContain('Usage: xenplan COMMAND');
    expect(run('xenplan', ['--version']).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('refuses an unknown command with exit 1 as vif-script and 2 as xenplan', () => {
    expect(run('vif-script', ['frobnicate'], { XENBUS_PATH: 'backend/vif/1/0' }).status).toBe(1);
    expect(run('xenplan', ['frobnicate']).status).toBe(2);
  });

  const can = requireNetns();
  describe.runIf(can.ok)('doing its job', () => {
    const xen = new XenHost();
    let dom0: Netns;
    beforeAll(async () => {
      await xen.start();
      dom0 = new Netns('alone');
      dom0.ip('link', 'add', 'xenbr0', 'type', 'bridge');
      dom0.ip('link', 'set', 'xenbr0', 'up');
      dom0.ip('link', 'add', 'vif3.0', 'type', 'veth', 'peer', 'name', 'guest');
      xen.addVif(3, 0, { bridge: 'xenbr0' });
    });
    // biome-ignore lint/suspicious/noDuplicateTestHooks: biome does not see describe.runIf(…)(…) as a new scope
    afterAll(async () => {
      dom0?.delete();
      await xen.stop();
    });

    it('vif-script online and offline against xenstore (node:child_process and the xenstore client)', () => {
      const ns = (args: string[]) =>
        spawnSync('ip', ['netns', 'exec', dom0.name, join(dir, 'vif-script'), ...args], {
          encoding: 'utf8',
          env: { ...env, ...xen.env(), ...libxlEnv(3, 0) },
        });
      const online = ns(['online', 'type_if=vif']);
      expect(online.stderr).toBe('');
      expect(online.status).toBe(0);
      expect(dom0.link('vif3.0').master).toBe('xenbr0');
      expect(xen.read('backend/vif/3/0/hotplug-status')).toBe('connected');
      expect(ns(['offline', 'type_if=vif']).status).toBe(0);
      expect(dom0.link('vif3.0').master).toBeUndefined();
    });

    it('network-script start --dry-run (execa, observe, doctor)', () => {
      dom0.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'sw0');
      const start = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          dom0.name,
          join(dir, 'network-script'),
          'start',
          'netdev=eth0',
          'bridge=xenbr1',
          '--dry-run',
        ],
        { encoding: 'utf8', env: { ...env, ...xen.env() } },
      );
      expect(start.stderr).toBe('');
      expect(start.status).toBe(0);
      expect(start.stdout).toContain('ip link add name xenbr1 type bridge stp_state 0 forward_delay 0\n');
    });
  });
});
