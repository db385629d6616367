import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUNDLE } from './bundle.ts';
import type { Netns } from './netns.ts';

const IP = execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim() || 'ip';

/** Polls `ready` every 50 ms until it holds or `ms` pass; false on the deadline. */
export async function until(ready: () => boolean, ms = 20_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * The launcher as installed: bin/vif-xenplan copied into a folder with the bundle beside it
 * (xenplan.cjs), and the agent (`xenplan agent`) run in a namespace like a systemd service.
 */
export class Launcher {
  readonly dir = mkdtempSync(join(tmpdir(), 'xenplan-launch-'));
  readonly path = join(this.dir, 'vif-xenplan');
  private agent: ChildProcess | undefined;

  constructor() {
    copyFileSync(resolve('bin/vif-xenplan'), this.path);
    symlinkSync(BUNDLE, join(this.dir, 'xenplan.cjs'));
  }

  /** Starts the agent in `ns`; resolves once its file (port, token) is in `runDir`. */
  async startAgent(ns: Netns, env: Record<string, string>): Promise<number> {
    const child = spawn(IP, ['netns', 'exec', ns.name, process.execPath, BUNDLE, 'agent'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: 'ignore',
    });
    this.agent = child;
    // A killed agent's file stays: wait for this one's (a new port and token).
    const file = join(env.XENPLAN_RUN_DIR!, 'agent');
    const read = () => (existsSync(file) ? readFileSync(file, 'utf8') : '');
    const stale = read();
    if (!(await until(() => read() !== stale || child.exitCode !== null)) || child.exitCode !== null)
      throw new Error(`xenplan agent did not start (exit ${child.exitCode})`);
    return child.pid!;
  }

  /** SIGKILL, as the OOM killer would: its file stays behind. */
  async killAgent(): Promise<void> {
    const child = this.agent;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** The launcher in `ns` with exactly `env` (plus PATH), as libxl runs a hotplug script. */
  run(
    ns: Netns,
    args: string[],
    env: Record<string, string>,
  ): Promise<{ status: number; stdout: string; stderr: string }> {
    const child = spawn(IP, ['netns', 'exec', ns.name, this.path, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    return new Promise((r) => child.on('close', (code) => r({ status: code ?? -1, stdout, stderr })));
  }

  async remove(): Promise<void> {
    await this.killAgent();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
