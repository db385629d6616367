import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireCommand, requireNetns } from '../support/env.ts';
import { dom0WithGateway, type Netns } from '../support/netns.ts';

// npm run package (on the bundle the tests built), then the .deb installed into a throwaway root with dpkg
// --root: every file lands, the installed network-xenplan builds a bridge in a namespace from
// the installed /etc/xen/xenplan.conf alone, and purging leaves nothing behind.
const hasDpkg = requireCommand('dpkg-deb') && requireCommand('dpkg');
const can = requireNetns();

const FILES = [
  '/etc/xen/scripts/network-xenplan',
  '/etc/xen/scripts/vif-xenplan',
  '/etc/xen/xenplan.conf',
  '/lib/systemd/system/xenplan-network.service',
  '/lib/udev/rules.d/95-xenplan.rules',
  '/usr/lib/xenplan/xenplan.cjs',
  '/usr/sbin/xenplan',
  '/usr/share/bash-completion/completions/xenplan',
  '/usr/share/doc/xenplan/copyright',
  '/usr/share/man/man5/xenplan.conf.5.gz',
  '/usr/share/man/man8/network-xenplan.8.gz',
  '/usr/share/man/man8/vif-xenplan.8.gz',
  '/usr/share/man/man8/xenplan.8.gz',
];

/** Every path under dir (files, links, directories), relative, sorted. */
function tree(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const path = join(dir, e.name);
      return [path.slice(base.length), ...(e.isDirectory() ? tree(path, base) : [])];
    })
    .sort();
}

describe.runIf(hasDpkg && can.ok)('the Debian package in a throwaway root', () => {
  const work = mkdtempSync(join(tmpdir(), 'xenplan-pkg-'));
  const root = join(work, 'root');
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const deb = join(work, `xenplan_${version}_all.deb`);
  const dpkg = (...args: string[]) =>
    spawnSync('dpkg', [`--root=${root}`, '--force-depends', '--force-script-chrootless', ...args], {
      encoding: 'utf8',
    });
  let dom0: Netns;
  let upstream: Netns;

  beforeAll(() => {
    execFileSync(process.execPath, [resolve('scripts/package.mjs'), '--out', work, '--no-build'], {
      stdio: 'ignore',
    });
    for (const dir of ['var/lib/dpkg/info', 'var/lib/dpkg/updates'])
      mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, 'var/lib/dpkg/status'), '');
    ({ dom0, upstream } = dom0WithGateway('pkg'));
  });

  afterAll(() => {
    for (const ns of [dom0, upstream]) ns?.delete();
    rmSync(work, { recursive: true, force: true });
  });

  it('installs every file, a config that builds nothing, and no enabled unit', () => {
    const installed = dpkg('-i', deb);
    expect(installed.status, installed.stderr).toBe(0);
    const files = tree(root).filter((p) => !p.startsWith('/var'));
    for (const file of FILES) expect(files).toContain(file);
    expect(files.some((p) => p.includes('.wants'))).toBe(false);
    const conf = readFileSync(join(root, 'etc/xen/xenplan.conf'), 'utf8');
    expect(conf.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))).toEqual([]);
    expect(readFileSync(join(root, 'usr/lib/xenplan/xenplan.cjs'), 'utf8')).toMatch(/^#!\/usr\/bin\/node\n/);
  });

  it('the installed network-xenplan builds and removes the bridge from the installed config alone', () => {
    const conf = join(root, 'etc/xen/xenplan.conf');
    writeFileSync(conf, `${readFileSync(conf, 'utf8')}bridge=xenbr3\nnetdev=eth0\n`);
    const script = join(root, 'etc/xen/scripts/network-xenplan');
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      XENPLAN_CONFIG: conf,
      XENPLAN_RUN_DIR: join(work, 'run'),
    };
    mkdirSync(env.XENPLAN_RUN_DIR);
    // The package's #! names Debian's /usr/bin/node; this host's node runs it the same way.
    const run = (...args: string[]) => dom0.exec([process.execPath, script, ...args], { env });
    const started = run('start');
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);
    expect(dom0.link('eth0').master).toBe('xenbr3');
    expect(dom0.ping('192.0.2.1')).toBe(true);
    expect(run('status').status).toBe(0);
    const stopped = run('stop');
    expect(stopped.status).toBe(0);
    expect(dom0.hasLink('xenbr3')).toBe(false);
  });

  it("purging leaves nothing behind but dpkg's own records", () => {
    const purged = dpkg('-P', 'xenplan');
    expect(purged.status, purged.stderr).toBe(0);
    expect(tree(root).filter((p) => !p.startsWith('/var'))).toEqual([]);
  });
});
