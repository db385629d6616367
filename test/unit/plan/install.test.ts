import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { XenplanError } from '../../../src/model/error.ts';
import {
  type InstalledState,
  MANIFEST_PATH,
  type Manifest,
  type PathState,
  parseManifest,
  renderManifest,
} from '../../../src/model/install.ts';
import { type InstallRequest, installPaths, planInstall } from '../../../src/plan/install.ts';
import { renderInstallNotes } from '../../../src/plan/install-notes.ts';
import {
  checkNodePath,
  interpreterSedExpression,
  renderInstalledScript,
} from '../../../src/plan/install-script.ts';
import { renderUdevRules } from '../../../src/plan/udev-rules.ts';
import { planUninstall } from '../../../src/plan/uninstall.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const R = 'c'.repeat(64);
const F = 'f'.repeat(64);
/** The bundle as built (#!/usr/bin/env node); A is it with #!/usr/bin/node, N with #!/opt/node/bin/node. */
const E = 'e'.repeat(64);
const N = '9'.repeat(64);
const P = '/tmp/p';

const req = (extra: Partial<InstallRequest> = {}): InstallRequest => ({
  prefix: P,
  scriptsDir: '/etc/xen/scripts',
  udev: false,
  force: false,
  bundlePath: '/opt/xenplan.cjs',
  bundleSha256: E,
  node: '/usr/bin/node',
  scriptSha256: A,
  udevRules: 'RULES\n',
  udevRulesSha256: R,
  ...extra,
});

const dir = (...entries: string[]): PathState => ({ kind: 'dir', entries });
const file = (sha256: string): PathState => ({ kind: 'file', sha256 });
const link = (target: string): PathState => ({ kind: 'link', target });

function state(paths: Record<string, PathState>, manifest?: Manifest): InstalledState {
  return {
    manifestText: manifest === undefined ? undefined : renderManifest(manifest),
    manifest,
    paths: new Map(Object.entries(paths)),
  };
}

/** A host that has /etc/xen/scripts (with Xen's own script), /var/lib, nothing of ours. */
const bare = {
  '/etc': dir('xen'),
  '/etc/xen': dir('scripts'),
  '/etc/xen/scripts': dir('vif-bridge'),
  '/var': dir('lib'),
  '/var/lib': dir(),
};

/** The vif modes' names, links to vif-xenplan (the bundle picks its mode by name). */
const MODES = ['vif-xenplan-route', 'vif-xenplan-nat', 'vif-xenplan-ovs'];
const modeLinks = Object.fromEntries(MODES.map((name) => [`/etc/xen/scripts/${name}`, link('vif-xenplan')]));
const modeSteps = (prefix: string) =>
  MODES.map((name) => `ln -sf vif-xenplan ${prefix}/etc/xen/scripts/${name}`);
const modeIds = MODES.map((name) => `install:link:/etc/xen/scripts/${name}`);

const installed: Manifest = {
  entries: [
    { kind: 'link', path: '/etc/xen/scripts/network-xenplan', target: 'vif-xenplan' },
    { kind: 'file', path: '/etc/xen/scripts/vif-xenplan', sha256: A },
    ...[...MODES].sort().map((name) => ({
      kind: 'link' as const,
      path: `/etc/xen/scripts/${name}`,
      target: 'vif-xenplan',
    })),
    { kind: 'dir', path: '/var/lib/xenplan' },
  ],
};

const afterInstall = {
  ...bare,
  '/etc/xen/scripts': dir('network-xenplan', 'vif-bridge', 'vif-xenplan', ...MODES),
  '/etc/xen/scripts/vif-xenplan': file(A),
  '/etc/xen/scripts/network-xenplan': link('vif-xenplan'),
  ...modeLinks,
  '/var/lib': dir('xenplan'),
  '/var/lib/xenplan': dir('installed'),
  [MANIFEST_PATH]: file(F),
};

const write = (content: string, dst: string) => [
  'sh',
  '-c',
  'printf "%s" "$1" >"$2" && chmod 0644 "$2"',
  'sh',
  content,
  dst,
];

