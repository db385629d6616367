import { describe, expect, it } from 'vitest';
import {
  type InstalledState,
  MANIFEST_PATH,
  type Manifest,
  type PathState,
  renderManifest,
} from '../../../src/model/install.ts';
import { renderAgentUnit } from '../../../src/plan/agent-unit.ts';
import { type InstallRequest, planInstall } from '../../../src/plan/install.ts';
import { planUninstall } from '../../../src/plan/uninstall.ts';

/** install --agent: the launcher as vif-xenplan, the bundle beside it, the agent's unit. */

const A = 'a'.repeat(64); // the bundle with its #! line naming /usr/bin/node
const E = 'e'.repeat(64); // the bundle as built
const L = '1'.repeat(64); // the launcher
const U = '2'.repeat(64); // the agent unit
const F = 'f'.repeat(64);
const S = '/etc/xen/scripts';
const MODES = ['vif-xenplan-route', 'vif-xenplan-nat', 'vif-xenplan-ovs'];

const req = (extra: Partial<InstallRequest> = {}): InstallRequest => ({
  prefix: '',
  scriptsDir: S,
  udev: false,
  force: false,
  bundlePath: '/opt/xenplan.cjs',
  bundleSha256: E,
  node: '/usr/bin/node',
  scriptSha256: A,
  udevRules: 'RULES\n',
  udevRulesSha256: 'c'.repeat(64),
  agent: { launcher: '#!/bin/bash\nLAUNCHER\n', launcherSha256: L, unit: 'UNIT\n', unitSha256: U },
  ...extra,
});

const dir = (...entries: string[]): PathState => ({ kind: 'dir', entries });
const file = (sha256: string): PathState => ({ kind: 'file', sha256 });
const link = (target: string): PathState => ({ kind: 'link', target });

function state(
  paths: Record<string, PathState>,
  manifest?: Manifest,
  systemd?: InstalledState['systemd'],
): InstalledState {
  return {
    manifestText: manifest === undefined ? undefined : renderManifest(manifest),
    manifest,
    paths: new Map(Object.entries(paths)),
    ...(systemd === undefined ? {} : { systemd }),
  };
}

/** A dom0 with Xen's scripts and systemd's directories, nothing of ours. */
const bare = {
  '/etc': dir('systemd', 'xen'),
  '/etc/systemd': dir('system'),
  '/etc/systemd/system': dir('multi-user.target.wants'),
  '/etc/systemd/system/multi-user.target.wants': dir(),
  '/etc/xen': dir('scripts'),
  [S]: dir('vif-bridge'),
  '/var': dir('lib'),
  '/var/lib': dir(),
};

const UNIT = '/etc/systemd/system/xenplan-agent.service';
const WANTS = '/etc/systemd/system/multi-user.target.wants/xenplan-agent.service';

const installed: Manifest = {
  entries: [
    { kind: 'link', path: WANTS, target: '../xenplan-agent.service' },
    { kind: 'file', path: UNIT, sha256: U },
    { kind: 'link', path: `${S}/network-xenplan`, target: 'xenplan.cjs' },
    { kind: 'file', path: `${S}/vif-xenplan`, sha256: L },
    ...[...MODES]
      .sort()
      .map((name) => ({ kind: 'link' as const, path: `${S}/${name}`, target: 'vif-xenplan' })),
    { kind: 'file', path: `${S}/xenplan.cjs`, sha256: A },
    { kind: 'dir', path: '/var/lib/xenplan' },
  ],
};

const afterInstall = {
  ...bare,
  '/etc/systemd/system': dir('multi-user.target.wants', 'xenplan-agent.service'),
  '/etc/systemd/system/multi-user.target.wants': dir('xenplan-agent.service'),
  [UNIT]: file(U),
  [WANTS]: link('../xenplan-agent.service'),
  [S]: dir('network-xenplan', 'vif-bridge', 'vif-xenplan', 'xenplan.cjs', ...MODES),
  [`${S}/xenplan.cjs`]: file(A),
  [`${S}/vif-xenplan`]: file(L),
  [`${S}/network-xenplan`]: link('xenplan.cjs'),
  ...Object.fromEntries(MODES.map((name) => [`${S}/${name}`, link('vif-xenplan')])),
  '/var/lib': dir('xenplan'),
  '/var/lib/xenplan': dir('installed'),
  [MANIFEST_PATH]: file(F),
};

const write = (content: string, dst: string, mode = '0644') => [
  'sh',
  '-c',
  `printf "%s" "$1" >"$2" && chmod ${mode} "$2"`,
  'sh',
  content,
  dst,
];
const step = (id: string, argv: string[], reason: string) => ({
  id,
  phase: 'install',
  argv,
  reason,
  disruptive: false,
});

