// npm run package: dist/xenplan_<version>_all.deb, built with dpkg-deb from the bundle.
// What goes in (all generated from the repository, nothing typed twice):
//   /usr/lib/xenplan/xenplan.cjs            the bundle, its #! line naming Debian's /usr/bin/node
//   /usr/sbin/xenplan                       relative symlinks to it: the name picks the role
//   /etc/xen/scripts/{vif,network}-xenplan
//   /lib/udev/rules.d/95-xenplan.rules      udev/xenplan.rules (acts on xend-era hosts only)
//   /lib/systemd/system/xenplan-network.service   the boot unit (not enabled by the package)
//   /usr/share/man/man{5,8}/…               from the help texts (xenplan manpage PAGE)
//   /usr/share/bash-completion/completions/ completion for xenplan
//   /etc/xen/xenplan.conf                   etc/xenplan.conf: comments only, a conffile
// Usage: node scripts/package.mjs [--out DIR] [--no-build]   (default dist/)
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? process.argv[outIndex + 1] : join(root, 'dist');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// --no-build packs the bundle already built (tests: rebuilding it under running tests races them).
if (!process.argv.includes('--no-build'))
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
const bundle = join(root, 'dist', 'xenplan.cjs');
const run = (...args) =>
  execFileSync(process.execPath, [bundle, ...args], {
    encoding: 'utf8',
    env: { ...process.env, XENPLAN_AS: 'xenplan' },
  });

const stage = mkdtempSync(join(tmpdir(), 'xenplan-deb-'));
chmodSync(stage, 0o755); // the package's / : mkdtemp makes it 0700
const put = (path, text, mode = 0o644) => {
  const file = join(stage, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, mode);
};
const link = (path, target) => {
  const file = join(stage, path);
  mkdirSync(dirname(file), { recursive: true });
  symlinkSync(relative(dirname(path), target), file);
};

try {
  const LIB = '/usr/lib/xenplan/xenplan.cjs';
  // Xen and udev run scripts with a short PATH: name Debian's node by absolute path.
  put(LIB, readFileSync(bundle, 'utf8').replace(/^#!\/usr\/bin\/env node\n/, '#!/usr/bin/node\n'), 0o755);
  link('/usr/sbin/xenplan', LIB);
  link('/etc/xen/scripts/vif-xenplan', LIB);
  link('/etc/xen/scripts/network-xenplan', LIB);
  put('/lib/udev/rules.d/95-xenplan.rules', readFileSync(join(root, 'udev', 'xenplan.rules'), 'utf8'));
  put('/lib/systemd/system/xenplan-network.service', run('bootunit'));
  for (const [page, section] of [
    ['xenplan', 8],
    ['network-xenplan', 8],
    ['vif-xenplan', 8],
    ['xenplan.conf', 5],
  ])
    put(`/usr/share/man/man${section}/${page}.${section}.gz`, gzipSync(run('manpage', page), { level: 9 }));
  put(
    '/usr/share/bash-completion/completions/xenplan',
    readFileSync(join(root, 'etc', 'xenplan.bash'), 'utf8'),
  );
  put('/etc/xen/xenplan.conf', readFileSync(join(root, 'etc', 'xenplan.conf'), 'utf8'));
  put(
    '/usr/share/doc/xenplan/copyright',
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: xenplan\n\nFiles: *\nLicense: MIT\n',
  );
  put('/DEBIAN/conffiles', '/etc/xen/xenplan.conf\n');
  put(
    '/DEBIAN/control',
    [
      'Package: xenplan',
      `Version: ${version}`,
      'Architecture: all',
      'Maintainer: xenplan <xenplan@localhost>',
      'Section: admin',
      'Priority: optional',
      // The bundle needs Node 18.19+; ip, bridge and sysctl come from iproute2 and procps.
      'Depends: nodejs (>= 18.19), iproute2, procps',
      'Suggests: xen-utils-common',
      'Description: Xen network hotplug scripts, planned, idempotent, dry-runnable',
      ' network-xenplan builds the bridge (and bond) guests hang off, vif-xenplan',
      ' attaches their vifs; both plan, apply and verify, and dry-run what they would do.',
      ' The boot unit xenplan-network.service is installed but not enabled.',
      '',
    ].join('\n'),
  );
  mkdirSync(out, { recursive: true });
  const deb = join(out, `xenplan_${version}_all.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  console.log(`built ${relative(process.cwd(), deb) || deb}`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