describe('planInstall', () => {
  it('plans mkdir, manifest, copy and link on a fresh host, in that order', () => {
    const { plan, manifest } = planInstall(req(), state(bare));
    expect(manifest).toEqual(installed);
    expect(plan.warnings).toEqual([]);
    expect(plan.steps).toEqual([
      {
        id: 'install:mkdir:/var/lib/xenplan',
        phase: 'install',
        argv: ['mkdir', '-p', '/tmp/p/var/lib/xenplan'],
        reason: 'make /var/lib/xenplan (missing)',
        disruptive: false,
      },
      {
        id: 'install:manifest',
        phase: 'install',
        argv: write(renderManifest(installed), '/tmp/p/var/lib/xenplan/installed'),
        reason: 'record what install puts here in /var/lib/xenplan/installed',
        disruptive: false,
      },
      {
        id: 'install:file:/etc/xen/scripts/vif-xenplan',
        phase: 'install',
        argv: ['install', '-m', '0755', '/opt/xenplan.cjs', '/tmp/p/etc/xen/scripts/vif-xenplan'],
        reason: '/etc/xen/scripts/vif-xenplan is missing: the running bundle, run by /usr/bin/node',
        disruptive: false,
      },
      {
        id: 'install:interpreter:/etc/xen/scripts/vif-xenplan',
        phase: 'install',
        argv: ['sed', '-i', '1s|^#!.*$|#!/usr/bin/node|', '/tmp/p/etc/xen/scripts/vif-xenplan'],
        reason:
          '/etc/xen/scripts/vif-xenplan starts with #!/usr/bin/node: Xen and udev run it with a short PATH, where env may not find node',
        disruptive: false,
      },
      {
        id: 'install:link:/etc/xen/scripts/network-xenplan',
        phase: 'install',
        argv: ['ln', '-sf', 'vif-xenplan', '/tmp/p/etc/xen/scripts/network-xenplan'],
        reason: '/etc/xen/scripts/network-xenplan is missing: symlink to vif-xenplan',
        disruptive: false,
      },
      ...MODES.map((name) => ({
        id: `install:link:/etc/xen/scripts/${name}`,
        phase: 'install',
        argv: ['ln', '-sf', 'vif-xenplan', `/tmp/p/etc/xen/scripts/${name}`],
        reason: `/etc/xen/scripts/${name} is missing: symlink to vif-xenplan`,
        disruptive: false,
      })),
    ]);
  });

  it('records every directory level it makes and writes the udev rules with --udev', () => {
    const { plan, manifest } = planInstall(req({ udev: true, prefix: '' }), state({}));
    expect(plan.steps.map((s) => s.argv.join(' ').split('\n')[0])).toEqual([
      'mkdir -p /etc/udev/rules.d',
      'mkdir -p /etc/xen/scripts',
      'mkdir -p /var/lib/xenplan',
      'sh -c printf "%s" "$1" >"$2" && chmod 0644 "$2" sh {',
      'install -m 0755 /opt/xenplan.cjs /etc/xen/scripts/vif-xenplan',
      'sed -i 1s|^#!.*$|#!/usr/bin/node| /etc/xen/scripts/vif-xenplan',
      'ln -sf vif-xenplan /etc/xen/scripts/network-xenplan',
      ...modeSteps(''),
      'sh -c printf "%s" "$1" >"$2" && chmod 0644 "$2" sh RULES',
    ]);
    expect(plan.steps[10]!.argv).toEqual(write('RULES\n', '/etc/udev/rules.d/95-xenplan.rules'));
    expect(manifest.entries.filter((e) => e.kind === 'dir').map((e) => e.path)).toEqual([
      '/etc',
      '/etc/udev',
      '/etc/udev/rules.d',
      '/etc/xen',
      '/etc/xen/scripts',
      '/var',
      '/var/lib',
      '/var/lib/xenplan',
    ]);
  });

  it('plans zero steps when the same bundle is already installed with the same node', () => {
    const { plan, manifest } = planInstall(req(), state(afterInstall, installed));
    expect(plan.steps).toEqual([]);
    expect(plan.warnings).toEqual([]);
    expect(manifest).toEqual(installed);
  });

  it('replaces the copy (and records its new sha256) when another node is asked for', () => {
    const { plan, manifest } = planInstall(
      req({ node: '/opt/node/bin/node', scriptSha256: N }),
      state(afterInstall, installed),
    );
    expect(plan.steps.map((s) => [s.id, s.argv.length === 6 ? 'write' : s.argv.join(' ')])).toEqual([
      ['install:manifest', 'write'],
      [
        'install:file:/etc/xen/scripts/vif-xenplan',
        'install -m 0755 /opt/xenplan.cjs /tmp/p/etc/xen/scripts/vif-xenplan',
      ],
      [
        'install:interpreter:/etc/xen/scripts/vif-xenplan',
        'sed -i 1s|^#!.*$|#!/opt/node/bin/node| /tmp/p/etc/xen/scripts/vif-xenplan',
      ],
    ]);
    expect(plan.steps[1]!.reason).toBe(
      '/etc/xen/scripts/vif-xenplan is an older install (a file (sha256 aaaaaaaaaaaa…)): replace with the running bundle, run by /opt/node/bin/node',
    );
    expect(manifest.entries[1]).toEqual({ kind: 'file', path: '/etc/xen/scripts/vif-xenplan', sha256: N });
    expect(plan.steps[0]!.argv[4]).toBe(renderManifest(manifest));
  });

  it('finishes an install that stopped between the copy and the #! rewrite, without --force', () => {
    const { plan } = planInstall(
      req(),
      state({ ...afterInstall, '/etc/xen/scripts/vif-xenplan': file(E) }, installed),
    );
    expect(plan.steps.map((s) => s.id)).toEqual([
      'install:file:/etc/xen/scripts/vif-xenplan',
      'install:interpreter:/etc/xen/scripts/vif-xenplan',
    ]);
    expect(plan.steps[0]!.reason).toBe(
      '/etc/xen/scripts/vif-xenplan is the bundle before its #! line was rewritten (an install stopped half way): replace with the running bundle, run by /usr/bin/node',
    );
  });

  it('refuses a node path that cannot go in a #! line or a sed expression, as a config error naming it', () => {
    for (const [node, problem] of [
      ['node', 'expected an absolute path'],
      ['/opt/my node/bin/node', 'expected only letters, digits and . _ + @ / -'],
      ['/opt/a|b/node', 'expected only letters, digits and . _ + @ / -'],
      ['/opt/a&b/node', 'expected only letters, digits and . _ + @ / -'],
      ['/opt/node\n/node', 'expected only letters, digits and . _ + @ / -'],
      ['/usr/bin/node\n', 'expected only letters, digits and . _ + @ / -'],
      ['/usr/bin/', 'expected a file, not a directory path ending in /'],
      [`/${'n'.repeat(125)}`, 'expected at most 125 characters'],
    ] as const) {
      expect(checkNodePath(node)).toContain(problem);
      let caught: unknown;
      try {
        planInstall(req({ node }), state(bare));
      } catch (error) {
        caught = error;
      }
      expect((caught as XenplanError).kind).toBe('config');
      expect((caught as XenplanError).message).toContain(`node ${JSON.stringify(node)} cannot be`);
    }
    expect(checkNodePath(`/${'n'.repeat(124)}`)).toBeUndefined();
    expect(checkNodePath('/root/.nvm/versions/node/v22.11.0/bin/node')).toBeUndefined();
  });

  it('replaces an older install of ours with the running bundle and updates the manifest', () => {
    const older: Manifest = {
      entries: installed.entries.map((e) => (e.kind === 'file' ? { ...e, sha256: B } : e)),
    };
    const { plan } = planInstall(
      req(),
      state({ ...afterInstall, '/etc/xen/scripts/vif-xenplan': file(B) }, older),
    );
    expect(plan.steps.map((s) => [s.id, s.argv.length === 6 ? 'write' : s.argv.join(' ')])).toEqual([
      ['install:manifest', 'write'],
      [
        'install:file:/etc/xen/scripts/vif-xenplan',
        'install -m 0755 /opt/xenplan.cjs /tmp/p/etc/xen/scripts/vif-xenplan',
      ],
      [
        'install:interpreter:/etc/xen/scripts/vif-xenplan',
        'sed -i 1s|^#!.*$|#!/usr/bin/node| /tmp/p/etc/xen/scripts/vif-xenplan',
      ],
    ]);
    expect(plan.steps[0]!.argv[4]).toBe(renderManifest(installed));
    expect(plan.steps[1]!.reason).toBe(
      '/etc/xen/scripts/vif-xenplan is an older install (a file (sha256 bbbbbbbbbbbb…)): replace with the running bundle, run by /usr/bin/node',
    );
  });

  it('refuses a foreign file of the same name, naming it, and plans nothing', () => {
    const host = { ...bare, '/etc/xen/scripts/vif-xenplan': file(B) };
    expect(() => planInstall(req(), state(host))).toThrowError(
      "install would overwrite what is not xenplan's: /tmp/p/etc/xen/scripts/vif-xenplan is not xenplan's (a file (sha256 bbbbbbbbbbbb…)). Move it away, or use --force (a foreign file is moved to NAME.xenplan-saved and restored by uninstall)",
    );
    try {
      planInstall(req(), state(host));
    } catch (error) {
      expect((error as XenplanError).kind).toBe('environment');
    }
  });

  it('refuses a file of ours that was changed since install', () => {
    const host = { ...afterInstall, '/etc/xen/scripts/network-xenplan': link('/usr/bin/false') };
    expect(() => planInstall(req(), state(host, installed))).toThrowError(
      '/tmp/p/etc/xen/scripts/network-xenplan changed since xenplan installed it (now a symlink to /usr/bin/false)',
    );
  });

  it('with --force moves a foreign file aside and records it, so uninstall can put it back', () => {
    const host = { ...bare, '/etc/xen/scripts/vif-xenplan': file(B) };
    const { plan, manifest } = planInstall(req({ force: true }), state(host));
    expect(plan.steps.map((s) => s.id)).toEqual([
      'install:mkdir:/var/lib/xenplan',
      'install:manifest',
      'install:save:/etc/xen/scripts/vif-xenplan',
      'install:file:/etc/xen/scripts/vif-xenplan',
      'install:interpreter:/etc/xen/scripts/vif-xenplan',
      'install:link:/etc/xen/scripts/network-xenplan',
      ...modeIds,
    ]);
    expect(plan.steps[2]!.argv).toEqual([
      'mv',
      '-f',
      '/tmp/p/etc/xen/scripts/vif-xenplan',
      '/tmp/p/etc/xen/scripts/vif-xenplan.xenplan-saved',
    ]);
    expect(manifest.entries[1]).toEqual({
      kind: 'file',
      path: '/etc/xen/scripts/vif-xenplan',
      sha256: A,
      saved: true,
    });
  });

  it('refuses --force when the saved name is taken, and a directory in the way even with --force', () => {
    const taken = {
      ...bare,
      '/etc/xen/scripts/vif-xenplan': file(B),
      '/etc/xen/scripts/vif-xenplan.xenplan-saved': file(B),
    };
    expect(() => planInstall(req({ force: true }), state(taken))).toThrowError(
      '/tmp/p/etc/xen/scripts/vif-xenplan.xenplan-saved already exists',
    );
    const isDir = { ...bare, '/etc/xen/scripts/network-xenplan': dir() };
    expect(() => planInstall(req({ force: true }), state(isDir))).toThrowError(
      '/tmp/p/etc/xen/scripts/network-xenplan is a directory',
    );
    expect(() => planInstall(req(), state({ ...bare, '/var/lib': file(B) }))).toThrowError(
      '/tmp/p/var/lib is a file (sha256 bbbbbbbbbbbb…), expected a directory',
    );
  });

  it('adopts an identical copy when the manifest was lost, with a warning', () => {
    const host = { ...afterInstall, '/var/lib': dir(), '/var/lib/xenplan': { kind: 'missing' } as PathState };
    delete (host as Record<string, PathState>)[MANIFEST_PATH];
    const { plan, manifest } = planInstall(req(), state(host));
    expect(plan.steps.map((s) => s.id)).toEqual(['install:mkdir:/var/lib/xenplan', 'install:manifest']);
    expect(plan.warnings).toEqual([
      '/etc/xen/scripts/vif-xenplan already holds what install puts there; recording it as installed',
      '/etc/xen/scripts/network-xenplan already holds what install puts there; recording it as installed',
      ...MODES.map(
        (name) => `/etc/xen/scripts/${name} already holds what install puts there; recording it as installed`,
      ),
    ]);
    expect(manifest).toEqual(installed);
  });

  it('looks at every target, its saved twin and every ancestor directory', () => {
    expect(installPaths(req())).toEqual([
      '/etc',
      '/etc/xen',
      '/etc/xen/scripts',
      '/etc/xen/scripts/network-xenplan',
      '/etc/xen/scripts/network-xenplan.xenplan-saved',
      '/etc/xen/scripts/vif-xenplan',
      ...[...MODES]
        .sort()
        .flatMap((name) => [`/etc/xen/scripts/${name}`, `/etc/xen/scripts/${name}.xenplan-saved`]),
      '/etc/xen/scripts/vif-xenplan.xenplan-saved',
      '/var',
      '/var/lib',
      '/var/lib/xenplan',
    ]);
  });
});

