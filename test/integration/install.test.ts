import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, Scripts } from '../support/bundle.ts';

/** Every path under `root` with its type, mode and content hash or link target. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const mode = (st.mode & 0o7777).toString(8);
      const rel = path.slice(root.length);
      if (st.isSymbolicLink()) out.push(`l ${rel} -> ${readlinkSync(path)}`);
      else if (st.isDirectory()) {
        out.push(`d ${mode} ${rel}`);
        walk(path);
      } else
        out.push(
          `f ${mode} ${rel} ${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16)}`,
        );
    }
  };
  walk(root);
  return out;
}

describe('xenplan install / uninstall into a prefix, through the built bundle', () => {
  const scripts = new Scripts();
  const work = mkdtempSync(join(tmpdir(), 'xenplan-install-'));
  // A private copy: another build of dist/ during the test must not change what is installed.
  const bundle = join(work, 'xenplan.cjs');
  const env = { XENPLAN_BUNDLE: bundle };
  let n = 0;

  /** A fresh prefix holding an unrelated Xen script and file, as a dom0 would. */
  function prefix(): string {
    const root = join(work, `root${n++}`);
    mkdirSync(join(root, 'etc/xen/scripts'), { recursive: true });
    writeFileSync(join(root, 'etc/xen/scripts/vif-bridge'), '#!/bin/sh\n# Xen own script\n', { mode: 0o755 });
    writeFileSync(join(root, 'etc/motd'), 'hello\n');
    return root;
  }

  const xenplan = (...args: string[]) => scripts.run('xenplan', args, { env });

  beforeAll(() => copyFileSync(BUNDLE, bundle));
  afterAll(() => {
    scripts.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('dry-run shows the plan and changes nothing', () => {
    const root = prefix();
    const before = listing(root);
    const r = xenplan('install', '--prefix', root, '--udev', '--dry-run');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`install -m 0755 ${bundle} ${root}/etc/xen/scripts/vif-xenplan\n`);
    expect(r.stdout).toContain(`ln -sf vif-xenplan ${root}/etc/xen/scripts/network-xenplan\n`);
    expect(r.stdout).toContain('# 6 steps\n');
    expect(listing(root)).toEqual(before);
  });

  it('installs runnable scripts and the rules, prints the config lines, is idempotent, and uninstalls to the same tree', () => {
    const root = prefix();
    const before = listing(root);
    const r = xenplan('install', '--prefix', root, '--udev');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`installed under ${root}: 6 step(s) applied\n`);
    expect(r.stdout).toContain(
      "  (network-script 'network-xenplan bridge=xenbr0 bond=bond0 slaves=eth0,eth1')\n",
    );
    expect(r.stdout).toContain('  (vif-script vif-xenplan)\n');
    expect(r.stdout).toContain('  vif.default.script="vif-xenplan"\n');
    expect(r.stdout).toContain("  vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0,script=vif-xenplan' ]\n");

    const sha = createHash('sha256').update(readFileSync(bundle)).digest('hex').slice(0, 16);
    const rules = createHash('sha256').update(readFileSync('udev/xenplan.rules')).digest('hex').slice(0, 16);
    expect(listing(root).filter((line) => !before.includes(line))).toEqual([
      'd 755 /etc/udev',
      'd 755 /etc/udev/rules.d',
      `f 644 /etc/udev/rules.d/95-xenplan.rules ${rules}`,
      'l /etc/xen/scripts/network-xenplan -> vif-xenplan',
      `f 755 /etc/xen/scripts/vif-xenplan ${sha}`,
      'd 755 /var',
      'd 755 /var/lib',
      'd 755 /var/lib/xenplan',
      expect.stringMatching(/^f 644 \/var\/lib\/xenplan\/installed [0-9a-f]{16}$/),
    ]);

    // The installed names pick their roles.
    const vif = spawnSync(join(root, 'etc/xen/scripts/vif-xenplan'), ['--help'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(vif.status).toBe(0);
    expect(vif.stdout).toMatch(/^Usage: vif-script online\|offline/);
    const network = spawnSync(join(root, 'etc/xen/scripts/network-xenplan'), ['--help'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(network.status).toBe(0);
    expect(network.stdout).toMatch(/^Usage: network-script start\|stop\|status/);

    // Idempotent.
    const installed = listing(root);
    const again = xenplan('install', '--prefix', root, '--udev');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`xenplan is already installed under ${root}: nothing to do (0 steps)\n`);
    const json = xenplan('install', '--prefix', root, '--udev', '--dry-run', '--json');
    expect(JSON.parse(json.stdout)).toEqual({ steps: [], warnings: [], xenstore: [] });
    expect(listing(root)).toEqual(installed);

    // Uninstall restores the tree exactly, and a second uninstall has nothing to do.
    const gone = xenplan('uninstall', '--prefix', root);
    expect(gone.stderr).toBe('');
    expect(gone.status).toBe(0);
    expect(gone.stdout).toBe(`uninstalled under ${root}: 9 step(s) applied\n`);
    expect(listing(root)).toEqual(before);
    const twice = xenplan('uninstall', '--prefix', root);
    expect(twice.status).toBe(0);
    expect(twice.stdout).toBe(
      `warning: nothing to uninstall: no manifest at ${root}/var/lib/xenplan/installed\nnothing to uninstall under ${root} (0 steps)\n`,
    );
  });

  it('refuses a foreign file of the same name; --force moves it aside and uninstall puts it back', () => {
    const root = prefix();
    writeFileSync(join(root, 'etc/xen/scripts/vif-xenplan'), '#!/bin/sh\n# the admin own\n', { mode: 0o700 });
    const before = listing(root);
    const refused = xenplan('install', '--prefix', root);
    expect(refused.status).toBe(5);
    expect(refused.stderr).toContain(`${root}/etc/xen/scripts/vif-xenplan is not xenplan's (a file (sha256 `);
    expect(listing(root)).toEqual(before);

    const forced = xenplan('install', '--prefix', root, '--force');
    expect(forced.stderr).toBe('');
    expect(forced.status).toBe(0);
    expect(readFileSync(join(root, 'etc/xen/scripts/vif-xenplan.xenplan-saved'), 'utf8')).toBe(
      '#!/bin/sh\n# the admin own\n',
    );
    const gone = xenplan('uninstall', '--prefix', root);
    expect(gone.status).toBe(0);
    expect(listing(root)).toEqual(before);
  });

  it('replaces the copy when the bundle changed, and only that', () => {
    const root = prefix();
    const before = listing(root);
    const other = join(work, 'other.cjs');
    writeFileSync(other, `${readFileSync(bundle, 'utf8')}// another build\n`, { mode: 0o755 });
    expect(
      scripts.run('xenplan', ['install', '--prefix', root], { env: { XENPLAN_BUNDLE: other } }).status,
    ).toBe(0);
    const plan = JSON.parse(xenplan('install', '--prefix', root, '--dry-run', '--json').stdout) as {
      steps: { id: string; argv: string[] }[];
    };
    expect(plan.steps.map((s) => s.id)).toEqual([
      'install:manifest',
      'install:file:/etc/xen/scripts/vif-xenplan',
    ]);
    expect(plan.steps[1]!.argv).toEqual([
      'install',
      '-m',
      '0755',
      bundle,
      `${root}/etc/xen/scripts/vif-xenplan`,
    ]);
    const r = xenplan('install', '--prefix', root);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`installed under ${root}: 2 step(s) applied\n`);
    expect(readFileSync(join(root, 'etc/xen/scripts/vif-xenplan'), 'utf8')).toBe(
      readFileSync(bundle, 'utf8'),
    );
    expect(xenplan('uninstall', '--prefix', root).status).toBe(0);
    expect(listing(root)).toEqual(before);
  });

  it('puts the scripts where --scripts-dir says and names that directory in the rules', () => {
    const root = prefix();
    const before = listing(root);
    const r = xenplan('install', '--prefix', root, '--udev', '--scripts-dir', '/usr/lib/xen/scripts');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  (vif-script /usr/lib/xen/scripts/vif-xenplan)\n');
    expect(readFileSync(join(root, 'etc/udev/rules.d/95-xenplan.rules'), 'utf8')).toContain(
      'RUN+="/usr/lib/xen/scripts/vif-xenplan online type_if=vif"',
    );
    expect(xenplan('uninstall', '--prefix', root).status).toBe(0);
    expect(listing(root)).toEqual(before);
  });

  it('has complete help for both commands and refuses unknown options', () => {
    const install = xenplan('install', '--help');
    expect(install.status).toBe(0);
    for (const word of [
      '--prefix',
      '--scripts-dir',
      '--udev',
      '--force',
      '--dry-run',
      '--json',
      'XENPLAN_BUNDLE',
    ])
      expect(install.stdout).toContain(word);
    const uninstall = xenplan('uninstall', '--help');
    expect(uninstall.status).toBe(0);
    for (const word of ['--prefix', '--force', '--dry-run', '/var/lib/xenplan/installed'])
      expect(uninstall.stdout).toContain(word);
    const typo = xenplan('install', '--prefx', '/tmp');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('unknown option --prefx');
    const missing = xenplan('install', '--prefix', join(work, 'nope'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('is not an existing directory');
  });
});
