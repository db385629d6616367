/**
 * xenplan install --agent into a prefix, through the built bundle: the launcher as vif-xenplan
 * with the bundle beside it, the agent's unit enabled, idempotent, and uninstall back to the
 * tree before. Under a prefix systemd is never asked (the unit is started by hand here, with
 * the unit's own ExecStart).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../support/agent.ts';
import { BUNDLE, Scripts } from '../support/bundle.ts';
import { listing, sha16 } from '../support/tree.ts';

const NODE = process.execPath;

describe('xenplan install --agent / uninstall into a prefix, through the built bundle', () => {
  const scripts = new Scripts();
  const work = mkdtempSync(join(tmpdir(), 'xenplan-install-agent-'));
  const bundle = join(work, 'xenplan.cjs');
  copyFileSync(BUNDLE, bundle);
  const env = { XENPLAN_BUNDLE: bundle };
  const xenplan = (...args: string[]) => scripts.run('xenplan', args, { env });
  let agent: ChildProcess | undefined;

  afterAll(() => {
    agent?.kill('SIGKILL');
    scripts.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('puts the launcher, the bundle beside it and the enabled unit in place; idempotent; uninstall restores the tree', async () => {
    const root = join(work, 'root');
    mkdirSync(join(root, 'etc/xen/scripts'), { recursive: true });
    writeFileSync(join(root, 'etc/xen/scripts/vif-bridge'), '#!/bin/sh\n', { mode: 0o755 });
    const before = listing(root);

    const dry = xenplan('install', '--agent', '--prefix', root, '--node', NODE, '--dry-run');
    expect(dry.stderr).toBe('');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(`\ninstall -m 0755 ${bundle} ${root}/etc/xen/scripts/xenplan.cjs\n`);
    expect(dry.stdout).toContain(`\nln -sf xenplan.cjs ${root}/etc/xen/scripts/network-xenplan\n`);
    expect(dry.stdout).not.toContain('systemctl');
    expect(listing(root)).toEqual(before);

    const r = xenplan('install', '--agent', '--prefix', root, '--node', NODE);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`installed under ${root}: 13 step(s) applied\n`);
    expect(r.stdout).toContain(
      '\nagent: /etc/systemd/system/xenplan-agent.service installed and enabled.\nsystemd does not run here: start the agent as the unit does,\n  /etc/xen/scripts/xenplan.cjs agent\n',
    );
    const scriptsDir = join(root, 'etc/xen/scripts');
    const copy = readFileSync(join(scriptsDir, 'xenplan.cjs'));
    expect(copy.subarray(0, copy.indexOf(0x0a)).toString()).toBe(`#!${NODE}`);
    const unit = readFileSync(join(root, 'etc/systemd/system/xenplan-agent.service'), 'utf8');
    expect(unit).toContain('\nExecStart=/etc/xen/scripts/xenplan.cjs agent\n');
    expect(listing(root).filter((line) => !before.includes(line))).toEqual([
      'd 755 /etc/systemd',
      'd 755 /etc/systemd/system',
      'd 755 /etc/systemd/system/multi-user.target.wants',
      'l /etc/systemd/system/multi-user.target.wants/xenplan-agent.service -> ../xenplan-agent.service',
      `f 644 /etc/systemd/system/xenplan-agent.service ${sha16(unit)}`,
      'l /etc/xen/scripts/network-xenplan -> xenplan.cjs',
      `f 755 /etc/xen/scripts/vif-xenplan ${sha16(readFileSync('bin/vif-xenplan'))}`,
      'l /etc/xen/scripts/vif-xenplan-nat -> vif-xenplan',
      'l /etc/xen/scripts/vif-xenplan-ovs -> vif-xenplan',
      'l /etc/xen/scripts/vif-xenplan-route -> vif-xenplan',
      `f 755 /etc/xen/scripts/xenplan.cjs ${sha16(copy)}`,
      'd 755 /var',
      'd 755 /var/lib',
      'd 755 /var/lib/xenplan',
      expect.stringMatching(/^f 644 \/var\/lib\/xenplan\/installed [0-9a-f]{16}$/),
    ]);

    // Idempotent: a second install plans nothing.
    const installed = listing(root);
    const again = xenplan('install', '--agent', '--prefix', root, '--node', NODE);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`xenplan is already installed under ${root}: nothing to do (0 steps)\n`);
    expect(listing(root)).toEqual(installed);

    // The installed names work with no PATH (env -i), through the launcher's cold path.
    const runDir = join(work, 'run');
    const bare = (name: string, extra: string[] = []) =>
      spawnSync(
        '/usr/bin/env',
        ['-i', `XENPLAN_RUN_DIR=${runDir}`, ...extra, join(scriptsDir, name), '--help'],
        {
          encoding: 'utf8',
        },
      );
    const cold = bare('vif-xenplan');
    expect(cold.stderr).toBe('');
    expect(cold.status).toBe(0);
    expect(cold.stdout).toMatch(/^Usage: vif-script online\|offline/);
    expect(bare('vif-xenplan-route').stdout).toBe(cold.stdout);
    expect(bare('network-xenplan').stdout).toMatch(/^Usage: network-script start\|stop\|status/);

    // The agent started as the unit starts it; the launcher hands it the event and prints its answer.
    const execStart = /^ExecStart=(\S+) (\S+)$/m.exec(unit)!;
    agent = spawn(join(root, execStart[1]!), [execStart[2]!], {
      env: { XENPLAN_RUN_DIR: runDir },
      stdio: 'ignore',
    });
    expect(await until(() => existsSync(join(runDir, 'agent')))).toBe(true);
    const served = bare('vif-xenplan');
    expect(served.stderr).toBe('');
    expect(served.status).toBe(0);
    expect(served.stdout).toBe(cold.stdout);
    const stopped = new Promise((resolve) => agent!.once('exit', resolve));
    agent.kill('SIGTERM');
    await stopped;
    expect(existsSync(join(runDir, 'agent'))).toBe(false);

    const gone = xenplan('uninstall', '--prefix', root);
    expect(gone.stderr).toBe('');
    expect(gone.status).toBe(0);
    expect(listing(root)).toEqual(before);
  });
});