describe('planUninstall', () => {
  it("removes exactly the manifest's files, the manifest, then the directories install made", () => {
    const plan = planUninstall({ prefix: P, force: false }, state(afterInstall, installed));
    expect(plan.warnings).toEqual([]);
    expect(plan.steps.map((s) => [s.id, s.argv.join(' ')])).toEqual([
      ['uninstall:link:/etc/xen/scripts/network-xenplan', 'rm -f /tmp/p/etc/xen/scripts/network-xenplan'],
      ['uninstall:file:/etc/xen/scripts/vif-xenplan', 'rm -f /tmp/p/etc/xen/scripts/vif-xenplan'],
      ...[...MODES]
        .sort()
        .map((name) => [`uninstall:link:/etc/xen/scripts/${name}`, `rm -f /tmp/p/etc/xen/scripts/${name}`]),
      ['uninstall:manifest', 'rm -f /tmp/p/var/lib/xenplan/installed'],
      ['uninstall:rmdir:/var/lib/xenplan', 'rmdir /tmp/p/var/lib/xenplan'],
    ]);
  });

  it('keeps a file changed since install (and a manifest naming just it) unless --force', () => {
    const host = { ...afterInstall, '/etc/xen/scripts/vif-xenplan': file(B) };
    const plan = planUninstall({ prefix: P, force: false }, state(host, installed));
    expect(plan.steps.map((s) => s.id)).toEqual([
      'uninstall:link:/etc/xen/scripts/network-xenplan',
      ...[...MODES].sort().map((name) => `uninstall:link:/etc/xen/scripts/${name}`),
      'uninstall:manifest',
    ]);
    expect(plan.steps[4]!.argv).toEqual(
      write(
        renderManifest({
          entries: [
            { kind: 'file', path: '/etc/xen/scripts/vif-xenplan', sha256: A },
            { kind: 'dir', path: '/var/lib/xenplan' },
          ],
        }),
        '/tmp/p/var/lib/xenplan/installed',
      ),
    );
    expect(plan.warnings).toEqual([
      'kept /tmp/p/etc/xen/scripts/vif-xenplan: it changed since install (now a file (sha256 bbbbbbbbbbbb…)); --force removes it',
      'kept directory /tmp/p/var/lib/xenplan: it still holds installed',
    ]);
    const forced = planUninstall({ prefix: P, force: true }, state(host, installed));
    expect(forced.steps.map((s) => s.id)).toEqual([
      'uninstall:link:/etc/xen/scripts/network-xenplan',
      'uninstall:file:/etc/xen/scripts/vif-xenplan',
      ...[...MODES].sort().map((name) => `uninstall:link:/etc/xen/scripts/${name}`),
      'uninstall:manifest',
      'uninstall:rmdir:/var/lib/xenplan',
    ]);
  });

  it('keeps a directory install made when something else was put in it', () => {
    const manifest: Manifest = { entries: [...installed.entries, { kind: 'dir', path: '/var/lib' }] };
    const host = { ...afterInstall, '/var/lib': dir('xenplan', 'other') };
    const plan = planUninstall({ prefix: P, force: false }, state(host, manifest));
    expect(plan.steps.map((s) => s.argv.join(' '))).toEqual([
      'rm -f /tmp/p/etc/xen/scripts/network-xenplan',
      'rm -f /tmp/p/etc/xen/scripts/vif-xenplan',
      ...[...MODES].sort().map((name) => `rm -f /tmp/p/etc/xen/scripts/${name}`),
      'rm -f /tmp/p/var/lib/xenplan/installed',
      'rmdir /tmp/p/var/lib/xenplan',
    ]);
    expect(plan.warnings).toEqual(['kept directory /tmp/p/var/lib: it still holds other']);
  });

  it('puts back a file install moved aside', () => {
    const manifest: Manifest = {
      entries: [{ kind: 'file', path: '/etc/xen/scripts/vif-xenplan', sha256: A, saved: true }],
    };
    const host = {
      ...bare,
      '/etc/xen/scripts': dir('vif-bridge', 'vif-xenplan', 'vif-xenplan.xenplan-saved'),
      '/etc/xen/scripts/vif-xenplan': file(A),
      '/etc/xen/scripts/vif-xenplan.xenplan-saved': file(B),
      '/var/lib/xenplan': dir('installed'),
      [MANIFEST_PATH]: file(F),
    };
    expect(
      planUninstall({ prefix: '', force: false }, state(host, manifest)).steps.map((s) => s.argv),
    ).toEqual([
      ['rm', '-f', '/etc/xen/scripts/vif-xenplan'],
      ['mv', '-f', '/etc/xen/scripts/vif-xenplan.xenplan-saved', '/etc/xen/scripts/vif-xenplan'],
      ['rm', '-f', '/var/lib/xenplan/installed'],
    ]);
  });

  it('plans nothing without a manifest, and says where it looked', () => {
    const plan = planUninstall({ prefix: P, force: false }, state(bare));
    expect(plan.steps).toEqual([]);
    expect(plan.warnings).toEqual(['nothing to uninstall: no manifest at /tmp/p/var/lib/xenplan/installed']);
  });
});

