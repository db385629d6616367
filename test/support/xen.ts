import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE } from './bundle.ts';

/**
 * A xenstore stand-in in its own process (the bundle's hidden `xenplan xenstored`), so
 * tests can block on a script while it answers, plus the directories a hotplug run writes
 * to. The test reads and writes it with Debian's real xenstore-* clients over the socket.
 */
export class XenHost {
  readonly dir = mkdtempSync(join(tmpdir(), 'xenplan-xen-'));
  readonly socket = join(this.dir, 'xenstored.sock');
  private daemon: ChildProcess | undefined;

  async start(initial: Record<string, string> = {}): Promise<this> {
    const seed = join(this.dir, 'seed.json');
    writeFileSync(seed, JSON.stringify(initial));
    const daemon = spawn(process.execPath, [BUNDLE, 'xenstored', '--socket', this.socket, '--seed', seed], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, XENPLAN_CODE_CACHE: 'off' },
    });
    this.daemon = daemon;
    await new Promise<void>((resolve, reject) => {
      daemon.once('exit', (code) => reject(new Error(`xenstored stand-in exited with ${code}`)));
      daemon.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
    });
    return this;
  }

  /** Environment every hotplug run gets (besides what the toolstack sets). */
  env(): Record<string, string> {
    // A named config file must exist for network-script (an empty one says nothing).
    const config = join(this.dir, 'xenplan.conf');
    if (!existsSync(config)) writeFileSync(config, '');
    return {
      XENSTORED_PATH: this.socket,
      XENPLAN_LOG_DIR: join(this.dir, 'log'),
      XENPLAN_RUN_DIR: join(this.dir, 'run'),
      // Never the host's /etc/xen/xenplan.conf: a test writes this one when it needs settings.
      XENPLAN_CONFIG: config,
      XENPLAN_CACHE_DIR: join(this.dir, 'cache'),
    };
  }

  private client(command: string, args: string[]): string | undefined {
    try {
      return execFileSync(command, args, {
        encoding: 'utf8',
        env: { ...process.env, XENSTORED_PATH: this.socket },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch {
      return undefined;
    }
  }

  /** xenstore-read PATH, or undefined when the node does not exist. */
  read(path: string): string | undefined {
    return this.client('xenstore-read', [path])?.replace(/\n$/, '');
  }

  /** xenstore-write with several pairs: one transaction. */
  write(pairs: Record<string, string>): void {
    const args = Object.entries(pairs).flat();
    if (this.client('xenstore-write', args) === undefined)
      throw new Error(`xenstore-write ${args.join(' ')} failed`);
  }

  rm(path: string): void {
    this.client('xenstore-rm', [path]);
  }

  /** The guest's vif backend directory, as a toolstack writes it. */
  addVif(domid: number, devid: number, keys: Record<string, string>): void {
    const base = `backend/vif/${domid}/${devid}`;
    this.write({
      [`${base}/frontend`]: `/local/domain/${domid}/device/vif/${devid}`,
      [`${base}/mac`]: `00:16:3e:00:${(domid % 256).toString(16).padStart(2, '0')}:${devid.toString(16).padStart(2, '0')}`,
      [`${base}/script`]: '/etc/xen/scripts/vif-script',
      ...Object.fromEntries(Object.entries(keys).map(([k, v]) => [`${base}/${k}`, v])),
    });
  }

  /**
   * Freezes the stand-in for `ms` (SIGSTOP), as a xenstored busy with other work: connects
   * queue in its backlog, then fail. A `sleep` thaws it (SIGCONT): a timer in this process
   * would fire late while the storm it is testing starves the CPU.
   */
  freeze(ms: number): Promise<void> {
    const pid = this.daemon?.pid;
    if (pid === undefined) return Promise.resolve();
    process.kill(pid, 'SIGSTOP');
    const thaw = spawn('sh', ['-c', `sleep ${ms / 1000}; kill -CONT ${pid}`], { stdio: 'ignore' });
    return new Promise((resolve) => thaw.on('close', () => resolve()));
  }

  async stop(): Promise<void> {
    if (this.daemon && this.daemon.exitCode === null) {
      const exited = new Promise((resolve) => this.daemon?.once('exit', resolve));
      this.daemon.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The environment libxl gives a vif script (tools/libs/light/libxl_linux.c). */
export function libxlEnv(
  domid: number,
  devid: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    script: '/etc/xen/scripts/vif-script',
    XENBUS_TYPE: 'vif',
    XENBUS_PATH: `backend/vif/${domid}/${devid}`,
    XENBUS_BASE_PATH: 'backend',
    netdev: '',
    vif: `vif${domid}.${devid}`,
    ...extra,
  };
}

/** The environment udev gives a vif script under xend (kernel uevent + netback's own keys). */
export function udevEnv(domid: number, devid: number, action: 'online' | 'offline'): Record<string, string> {
  return {
    ACTION: action,
    SUBSYSTEM: 'xen-backend',
    DEVPATH: `/devices/xen-backend/vif-${domid}-${devid}`,
    XENBUS_TYPE: 'vif',
    XENBUS_PATH: `backend/vif/${domid}/${devid}`,
    XENBUS_BASE_PATH: 'backend',
    MODALIAS: 'xen-backend:vif',
    script: '/etc/xen/scripts/vif-script',
    vif: `vif${domid}.${devid}`,
  };
}
