import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, Scripts } from '../support/bundle.ts';
import { expectReport } from '../support/schema.ts';
import { listing, sha16 } from '../support/tree.ts';

/** The node running this test: what the installed scripts are told to run with. */
const NODE = process.execPath;

/**
 * Runs a script with an empty environment (`env -i`), or with only PATH=`path`: no PATH that
 * finds node (with PATH unset, env's own lookup would still try /bin:/usr/bin).
 */
function runBare(script: string, args: string[], path?: string) {
  const env = path === undefined ? [] : [`PATH=${path}`];
  return spawnSync('/usr/bin/env', ['-i', ...env, script, ...args], { encoding: 'utf8' });
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
    const r = xenplan('install', '--prefix', root, '--udev', '--node', NODE, '--dry-run');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`\ninstall -m 0755 ${bundle} ${root}/etc/xen/scripts/vif-xenplan\n`);
    expect(r.stdout).toContain(
      `\n# [install] /etc/xen/scripts/vif-xenplan starts with #!${NODE}: Xen and udev run it with a short PATH, where env may not find node\nsed -i '1s|^#!.*$|#!${NODE}|' ${root}/etc/xen/scripts/vif-xenplan\n`,
    );
    expect(r.stdout).toContain(`ln -sf vif-xenplan ${root}/etc/xen/scripts/network-xenplan\n`);
    expect(r.stdout).toContain('# 10 steps\n');
    expect(listing(root)).toEqual(before);
  });

  it('installs runnable scripts and the rules, prints the config lines, is idempotent, and uninstalls to the same tree', () => {
    const root = prefix();
    const before = listing(root);
    const r = xenplan('install', '--prefix', root, '--udev', '--node', NODE);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`installed under ${root}: 10 step(s) applied\n`);
    expect(r.stdout).toContain(
      `They run with ${NODE}: their first line is #!${NODE}, so no PATH lookup is needed.\n`,
    );
    expect(r.stdout).toContain(
      "  (network-script 'network-xenplan bridge=xenbr0 bond=bond0 slaves=eth0,eth1')\n",
    );
    expect(r.stdout).toContain('  (vif-script vif-xenplan)\n');
    expect(r.stdout).toContain('  vif.default.script="vif-xenplan"\n');
    expect(r.stdout).toContain("  vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0,script=vif-xenplan' ]\n");

    // The copy is the bundle with its first line naming this node; the rest byte for byte.
    const source = readFileSync(bundle);
    const copy = readFileSync(join(root, 'etc/xen/scripts/vif-xenplan'));
    const eol = source.indexOf(0x0a);
    expect(source.subarray(0, eol).toString()).toBe('#!/usr/bin/env node');
    expect(copy.subarray(0, copy.indexOf(0x0a)).toString()).toBe(`#!${NODE}`);
    expect(copy.subarray(copy.indexOf(0x0a)).equals(source.subarray(eol))).toBe(true);
    expect(readFileSync(BUNDLE).subarray(eol).equals(source.subarray(eol))).toBe(true);
    const sha = sha16(copy);
    const rules = sha16(readFileSync('udev/xenplan.rules'));
    expect(listing(root).filter((line) => !before.includes(line))).toEqual([
      'd 755 /etc/udev',
      'd 755 /etc/udev/rules.d',
      `f 644 /etc/udev/rules.d/95-xenplan.rules ${rules}`,
      'l /etc/xen/scripts/network-xenplan -> vif-xenplan',
      `f 755 /etc/xen/scripts/vif-xenplan ${sha}`,
      'l /etc/xen/scripts/vif-xenplan-nat -> vif-xenplan',
      'l /etc/xen/scripts/vif-xenplan-ovs -> vif-xenplan',
      'l /etc/xen/scripts/vif-xenplan-route -> vif-xenplan',
      'd 755 /var',
      'd 755 /var/lib',
      'd 755 /var/lib/xenplan',
      expect.stringMatching(/^f 644 \/var\/lib\/xenplan\/installed [0-9a-f]{16}$/),
    ]);

    // The manifest records the sha256 of what is installed, not of the bundle.
    expect(readFileSync(join(root, 'var/lib/xenplan/installed'), 'utf8')).toContain(
      `"sha256": "${createHash('sha256').update(copy).digest('hex')}"`,
    );

    // The installed names pick their roles, with no PATH at all (env -i): the #! line names node.
    const vif = runBare(join(root, 'etc/xen/scripts/vif-xenplan'), ['--help']);
    expect(vif.stderr).toBe('');
    expect(vif.status).toBe(0);
    expect(vif.stdout).toMatch(/^Usage: vif-script online\|offline/);
    const network = runBare(join(root, 'etc/xen/scripts/network-xenplan'), ['--help']);
    expect(network.status).toBe(0);
    // A PATH without node: the bundle as built (#!/usr/bin/env node) dies, the installed copy runs.
    const empty = mkdtempSync(join(work, 'empty-'));
    const stranded = runBare(bundle, ['--help'], empty);
    expect(stranded.status).toBe(127);
    expect(stranded.stderr).toContain('node');
    const found = runBare(join(root, 'etc/xen/scripts/vif-xenplan'), ['--help'], empty);
    expect(found.stderr).toBe('');
    expect(found.status).toBe(0);
    expect(found.stdout).toBe(vif.stdout);
    expect(network.stdout).toMatch(/^Usage: network-script start\|stop\|status/);

    // Idempotent.
    const installed = listing(root);
    const again = xenplan('install', '--prefix', root, '--udev', '--node', NODE);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`xenplan is already installed under ${root}: nothing to do (0 steps)\n`);
    const json = xenplan('install', '--prefix', root, '--udev', '--node', NODE, '--dry-run', '--json');
    expect(expectReport(json.stdout)).toMatchObject({
      command: 'install',
      steps: [],
      warnings: [],
      xenstore: [],
    });
    expect(listing(root)).toEqual(installed);

    // Uninstall restores the tree exactly, and a second uninstall has nothing to do.
    const gone = xenplan('uninstall', '--prefix', root);
    expect(gone.stderr).toBe('');
    expect(gone.status).toBe(0);
    expect(gone.stdout).toBe(`uninstalled under ${root}: 12 step(s) applied\n`);
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

    const forced = xenplan('install', '--prefix', root, '--force', '--node', NODE);
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
      scripts.run('xenplan', ['install', '--prefix', root, '--node', NODE], {
        env: { XENPLAN_BUNDLE: other },
      }).status,
    ).toBe(0);
    const plan = expectReport(
      xenplan('install', '--prefix', root, '--node', NODE, '--dry-run', '--json').stdout,
    ) as unknown as {
      steps: { id: string; argv: string[] }[];
    };
    expect(plan.steps.map((s) => s.id)).toEqual([
      'install:manifest',
      'install:file:/etc/xen/scripts/vif-xenplan',
      'install:interpreter:/etc/xen/scripts/vif-xenplan',
    ]);
    expect(plan.steps.slice(1).map((s) => s.argv)).toEqual([
      ['install', '-m', '0755', bundle, `${root}/etc/xen/scripts/vif-xenplan`],
      ['sed', '-i', `1s|^#!.*$|#!${NODE}|`, `${root}/etc/xen/scripts/vif-xenplan`],
    ]);
    const r = xenplan('install', '--prefix', root, '--node', NODE);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`installed under ${root}: 3 step(s) applied\n`);
    expect(readFileSync(join(root, 'etc/xen/scripts/vif-xenplan'), 'utf8')).toBe(
      readFileSync(bundle, 'utf8').replace(/^#!.*/, `#!${NODE}`),
    );
    expect(xenplan('uninstall', '--prefix', root).status).toBe(0);
    expect(listing(root)).toEqual(before);
  });

  it('puts the scripts where --scripts-dir says and names that directory in the rules', () => {
    const root = prefix();
    const before = listing(root);
    const r = xenplan(
      'install',
      '--prefix',
      root,
      '--udev',
      '--scripts-dir',
      '/usr/lib/xen/scripts',
      '--node',
      NODE,
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  (vif-script /usr/lib/xen/scripts/vif-xenplan)\n');
    expect(readFileSync(join(root, 'etc/udev/rules.d/95-xenplan.rules'), 'utf8')).toContain(
      'RUN+="/usr/lib/xen/scripts/vif-xenplan online type_if=vif"',
    );
    expect(xenplan('uninstall', '--prefix', root).status).toBe(0);
    expect(listing(root)).toEqual(before);
  });

  it('replaces the copy when another --node is asked for; by default names the node running xenplan', () => {
    const root = prefix();
    const before = listing(root);
    expect(xenplan('install', '--prefix', root, '--node', NODE).status).toBe(0);
    const vif = join(root, 'etc/xen/scripts/vif-xenplan');
    const first = readFileSync(vif);

    // Another path to an executable node: a symlink, as /usr/local/bin/node often is.
    mkdirSync(join(work, 'bin'), { recursive: true });
    const alias = join(work, 'bin/node');
    symlinkSync(NODE, alias);
    const plan = expectReport(
      xenplan('install', '--prefix', root, '--node', alias, '--dry-run', '--json').stdout,
    ) as unknown as { steps: { id: string; argv: string[] }[] };
    expect(plan.steps.map((s) => s.id)).toEqual([
      'install:manifest',
      'install:file:/etc/xen/scripts/vif-xenplan',
      'install:interpreter:/etc/xen/scripts/vif-xenplan',
    ]);
    const r = xenplan('install', '--prefix', root, '--node', alias);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`installed under ${root}: 3 step(s) applied\n`);
    expect(r.stdout).toContain(`They run with ${alias}: their first line is #!${alias},`);
    const second = readFileSync(vif);
    expect(second.subarray(0, second.indexOf(0x0a)).toString()).toBe(`#!${alias}`);
    expect(second.subarray(second.indexOf(0x0a)).equals(first.subarray(first.indexOf(0x0a)))).toBe(true);
    expect(runBare(vif, ['--help']).status).toBe(0);
    expect(xenplan('install', '--prefix', root, '--node', alias).stdout).toContain('nothing to do (0 steps)');

    // Without --node: the node the bundle runs under (here found on PATH by #!/usr/bin/env node).
    const running = spawnSync('node', ['-p', 'process.execPath'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    }).stdout.trim();
    const plain = xenplan('install', '--prefix', root);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toContain(`They run with ${running}:`);
    const third = readFileSync(vif, 'utf8');
    expect(third.slice(0, third.indexOf('\n'))).toBe(`#!${running}`);

    expect(xenplan('uninstall', '--prefix', root).status).toBe(0);
    expect(listing(root)).toEqual(before);
  });

  it('refuses a --node that is not an absolute path to an executable file, naming it, and changes nothing', () => {
    const root = prefix();
    const before = listing(root);
    for (const [node, problem] of [
      ['node', '--node "node" cannot go in the scripts\' #! line: expected an absolute path'],
      [join(work, 'nope/node'), `--node "${join(work, 'nope/node')}": expected an executable file (ENOENT)`],
      [join(root, 'etc/motd'), `--node "${join(root, 'etc/motd')}": expected an executable file (EACCES)`],
      [join(root, 'etc'), `--node "${join(root, 'etc')}": expected an executable file (not a regular file)`],
      ['/opt/my node', '--node "/opt/my node" cannot go in the scripts\' #! line: expected only letters'],
      ['/usr/bin/no|de', '--node "/usr/bin/no|de" cannot go in the scripts\' #! line: expected only letters'],
    ]) {
      const r = xenplan('install', '--prefix', root, '--node', node!);
      expect(r.status).toBe(4);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(problem);
    }
    expect(listing(root)).toEqual(before);
  });

  it('has complete help for both commands and refuses unknown options', () => {
    const install = xenplan('install', '--help');
    expect(install.status).toBe(0);
    for (const word of [
      '--prefix',
      '--scripts-dir',
      '--node',
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