describe('the installed script', () => {
  const bundle = '#!/usr/bin/env node\n"use strict";\n// #!/usr/bin/env node\nmain();\n';

  it('is the bundle with only its first line changed to #!NODE', () => {
    expect(renderInstalledScript(bundle, '/usr/local/bin/node')).toBe(
      '#!/usr/local/bin/node\n"use strict";\n// #!/usr/bin/env node\nmain();\n',
    );
    expect(renderInstalledScript('#!/usr/bin/env node', '/n')).toBe('#!/n');
    expect(renderInstalledScript('no interpreter\n', '/n')).toBe('no interpreter\n');
  });

  it('is exactly what the sed step writes', () => {
    for (const [text, node] of [
      [bundle, '/root/.nvm/versions/node/v22.11.0/bin/node'],
      ['#!/usr/bin/env node', '/usr/bin/node'],
      ['#!/usr/bin/env node\r\nx\n\n', '/a+b@c/node-22_x'],
    ] as const) {
      const sed = spawnSync('sed', ['-e', interpreterSedExpression(node)], { input: text, encoding: 'utf8' });
      expect(sed.status).toBe(0);
      expect(sed.stdout).toBe(renderInstalledScript(text, node));
    }
  });
});

describe('manifest', () => {
  it('round-trips through render and parse', () => {
    expect(parseManifest(renderManifest(installed))).toEqual(installed);
  });

  it('refuses a manifest that is not ours or names an unsafe path', () => {
    expect(() => parseManifest('{"x":1}', '/m')).toThrowError('/m: not a version 1 xenplan install manifest');
    expect(() => parseManifest('nope', '/m')).toThrowError('/m: not a xenplan install manifest');
    const bad = JSON.stringify({
      xenplan: 'install manifest',
      version: 1,
      entries: [{ kind: 'file', path: '/etc/../root/x', sha256: A }],
    });
    expect(() => parseManifest(bad, '/m')).toThrowError(
      '/m entry 0: path "/etc/../root/x" is not an absolute plain path',
    );
  });
});