describe('planInstall --agent', () => {
  it('on a systemd host: the bundle, then the launcher, the links, the unit, enable, reload, start', () => {
    const { plan, manifest } = planInstall(req(), state(bare, undefined, { agentActive: false }));
    expect(manifest).toEqual(installed);
    expect(plan.warnings).toEqual([]);
    expect(plan.steps).toEqual([
      step(
        'install:mkdir:/var/lib/xenplan',
        ['mkdir', '-p', '/var/lib/xenplan'],
        'make /var/lib/xenplan (missing)',
      ),
      step(
        'install:manifest',
        write(renderManifest(installed), MANIFEST_PATH),
        'record what install puts here in /var/lib/xenplan/installed',
      ),
      step(
        `install:file:${S}/xenplan.cjs`,
        ['install', '-m', '0755', '/opt/xenplan.cjs', `${S}/xenplan.cjs`],
        `${S}/xenplan.cjs is missing: the running bundle, run by /usr/bin/node`,
      ),
      step(
        `install:interpreter:${S}/xenplan.cjs`,
        ['sed', '-i', '1s|^#!.*$|#!/usr/bin/node|', `${S}/xenplan.cjs`],
        `${S}/xenplan.cjs starts with #!/usr/bin/node: Xen and udev run it with a short PATH, where env may not find node`,
      ),
      step(
        `install:file:${S}/vif-xenplan`,
        write('#!/bin/bash\nLAUNCHER\n', `${S}/vif-xenplan`, '0755'),
        `${S}/vif-xenplan is missing: the launcher (hands vif events to the agent, else runs xenplan.cjs)`,
      ),
      step(
        `install:link:${S}/network-xenplan`,
        ['ln', '-sf', 'xenplan.cjs', `${S}/network-xenplan`],
        `${S}/network-xenplan is missing: symlink to xenplan.cjs`,
      ),
      ...MODES.map((name) =>
        step(
          `install:link:${S}/${name}`,
          ['ln', '-sf', 'vif-xenplan', `${S}/${name}`],
          `${S}/${name} is missing: symlink to vif-xenplan`,
        ),
      ),
      step(
        `install:file:${UNIT}`,
        write('UNIT\n', UNIT),
        `${UNIT} is missing: the agent unit (xenplan agent, restarted whenever it ends)`,
      ),
      step(
        `install:link:${WANTS}`,
        ['ln', '-sf', '../xenplan-agent.service', WANTS],
        `${WANTS} is missing: symlink to ../xenplan-agent.service`,
      ),
      step(
        'install:systemd:daemon-reload',
        ['systemctl', 'daemon-reload'],
        `${UNIT} changed: systemd reads it again`,
      ),
      step(
        'install:systemd:restart:xenplan-agent.service',
        ['systemctl', 'restart', 'xenplan-agent.service'],
        'xenplan-agent.service is not running: start it',
      ),
    ]);
  });

  it('plans nothing a second time: everything in place and the agent running', () => {
    const { plan } = planInstall(req(), state(afterInstall, installed, { agentActive: true }));
    expect(plan.steps).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it('starts an agent that is not running, and nothing else', () => {
    const { plan } = planInstall(req(), state(afterInstall, installed, { agentActive: false }));
    expect(plan.steps.map((s) => [s.id, s.argv.join(' ')])).toEqual([
      ['install:systemd:restart:xenplan-agent.service', 'systemctl restart xenplan-agent.service'],
    ]);
  });

  it('restarts a running agent when its bundle is replaced (it keeps the code it started with)', () => {
    const B = 'b'.repeat(64);
    const { plan } = planInstall(
      req({ scriptSha256: B, bundleSha256: B }),
      state(afterInstall, installed, { agentActive: true }),
    );
    expect(plan.steps.map((s) => s.id)).toEqual([
      'install:manifest',
      `install:file:${S}/xenplan.cjs`,
      `install:interpreter:${S}/xenplan.cjs`,
      'install:systemd:restart:xenplan-agent.service',
    ]);
    expect(plan.steps.at(-1)?.reason).toBe(`the agent runs what ${S}/xenplan.cjs held before: restart it`);
  });

  it('under a prefix, or where systemd does not run, installs and enables but runs no systemctl', () => {
    const under = planInstall(req({ prefix: '/tmp/p' }), state(bare, undefined, undefined)).plan;
    expect(under.steps.filter((s) => s.argv[0] === 'systemctl')).toEqual([]);
    expect(under.steps.map((s) => s.id)).toContain(`install:link:${WANTS}`);
    const noSystemd = planInstall(req(), state(bare)).plan;
    expect(noSystemd.steps.filter((s) => s.argv[0] === 'systemctl')).toEqual([]);
  });

  it('turns a plain install into the agent layout: the bundle moves beside, vif-xenplan becomes the launcher', () => {
    const plain: Manifest = {
      entries: [
        { kind: 'link', path: `${S}/network-xenplan`, target: 'vif-xenplan' },
        { kind: 'file', path: `${S}/vif-xenplan`, sha256: A },
        ...[...MODES]
          .sort()
          .map((name) => ({ kind: 'link' as const, path: `${S}/${name}`, target: 'vif-xenplan' })),
        { kind: 'dir', path: '/var/lib/xenplan' },
      ],
    };
    const host = {
      ...bare,
      [S]: dir('network-xenplan', 'vif-bridge', 'vif-xenplan', ...MODES),
      [`${S}/vif-xenplan`]: file(A),
      [`${S}/network-xenplan`]: link('vif-xenplan'),
      ...Object.fromEntries(MODES.map((name) => [`${S}/${name}`, link('vif-xenplan')])),
      '/var/lib': dir('xenplan'),
      '/var/lib/xenplan': dir('installed'),
      [MANIFEST_PATH]: file(F),
    };
    const { plan, manifest } = planInstall(req({ prefix: '' }), state(host, plain));
    expect(manifest).toEqual(installed);
    expect(plan.steps.map((s) => [s.id, s.reason])).toEqual([
      ['install:manifest', 'update the record in /var/lib/xenplan/installed'],
      [
        `install:file:${S}/xenplan.cjs`,
        `${S}/xenplan.cjs is missing: the running bundle, run by /usr/bin/node`,
      ],
      [
        `install:interpreter:${S}/xenplan.cjs`,
        `${S}/xenplan.cjs starts with #!/usr/bin/node: Xen and udev run it with a short PATH, where env may not find node`,
      ],
      [
        `install:file:${S}/vif-xenplan`,
        `${S}/vif-xenplan is an older install (a file (sha256 aaaaaaaaaaaa…)): replace with the launcher (hands vif events to the agent, else runs xenplan.cjs)`,
      ],
      [
        `install:link:${S}/network-xenplan`,
        `${S}/network-xenplan is an older install (a symlink to vif-xenplan): replace with symlink to xenplan.cjs`,
      ],
      [
        `install:file:${UNIT}`,
        `${UNIT} is missing: the agent unit (xenplan agent, restarted whenever it ends)`,
      ],
      [`install:link:${WANTS}`, `${WANTS} is missing: symlink to ../xenplan-agent.service`],
    ]);
  });

  it('a plain install after --agent puts the bundle back as vif-xenplan and says what stays', () => {
    const { agent: _, ...plain } = req();
    const { plan } = planInstall(plain, state(afterInstall, installed, { agentActive: true }));
    expect(plan.steps.map((s) => s.id)).toEqual([
      'install:manifest',
      `install:file:${S}/vif-xenplan`,
      `install:interpreter:${S}/vif-xenplan`,
      `install:link:${S}/network-xenplan`,
    ]);
    expect(plan.warnings).toEqual([
      `${UNIT} and ${S}/xenplan.cjs stay from an install --agent, unused now that ${S}/vif-xenplan is the bundle again; xenplan uninstall removes everything, then install again`,
    ]);
  });
});

describe('planUninstall after install --agent', () => {
  it('stops the agent first, removes every file, then has systemd forget the unit', () => {
    const plan = planUninstall(
      { prefix: '', force: false },
      state(afterInstall, installed, { agentActive: true }),
    );
    expect(plan.warnings).toEqual([]);
    expect(plan.steps.map((s) => s.argv.join(' '))).toEqual([
      'systemctl stop xenplan-agent.service',
      `rm -f ${WANTS}`,
      `rm -f ${UNIT}`,
      `rm -f ${S}/network-xenplan`,
      `rm -f ${S}/vif-xenplan`,
      `rm -f ${S}/vif-xenplan-nat`,
      `rm -f ${S}/vif-xenplan-ovs`,
      `rm -f ${S}/vif-xenplan-route`,
      `rm -f ${S}/xenplan.cjs`,
      `rm -f ${MANIFEST_PATH}`,
      'rmdir /var/lib/xenplan',
      'systemctl daemon-reload',
    ]);
  });

  it('runs no systemctl where systemd does not run', () => {
    const plan = planUninstall({ prefix: '', force: false }, state(afterInstall, installed));
    expect(plan.steps.filter((s) => s.argv[0] === 'systemctl')).toEqual([]);
  });
});

describe('renderAgentUnit', () => {
  it('runs the bundle beside the launcher, restarts it, orders it before the guests, keeps /run/xenplan root only', () => {
    const unit = renderAgentUnit('/usr/lib/xen/scripts');
    const lines = unit.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines).toEqual([
      '[Unit]',
      'Description=xenplan agent: resident fast path for Xen vif hotplug events',
      'Documentation=man:xenplan(8)',
      'After=local-fs.target',
      'Before=xen-init-dom0.service xendomains.service',
      '[Service]',
      'Type=simple',
      'ExecStart=/usr/lib/xen/scripts/xenplan.cjs agent',
      'Restart=always',
      'RestartSec=1',
      'RuntimeDirectory=xenplan',
      'RuntimeDirectoryMode=0700',
      'RuntimeDirectoryPreserve=yes',
      'UMask=0077',
      '[Install]',
      'WantedBy=multi-user.target',
    ]);
  });
});
