import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Launcher, until } from '../support/agent.ts';
import { BUNDLE } from '../support/bundle.ts';
import { requireNetns } from '../support/env.ts';
import { Netns } from '../support/netns.ts';
import { libxlEnv, XenHost } from '../support/xen.ts';

// The fast path: the launcher bin/vif-xenplan, installed beside the bundle, handing libxl's
// events to `xenplan agent` in the same dom0 namespace, against the xenstore stand-in. An
// event through the agent must end exactly as it does through the bundle alone; an agent
// that is gone or killed mid-event must cost nothing but time.
const can = requireNetns();

type Path = 'agent' | 'cold';

describe.runIf(can.ok)('vif-xenplan and xenplan agent', () => {
  const xen = new XenHost();
  const launcher = new Launcher();
  let dom0: Netns;
  const guests: Netns[] = [];
  const logFile = () => join(xen.env().XENPLAN_LOG_DIR!, 'xen-hotplug.log');
  const log = () => (existsSync(logFile()) ? readFileSync(logFile(), 'utf8') : '');

  /**
   * One event through one path. Through the agent, the bundle is unreachable for the launcher
   * (XENPLAN_NODE=/bin/false): a silent fall back to the cold path would fail the event.
   */
  async function event(path: Path, args: string[], env: Record<string, string>) {
    const pathEnv: Record<string, string> =
      path === 'agent' ? { XENPLAN_NODE: '/bin/false' } : { XENPLAN_AGENT: 'off' };
    const before = log().length;
    const run = await launcher.run(dom0, args, { ...xen.env(), ...env, ...pathEnv });
    // Times and durations differ from run to run; the rest of each line must not.
    const lines = log()
      .slice(before)
      .replace(/^\S+Z /gm, '')
      .replace(/\(\d+ ms\)/g, '(N ms)');
    return { ...run, log: lines };
  }

  function state(domid: number) {
    const link = dom0.hasLink(`vif${domid}.0`) ? dom0.link(`vif${domid}.0`) : undefined;
    const base = `backend/vif/${domid}/0`;
    return {
      // A veth's own MAC is random: only Xen's fe:ff:ff:ff:ff:ff is a result.
      link: link && {
        master: link.master,
        mtu: link.mtu,
        flags: link.flags,
        address: link.address === 'fe:ff:ff:ff:ff:ff' ? link.address : 'random',
      },
      status: xen.read(`${base}/hotplug-status`),
      error: xen.read(`${base}/hotplug-error`),
      mtu: xen.read(`/local/domain/${domid}/device/vif/0/mtu`),
    };
  }

  function guest(domid: number, keys: Record<string, string>): void {
    const ns = new Netns(`ag${domid}`);
    guests.push(ns);
    dom0.ip('link', 'add', `vif${domid}.0`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
    xen.addVif(domid, 0, keys);
  }

  /** A scenario of events for one guest; every result and the state after each, per path. */
  async function scenario(path: Path, domid: number, keys: Record<string, string>, commands: string[][]) {
    guest(domid, keys);
    const results = [];
    for (const args of commands) {
      const run = await event(path, args, libxlEnv(domid, 0));
      results.push({
        ...run,
        stderr: run.stderr.replaceAll(`vif${domid}.0`, 'VIF').replaceAll(`/${domid}/`, '/D/'),
        log: run.log.replaceAll(`vif${domid}.0`, 'VIF').replaceAll(`/${domid}/`, '/D/'),
        state: state(domid),
      });
    }
    return results;
  }

  beforeAll(async () => {
    await xen.start();
    dom0 = new Netns('agent-dom0');
    dom0.ip('link', 'add', 'xenbr0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    dom0.ip('link', 'set', 'xenbr0', 'mtu', '9000');
    dom0.ip('link', 'set', 'xenbr0', 'up');
    await launcher.startAgent(dom0, xen.env());
  });

  afterAll(async () => {
    await launcher.remove();
    for (const ns of [dom0, ...guests]) ns?.delete();
    await xen.stop();
  });

  it('online, online again, offline: the same output, exit status, xenstore, links and log lines', async () => {
    const commands = [
      ['online', 'type_if=vif'],
      ['online', 'type_if=vif'],
      ['offline', 'type_if=vif'],
    ];
    const agent = await scenario('agent', 21, { bridge: 'xenbr0' }, commands);
    const cold = await scenario('cold', 22, { bridge: 'xenbr0' }, commands);
    expect(agent[0]).toMatchObject({ status: 0, stderr: '', state: { status: 'connected', mtu: '9000' } });
    expect(agent[0]!.state.link).toMatchObject({ master: 'xenbr0', mtu: 9000, address: 'fe:ff:ff:ff:ff:ff' });
    expect(agent[2]!.state.link?.master).toBeUndefined();
    expect(agent[0]!.log).toContain('vif-script online VIF backend/vif/D/0: VIF in xenbr0, mtu 9000');
    expect(agent).toEqual(cold);
  });

  it('a failing online (no such bridge): the same error in xenstore, on stderr and in the log, exit 1', async () => {
    const commands = [['online', 'type_if=vif']];
    const agent = await scenario('agent', 23, { bridge: 'nosuchbr0' }, commands);
    const cold = await scenario('cold', 24, { bridge: 'nosuchbr0' }, commands);
    expect(agent[0]).toMatchObject({ status: 1, state: { status: 'error' } });
    expect(agent[0]!.state.error).toContain('nosuchbr0');
    expect(agent).toEqual(cold);
  });

  it('bad words and help: the same text and exit status', async () => {
    for (const args of [['frobnicate'], ['online', 'type_if=bogus'], ['--help'], ['--version']]) {
      const agent = await event('agent', args, libxlEnv(25, 0));
      const cold = await event('cold', args, libxlEnv(25, 0));
      expect(agent).toEqual(cold);
    }
  });

  it('40 concurrent onlines, then offlines, all through the agent (none falls back)', async () => {
    const domids = Array.from({ length: 40 }, (_, i) => 60 + i);
    for (const d of domids) {
      dom0.ip('link', 'add', `vif${d}.0`, 'type', 'veth', 'peer', 'name', `g${d}`);
      xen.addVif(d, 0, { bridge: 'xenbr0' });
    }
    for (const what of ['online', 'offline']) {
      const runs = await Promise.all(
        domids.map((d) => event('agent', [what, 'type_if=vif'], libxlEnv(d, 0))),
      );
      expect(runs.filter((r) => r.status !== 0 || r.stderr !== '')).toEqual([]);
    }
    for (const d of domids) expect(state(d).status).toBe('connected');
    expect(domids.filter((d) => dom0.link(`vif${d}.0`).master !== undefined)).toEqual([]);
  }, 120_000);

  it('installed beside the copy xenplan install makes (vif-xenplan), under another name: both paths find it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenplan-layout-'));
    try {
      copyFileSync(resolve('bin/vif-xenplan'), join(dir, 'vif-xenplan-agent'));
      copyFileSync(BUNDLE, join(dir, 'vif-xenplan'));
      chmodSync(join(dir, 'vif-xenplan'), 0o755);
      const run = (env: Record<string, string>) =>
        dom0.exec([join(dir, 'vif-xenplan-agent'), '--version'], { env: { ...xen.env(), ...env } });
      expect(run({ XENPLAN_NODE: '/bin/false' })).toMatchObject({ status: 0, stdout: '0.1.0\n' });
      expect(run({ XENPLAN_AGENT: 'off' })).toMatchObject({ status: 0, stdout: '0.1.0\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('agent killed (SIGKILL) mid-event: the cold path finishes that event; later ones fall back until it is back', async () => {
    guest(26, { bridge: 'xenbr0' });
    // An ip that stalls the agent's first call, then is the real ip (the cold path's run).
    const real = dom0.exec(['sh', '-c', 'command -v ip']).stdout.trim();
    const fake = join(launcher.dir, 'fake-bin');
    const mark = join(launcher.dir, 'ip-stalled');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(fake);
    writeFileSync(
      join(fake, 'ip'),
      `#!/bin/sh\nif [ ! -e '${mark}' ]; then echo $$ > '${mark}'; exec sleep 30; fi\nexec '${real}' "$@"\n`,
    );
    chmodSync(join(fake, 'ip'), 0o755);
    const env = { ...libxlEnv(26, 0), PATH: `${fake}:${process.env.PATH}` };
    const running = launcher.run(dom0, ['online', 'type_if=vif'], { ...xen.env(), ...env });
    expect(await until(() => existsSync(mark) && readFileSync(mark, 'utf8').trim() !== '')).toBe(true);
    expect(state(26).status).toBeUndefined();
    await launcher.killAgent();
    const run = await running;
    process.kill(Number(readFileSync(mark, 'utf8')), 'SIGKILL');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(state(26)).toMatchObject({ status: 'connected', link: { master: 'xenbr0', mtu: 9000 } });

    // Agent gone, its file left behind: events take the cold path.
    const offline = await event('cold', ['offline', 'type_if=vif'], libxlEnv(26, 0));
    expect(offline).toMatchObject({ status: 0, stderr: '' });
    const fallback = await launcher.run(dom0, ['online', 'type_if=vif'], {
      ...xen.env(),
      ...libxlEnv(26, 0),
    });
    expect(fallback).toMatchObject({ status: 0, stderr: '' });
    expect(state(26).link?.master).toBe('xenbr0');

    // Back: events go through it again (the bundle unreachable for the launcher).
    await launcher.startAgent(dom0, xen.env());
    expect(await event('agent', ['offline', 'type_if=vif'], libxlEnv(26, 0))).toMatchObject({
      status: 0,
      stderr: '',
    });
    expect(state(26).link?.master).toBeUndefined();
  });
});
