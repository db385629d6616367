import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderBootUnit } from '../../src/plan/boot-unit.ts';
import { Scripts } from '../support/bundle.ts';
import { requireCommand } from '../support/env.ts';

// xenplan install --boot into a throwaway root: the unit and its enabling link land, systemd's
// own checker accepts the unit as installed, and uninstall takes both away again.
const hasAnalyze = requireCommand('systemd-analyze');
const scripts = new Scripts();
const work = mkdtempSync(join(tmpdir(), 'xenplan-boot-'));
afterAll(() => {
  scripts.remove();
  rmSync(work, { recursive: true, force: true });
});

describe('xenplan install --boot', () => {
  const root = join(work, 'root');
  // A scripts directory that exists on this host too, so systemd-analyze finds ExecStart's file.
  const scriptsDir = join(work, 'scripts');
  const xenplan = (...args: string[]) => scripts.run('xenplan', args);

  it('installs and enables the unit; systemd-analyze verify accepts it', () => {
    mkdirSync(root);
    const installed = xenplan('install', '--prefix', root, '--scripts-dir', scriptsDir, '--boot');
    expect(installed.stderr).toBe('');
    expect(installed.status).toBe(0);
    const unit = join(root, 'etc/systemd/system/xenplan-network.service');
    expect(readFileSync(unit, 'utf8')).toBe(renderBootUnit(scriptsDir));
    expect(
      readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/xenplan-network.service')),
    ).toBe('../xenplan-network.service');
    expect(installed.stdout).toContain('boot unit: /etc/systemd/system/xenplan-network.service, enabled');
    if (!hasAnalyze) return;
    symlinkSync(join(root, scriptsDir), scriptsDir);
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' });
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
  });

  it('a second install --boot plans nothing; uninstall removes the unit and the link', () => {
    const again = xenplan('install', '--prefix', root, '--scripts-dir', scriptsDir, '--boot', '--dry-run');
    expect(again.stdout).toContain('# nothing to do: the host already matches (0 steps)');
    const removed = xenplan('uninstall', '--prefix', root);
    expect(removed.status).toBe(0);
    expect(existsSync(join(root, 'etc/systemd'))).toBe(false);
    expect(existsSync(join(root, 'etc/xen'))).toBe(false);
  });
});
