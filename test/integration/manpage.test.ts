import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireCommand } from '../support/env.ts';

// The built bundle's help as an admin meets it: --help, help COMMAND, version, and the man
// pages made from the same texts, rendered by the real man(1).
const hasMan = requireCommand('man');
const scripts = new Scripts();
const dir = mkdtempSync(join(tmpdir(), 'xenplan-man-'));
afterAll(() => {
  scripts.remove();
  rmSync(dir, { recursive: true, force: true });
});

const PAGES = [
  ['xenplan', 'xenplan - plan, apply and check Xen dom0 networking', 'XENPLAN DOCTOR'],
  ['network-xenplan', "network-xenplan - build dom0's bridge (Xen network-script)", 'SETTINGS'],
  ['vif-xenplan', "vif-xenplan - attach a guest's vif (Xen vif-script)", 'ENVIRONMENT (SET BY XEN)'],
  ['xenplan.conf', 'xenplan.conf - settings of network-xenplan and vif-xenplan', 'HOST-WIDE VIF SETTINGS'],
] as const;

describe('help, version and man pages of the bundle', () => {
  it('help COMMAND prints what COMMAND --help prints', () => {
    for (const command of ['doctor', 'install', 'uninstall', 'bridge-port', 'lab', 'network']) {
      const help = scripts.run('xenplan', ['help', command]);
      expect(help.status).toBe(0);
      expect(help.stdout).toBe(scripts.run('xenplan', [command, '--help']).stdout);
    }
    const bad = scripts.run('xenplan', ['help', 'frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('help: no command "frobnicate"');
  });

  it('every role prints help within 80 columns', () => {
    for (const [name, args] of [
      ['xenplan', ['--help']],
      ['network-script', ['--help']],
      ['vif-script', ['--help']],
      ['xenplan', ['help', 'xenplan.conf']],
    ] as const) {
      const help = scripts.run(name, [...args]);
      expect(help.status).toBe(0);
      expect(help.stdout.split('\n').filter((l) => l.length > 80)).toEqual([]);
    }
  });

  it('version works like --version', () => {
    const version = scripts.run('xenplan', ['version']);
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+\n$/);
    expect(scripts.run('xenplan', ['--version']).stdout).toBe(version.stdout);
  });

  it.runIf(hasMan).each(PAGES)('man -l renders %s', (page, name, section) => {
    const made = scripts.run('xenplan', ['manpage', page]);
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    const file = join(dir, `${page}.man`);
    writeFileSync(file, made.stdout);
    const shown = spawnSync('man', ['-P', 'cat', '-l', file], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '80', LC_ALL: 'C.UTF-8', MAN_KEEP_FORMATTING: '' },
    });
    expect(shown.stderr).toBe('');
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain(name);
    expect(shown.stdout).toContain(section);
  });
});
