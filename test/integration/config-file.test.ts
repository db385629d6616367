import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireNetns } from '../support/env.ts';
import { dom0WithGateway, type Netns } from '../support/netns.ts';
import { expectReport } from '../support/schema.ts';

// network-script and xenplan with no words read the config file ($XENPLAN_CONFIG standing in
// for /etc/xen/xenplan.conf): start, status, stop and doctor all agree on the same bridge.
const can = requireNetns();

describe.runIf(can.ok)('the config file in namespaces', () => {
  let dom0: Netns;
  let upstream: Netns;
  const scripts = new Scripts();
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-conf-'));
  const config = join(dir, 'xenplan.conf');
  const env = { XENPLAN_RUN_DIR: dir, XENPLAN_CONFIG: config };
  const run = (name: 'network-script' | 'xenplan', ...args: string[]) =>
    scripts.run(name, args, { ns: dom0, env });

  beforeAll(() => {
    ({ dom0, upstream } = dom0WithGateway('conf'));
    dom0.settle();
    writeFileSync(
      config,
      [
        '# the bridge this host builds at boot',
        'bridge=xenbr7',
        'netdev=eth0',
        'vif-antispoof=yes   # host-wide vif setting: vif-script reads it',
        '',
      ].join('\n'),
    );
  });

  afterAll(() => {
    for (const ns of [dom0, upstream]) ns?.delete();
    scripts.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('start with no words builds the bridge the file names', () => {
    const started = run('network-script', 'start');
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);
    expect(started.stdout).toMatch(/^xenbr7: [0-9]+ step\(s\) applied/);
    expect(dom0.link('eth0').master).toBe('xenbr7');
    expect(dom0.ping('192.0.2.1')).toBe(true);
  });

  it('status and plan with no words compare against the file, not the defaults', () => {
    const status = run('network-script', 'status');
    expect(status.status).toBe(0);
    expect(status.stdout).toContain('bridge xenbr7: up');
    expect(status.stdout).toContain('converged: the host matches the settings (0 steps)');
    expect(run('xenplan', 'status').status).toBe(0);
    const plan = run('xenplan', 'plan', '--json');
    expect(plan.status).toBe(0);
    expect(expectReport(plan.stdout).steps).toEqual([]);
  });

  it('doctor --config-only with no words reviews the file (it used to ask for settings)', () => {
    const review = run('xenplan', 'doctor', '--config-only', '--json');
    expect(review.stderr).toBe('');
    expect(review.status).toBe(0);
    expect(expectReport(review.stdout)).toMatchObject({ command: 'doctor', ok: true });
  });

  it('words still override the file', () => {
    const other = run('network-script', 'status', 'bridge=xenbr9');
    expect(other.status).toBe(3);
  });

  it('a named file that cannot be read is a configuration error naming it', () => {
    const missing = join(dir, 'missing.conf');
    const result = scripts.run('xenplan', ['status'], { ns: dom0, env: { ...env, XENPLAN_CONFIG: missing } });
    expect(result.status).toBe(4);
    expect(result.stderr).toContain(`XENPLAN_CONFIG=${missing}: cannot read it`);
  });

  it('stop with no words undoes the bridge the file names', () => {
    const stopped = run('network-script', 'stop');
    expect(stopped.stderr).toBe('');
    expect(stopped.status).toBe(0);
    expect(stopped.stdout).toMatch(/^xenbr7: [0-9]+ step\(s\) undone/);
    expect(dom0.hasLink('xenbr7')).toBe(false);
    expect(dom0.ping('192.0.2.1')).toBe(true);
  });
});