describe('install notes', () => {
  it('names the installed files in the xend, xl and per-guest lines, and the node they run with', () => {
    const notes = renderInstallNotes('/etc/xen/scripts', '/usr/bin/node');
    expect(notes).toContain(
      'They run with /usr/bin/node: their first line is #!/usr/bin/node, so no PATH lookup is needed.\n',
    );
    expect(notes).toContain(
      "  (network-script 'network-xenplan bridge=xenbr0 bond=bond0 slaves=eth0,eth1')\n",
    );
    expect(notes).toContain('  (vif-script vif-xenplan)\n');
    expect(notes).toContain('  vif.default.script="vif-xenplan"\n');
    expect(notes).toContain("  vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0,script=vif-xenplan' ]\n");
  });

  it('says how a DROP-policy iptables host lets guests through, as vif-bridge did', () => {
    const notes = renderInstallNotes('/etc/xen/scripts', '/usr/bin/node');
    expect(notes).toContain(
      '  iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-in vif+ \\\n    -j ACCEPT\n',
    );
    expect(notes).toContain(
      '  iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-out vif+ \\\n    -j ACCEPT\n',
    );
    const lines = notes.split('\n');
    const from = lines.findIndex((l) => l.startsWith('Antispoofing:'));
    expect(from).toBeGreaterThan(0);
    expect(lines.slice(from).filter((l) => l.length > 80)).toEqual([]);
  });

  it('uses absolute paths outside the default scripts directory', () => {
    const notes = renderInstallNotes('/opt/xen/scripts', '/usr/bin/node');
    expect(notes).toContain('  (vif-script /opt/xen/scripts/vif-xenplan)\n');
    expect(notes).toContain('  vif.default.script="/opt/xen/scripts/vif-xenplan"\n');
  });
});

