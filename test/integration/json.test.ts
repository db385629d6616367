import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireNetns } from '../support/env.ts';
import { cable, dom0WithGateway, type Netns } from '../support/netns.ts';
import { expectReport } from '../support/schema.ts';

// The JSON contract as a caller (Ansible, a monitoring check) meets it: every command with
// --json prints one object that validates against schema/xenplan-1.schema.json, applies say
// what they changed, and failures are JSON too.
const can = requireNetns();

describe.runIf(can.ok)('--json: one object per command, valid against the schema', () => {
  let dom0: Netns;
  let upstream: Netns;
  const scripts = new Scripts();
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-json-'));
  const env = { XENPLAN_RUN_DIR: dir };
  const run = (name: 'network-script' | 'xenplan', ...args: string[]) =>
    scripts.run(name, args, { ns: dom0, env });

  beforeAll(() => {
    ({ dom0, upstream } = dom0WithGateway('json'));
    cable(dom0, 'eth1', upstream, 'up1');
    dom0.settle();
  });

  afterAll(() => {
    for (const ns of [dom0, upstream]) ns?.delete();
    scripts.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('start --json reports the steps it applied; a second start changed nothing', () => {
    const started = run('network-script', 'start', 'netdev=eth0', '--json');
    expect(started.status).toBe(0);
    const doc = expectReport(started.stdout);
    expect(doc).toMatchObject({ command: 'network start', ok: true, changed: true, dryRun: false });
    expect(doc.bridge).toBe('xenbr0');
    expect(doc.steps.map((s) => s.id)).toContain('port:eth0:master');
    expect(dom0.link('eth0').master).toBe('xenbr0');
    const again = expectReport(run('network-script', 'start', 'netdev=eth0', '--json').stdout);
    expect(again).toMatchObject({ command: 'network start', ok: true, changed: false, steps: [] });
  });

  it('plan, status and doctor print reports', () => {
    expect(expectReport(run('xenplan', 'plan', 'netdev=eth0', '--json').stdout)).toMatchObject({
      command: 'network start',
      dryRun: true,
      changed: false,
      steps: [],
    });
    const status = run('xenplan', 'status', 'netdev=eth0', '--json');
    expect(status.status).toBe(0);
    expect(expectReport(status.stdout)).toMatchObject({
      command: 'network status',
      ok: true,
      converged: true,
      drift: [],
    });
    const doctor = run('xenplan', 'doctor', 'netdev=eth0', '--json');
    const report = expectReport(doctor.stdout);
    expect(report.command).toBe('doctor');
    expect(report.ok).toBe(doctor.status === 0);
  });

  it('bridge-port --json reports its apply', () => {
    const applied = run('xenplan', 'bridge-port', 'xenbr0', 'eth1', '--json');
    expect(applied.status).toBe(0);
    const doc = expectReport(applied.stdout);
    expect(doc).toMatchObject({ command: 'bridge-port', ok: true, changed: true, dryRun: false });
    expect(doc.steps.map((s) => s.id)).toContain('port:eth1:master');
    dom0.ip('link', 'set', 'eth1', 'nomaster');
  });

  it('errors are reports too, on stdout, with the kind and the sentence', () => {
    const bad = run('network-script', 'start', 'netdev=eth0', 'mtu=12', '--json');
    expect(bad.status).toBe(1);
    const doc = expectReport(bad.stdout);
    expect(doc).toMatchObject({ command: 'network start', ok: false, changed: null });
    expect(doc.error.kind).toBe('config');
    expect(doc.error.message).toContain('mtu=12');
    const confirm = run('xenplan', 'confirm', '--json');
    expect(confirm.status).toBe(2);
    expect(expectReport(confirm.stdout)).toMatchObject({ command: 'network confirm', ok: false });
    const usage = run('xenplan', 'frobnicate', '--json');
    expect(usage.status).toBe(2);
    expect(expectReport(usage.stdout).error.kind).toBe('usage');
  });

  it('stop --json reports what it undid', () => {
    const stopped = run('network-script', 'stop', '--json');
    expect(stopped.status).toBe(0);
    const doc = expectReport(stopped.stdout);
    expect(doc).toMatchObject({ command: 'network stop', ok: true, changed: true, bridge: 'xenbr0' });
    expect(doc.steps.length).toBeGreaterThan(0);
    expect(dom0.hasLink('xenbr0')).toBe(false);
    expect(expectReport(run('network-script', 'stop', '--json').stdout)).toMatchObject({
      changed: false,
      steps: [],
    });
  });
});
