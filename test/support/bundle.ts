import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Netns } from './netns.ts';

export const BUNDLE = resolve('dist/xenplan.cjs');

/** The real ip, found once: a test may put a fake `ip` first in the script's PATH. */
const IP = execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim() || 'ip';

/** The names a test runs the bundle by: Xen's roles, and the vif modes' own names. */
export type ScriptName =
  | 'vif-script'
  | 'network-script'
  | 'xenplan'
  | 'vif-xenplan-route'
  | 'vif-xenplan-nat'
  | 'vif-xenplan-ovs';

const NAMES: readonly ScriptName[] = [
  'vif-script',
  'network-script',
  'xenplan',
  'vif-xenplan-route',
  'vif-xenplan-nat',
  'vif-xenplan-ovs',
];

/**
 * A folder holding the bundle under the names Xen calls it by (symlinks, as an install
 * copies it): `vif-script`, `network-script`, `xenplan`, and the vif modes' names.
 */
export class Scripts {
  readonly dir = mkdtempSync(join(tmpdir(), 'xenplan-bin-'));
  /** The bundle's V8 code cache for these runs: never the host's /var/cache/xenplan. */
  readonly cache = join(this.dir, 'cache');

  constructor() {
    for (const name of NAMES) symlinkSync(BUNDLE, join(this.dir, name));
  }

  path(name: ScriptName): string {
    return join(this.dir, name);
  }

  /** Runs a script by name, inside `ns` when given, with exactly `env` (plus PATH). */
  run(
    name: ScriptName,
    args: string[],
    options: { ns?: Netns; env?: Record<string, string>; input?: string; tracer?: string[] } = {},
  ) {
    const command = [...(options.tracer ?? []), this.path(name), ...args];
    const argv = options.ns ? [IP, 'netns', 'exec', options.ns.name, ...command] : command;
    // /dev/null, not the host's /etc/xen/xenplan.conf: a test reads only the settings it gives.
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      XENPLAN_CACHE_DIR: this.cache,
      XENPLAN_CONFIG: '/dev/null',
      ...options.env,
    };
    const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env, input: options.input ?? '' });
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  /**
   * Like run, without blocking the test's event loop (a stand-in in this process must answer
   * while the script runs); `ms` is the wall time from spawn to exit.
   */
  start(
    name: ScriptName,
    args: string[],
    options: { ns?: Netns; env?: Record<string, string> } = {},
  ): Promise<{ status: number; stdout: string; stderr: string; ms: number }> {
    const command = [this.path(name), ...args];
    const argv = options.ns ? [IP, 'netns', 'exec', options.ns.name, ...command] : command;
    // /dev/null, not the host's /etc/xen/xenplan.conf: a test reads only the settings it gives.
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      XENPLAN_CACHE_DIR: this.cache,
      XENPLAN_CONFIG: '/dev/null',
      ...options.env,
    };
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr, ms: Date.now() - started }));
    });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