describe('udev rules', () => {
  const text = renderUdevRules();
  const rules = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

  it('udev/xenplan.rules is the embedded text, byte for byte', () => {
    expect(readFileSync('udev/xenplan.rules', 'utf8')).toBe(text);
  });

  it('every rule is KEY=="v" matches and assignments udev parses, with UDEV_CALL and an absolute RUN', () => {
    const pair = /^(SUBSYSTEM|KERNEL|ACTION)=="[^"]+"$|^ENV\{UDEV_CALL\}="1"$|^RUN\+="[^"]+"$/;
    for (const rule of rules) {
      const pairs = rule.split(', ');
      for (const p of pairs) expect(p).toMatch(pair);
      expect(pairs.filter((p) => p.startsWith('RUN+="/etc/xen/scripts/vif-xenplan '))).toHaveLength(1);
      expect(pairs).toContain('ENV{UDEV_CALL}="1"');
    }
  });

  it('routes exactly the vif online/offline and tap add/remove events, and leaves Xen cleanup alone', () => {
    const summary = rules.map((rule) =>
      [...rule.matchAll(/(SUBSYSTEM|KERNEL|ACTION)=="([^"]+)"|RUN\+="([^"]+)"/g)]
        .map((m) => m[2] ?? m[3])
        .join(' | '),
    );
    expect(summary).toEqual([
      'xen-backend | vif-* | online | /etc/xen/scripts/vif-xenplan online type_if=vif',
      'xen-backend | vif-* | offline | /etc/xen/scripts/vif-xenplan offline type_if=vif',
      'net | vif*-emu | add | /etc/xen/scripts/vif-xenplan $env{ACTION} type_if=tap',
      'net | vif*-emu | remove | /etc/xen/scripts/vif-xenplan $env{ACTION} type_if=tap',
      'net | tap[0-9]*.[0-9]* | add | /etc/xen/scripts/vif-xenplan $env{ACTION} type_if=tap',
      'net | tap[0-9]*.[0-9]* | remove | /etc/xen/scripts/vif-xenplan $env{ACTION} type_if=tap',
    ]);
    expect(text).toContain('Leave its cleanup rule in place');
    expect(text).not.toMatch(/^[^#].*xen-hotplug-cleanup/m);
    expect(text).toContain('xl, Xen 4.6 and later: never install them');
  });

  it('names another scripts directory in RUN when asked', () => {
    expect(renderUdevRules('/usr/lib/xen/scripts')).toContain(
      'RUN+="/usr/lib/xen/scripts/vif-xenplan online type_if=vif"',
    );
  });
});

describe('planInstall with the boot unit (--boot)', () => {
  it('writes the unit and enables it with the link systemctl enable makes, after the scripts', () => {
    const U = 'd'.repeat(64);
    const host = { ...afterInstall, '/etc/systemd': dir('system'), '/etc/systemd/system': dir() };
    const { plan } = planInstall(req({ boot: { unit: 'UNIT\n', sha256: U } }), state(host, installed));
    const ids = plan.steps.map((s) => s.id);
    expect(ids.filter((id) => id.includes('systemd'))).toEqual([
      'install:mkdir:/etc/systemd/system/multi-user.target.wants',
      'install:file:/etc/systemd/system/xenplan-network.service',
      'install:link:/etc/systemd/system/multi-user.target.wants/xenplan-network.service',
    ]);
    const linkStep = plan.steps.find((s) => s.id.startsWith('install:link:/etc/systemd'));
    expect(linkStep?.argv).toEqual([
      'ln',
      '-sf',
      '../xenplan-network.service',
      `${P}/etc/systemd/system/multi-user.target.wants/xenplan-network.service`,
    ]);
  });
});
