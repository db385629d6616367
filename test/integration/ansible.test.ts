import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireCommand, requireNetns } from '../support/env.ts';
import { dom0WithGateway, type Netns } from '../support/netns.ts';

// contrib/ansible's xenplan_bridge run by Debian's ansible-core, local connection, inside a
// network namespace: check mode changes nothing and reports changed, apply converges, and a
// second apply reports changed=false.
const can = requireNetns();
const hasAnsible = can.ok && requireCommand('ansible-playbook');

interface TaskResult {
  changed: boolean;
  failed?: boolean;
  msg?: string;
  warnings?: string[];
  /** What ansible-playbook printed: the default callback shows the diff there. */
  stdout: string;
}

describe.runIf(hasAnsible)('the Ansible module xenplan_bridge', () => {
  let dom0: Netns;
  let upstream: Netns;
  const scripts = new Scripts();
  const work = mkdtempSync(join(tmpdir(), 'xenplan-ansible-'));
  const playbook = join(work, 'bridge.yml');

  beforeAll(() => {
    ({ dom0, upstream } = dom0WithGateway('ans'));
    writeFileSync(
      playbook,
      JSON.stringify([
        {
          hosts: 'localhost',
          connection: 'local',
          gather_facts: false,
          tasks: [
            {
              name: 'bridge',
              xenplan_bridge: {
                settings: { bridge: 'xenbr4', netdev: 'eth0' },
                executable: scripts.path('xenplan'),
              },
              environment: { XENPLAN_RUN_DIR: work, XENPLAN_CONFIG: '/dev/null' },
            },
          ],
        },
      ]),
    );
  });

  afterAll(() => {
    for (const ns of [dom0, upstream]) ns?.delete();
    scripts.remove();
    rmSync(work, { recursive: true, force: true });
  });

  /** Runs the playbook in dom0's namespace; the task's result is what the tree callback saved. */
  function play(...flags: string[]): TaskResult {
    const tree = join(work, 'tree');
    rmSync(tree, { recursive: true, force: true });
    const run = dom0.exec(
      [
        'ansible-playbook',
        '-i',
        'localhost,',
        '-e',
        'ansible_python_interpreter=/usr/bin/python3',
        ...flags,
        playbook,
      ],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
          HOME: work,
          ANSIBLE_LIBRARY: resolve('contrib/ansible/library'),
          // ansible-core's own callbacks: tree writes each host's last result as JSON.
          ANSIBLE_CALLBACKS_ENABLED: 'ansible.builtin.tree',
          ANSIBLE_CALLBACK_TREE_DIR: tree,
          ANSIBLE_LOCAL_TEMP: join(work, 'tmp'),
          ANSIBLE_REMOTE_TEMP: join(work, 'tmp'),
          ANSIBLE_NOCOLOR: '1',
        },
      },
    );
    const saved = join(tree, 'localhost');
    if (!existsSync(saved))
      throw new Error(`no task result (exit ${run.status}): ${run.stdout}${run.stderr}`);
    const result = { ...(JSON.parse(readFileSync(saved, 'utf8')) as TaskResult), stdout: run.stdout };
    expect(result.failed ?? false, result.msg).toBe(false);
    return result;
  }

  it('check mode with diff plans only: changed, the dry-run script, nothing built', () => {
    const checked = play('--check', '--diff');
    expect(checked.changed).toBe(true);
    expect(checked.stdout).toContain('ip link add name xenbr4 type bridge');
    expect(dom0.hasLink('xenbr4')).toBe(false);
  });

  it('apply converges; a second apply reports changed=false', () => {
    expect(play().changed).toBe(true);
    expect(dom0.link('eth0').master).toBe('xenbr4');
    expect(dom0.ping('192.0.2.1')).toBe(true);
    expect(play().changed).toBe(false);
  });
});
