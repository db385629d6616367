// The bench's lab: a dom0 network namespace with xenbr0, the xenstore stand-in, Xen's own
// scripts unpacked from Debian's xen-utils-common, a runner inside the namespace (runner.ts)
// and the xenplan agent there. Everything it makes lives in one temp dir and one namespace,
// removed on exit, on error and on Ctrl-C.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { enableXenIptables } from '../../test/support/xen-scripts.ts';
import type { RunReply, StormReply } from './protocol.ts';

export const BRIDGE = 'xenbr0';
export const BRIDGE_MTU = 9000;
/** The timed cycles' guest; the storm's are STORM_FIRST.. */
export const DOMID = 5;
export const STORM_FIRST = 100;

export const vifOf = (domid: number) => `vif${domid}.0`;
export const backendOf = (domid: number) => `backend/vif/${domid}/0`;
const frontendOf = (domid: number) => `/local/domain/${domid}/device/vif/0`;
/** The guest's backend `ip` key: what antispoofing locks it to (10.0.0.0/16, one per domid). */
export const guestIp = (domid: number) => `10.0.${Math.floor(domid / 250)}.${(domid % 250) + 1}`;

export class BenchFailure extends Error {}

export interface LabPaths {
  readonly root: string;
  readonly bundle: string;
  readonly runner: string;
  readonly launcher: string;
  readonly vifBridge: string;
}

export class Lab {
  readonly dir = mkdtempSync(join(tmpdir(), 'xenplan-bench-'));
  readonly socket = join(this.dir, 'xenstored.sock');
  readonly bin = join(this.dir, 'bin');
  readonly netns = `xpt-bench-${process.pid}`;
  private children: ChildProcess[] = [];
  private runnerChild: ChildProcess | undefined;
  private next = 1;
  private pending = new Map<number, (reply: never) => void>();
  private made = new Set<number>();
  agentPid = 0;
  /** Host config files for vif-script: antispoofing off (the plain cases) and on (`ip`). */
  readonly antispoofOff = join(this.dir, 'antispoof-off.conf');
  readonly antispoofOn = join(this.dir, 'antispoof-ip.conf');
  /** A copy of Xen's scripts with vif-common.sh's iptables step enabled, as upstream runs it. */
  readonly xenIptables = join(this.dir, 'xen-iptables');

  constructor(
    readonly paths: LabPaths,
    readonly stormSize: number,
  ) {}

  /** libxl's environment for a guest (tools/libs/light/libxl_linux.c) plus the lab's directories. */
  env(domid: number): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      XENSTORED_PATH: this.socket,
      XENPLAN_LOG_DIR: join(this.dir, 'log'),
      XENPLAN_RUN_DIR: join(this.dir, 'rundir'),
      XENPLAN_CACHE_DIR: join(this.dir, 'cache'),
      XENPLAN_CONFIG: this.antispoofOff,
      script: '/etc/xen/scripts/vif-bridge',
      XENBUS_TYPE: 'vif',
      XENBUS_PATH: backendOf(domid),
      XENBUS_BASE_PATH: 'backend',
      netdev: '',
      vif: vifOf(domid),
    };
  }

  async start(): Promise<void> {
    for (const d of ['bin', 'varlog/xen', 'run/xen-hotplug', 'log', 'rundir', 'trace', 'cache'])
      mkdirSync(join(this.dir, d), { recursive: true });
    // Copies, so a rebuild by someone else mid-run cannot mix two versions.
    const bundle = join(this.bin, 'xenplan.cjs');
    copyFileSync(this.paths.bundle, bundle);
    chmodSync(bundle, 0o755);
    symlinkSync(bundle, join(this.bin, 'vif-script'));
    copyFileSync(this.paths.launcher, join(this.bin, 'vif-xenplan'));
    chmodSync(join(this.bin, 'vif-xenplan'), 0o755);

    const seed: Record<string, string> = {};
    for (const domid of [DOMID, ...this.stormDomids()]) {
      seed[`${backendOf(domid)}/frontend`] = frontendOf(domid);
      seed[`${backendOf(domid)}/mac`] = `00:16:3e:00:${(domid % 256).toString(16).padStart(2, '0')}:00`;
      seed[`${backendOf(domid)}/bridge`] = BRIDGE;
      seed[`${backendOf(domid)}/script`] = '/etc/xen/scripts/vif-bridge';
      // Every guest has an ip key; only the filtered cases act on it (Debian's vif-bridge
      // skips its iptables step, xenplan's plain cases run with vif-antispoof=off).
      seed[`${backendOf(domid)}/ip`] = guestIp(domid);
      seed[`${frontendOf(domid)}/backend`] = `/local/domain/0/${backendOf(domid)}`;
    }
    writeFileSync(join(this.dir, 'seed.json'), JSON.stringify(seed));
    writeFileSync(this.antispoofOff, 'vif-antispoof=off\n');
    writeFileSync(this.antispoofOn, 'vif-antispoof=ip\n');
    enableXenIptables(dirname(this.paths.vifBridge), this.xenIptables);
    await this.child(
      process.execPath,
      [bundle, 'xenstored', '--socket', this.socket, '--seed', join(this.dir, 'seed.json')],
      (l) => l.includes('ready'),
      'xenstored stand-in',
    );

    execFileSync('ip', ['netns', 'add', this.netns]);
    const batch = [
      'link set lo up',
      `link add ${BRIDGE} type bridge stp_state 0 forward_delay 0`,
      'link add eth0 type veth peer name up0',
      `link set eth0 mtu ${BRIDGE_MTU}`,
      `link set up0 mtu ${BRIDGE_MTU}`,
      `link set eth0 master ${BRIDGE}`,
      `link set ${BRIDGE} mtu ${BRIDGE_MTU}`,
      'link set up0 up',
      'link set eth0 up',
      `link set ${BRIDGE} up`,
    ];
    this.ipBatch(batch);

    // `ip netns exec` gives the runner a private (slave) mount namespace: /var/log/xen and
    // /var/run/xen-hotplug exist there for Xen's scripts, and nothing on the machine changes.
    const { child, lines } = await this.child(
      'ip',
      [
        'netns',
        'exec',
        this.netns,
        'sh',
        '-c',
        'mount --bind "$1" /var/log && mount --bind "$2" /run && exec "$3" "$4"',
        'sh',
        join(this.dir, 'varlog'),
        join(this.dir, 'run'),
        process.execPath,
        this.paths.runner,
      ],
      (l) => l.startsWith('{"ready"'),
      'runner',
    );
    this.runnerChild = child;
    lines.on('line', (line) => {
      const reply = JSON.parse(line) as { id: number };
      this.pending.get(reply.id)?.(reply as never);
      this.pending.delete(reply.id);
    });

    // The agent, as its systemd unit runs it, in dom0's namespace.
    const agent = spawn('ip', ['netns', 'exec', this.netns, process.execPath, bundle, 'agent'], {
      env: { ...process.env, ...this.env(DOMID) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.children.push(agent);
    const file = join(this.dir, 'rundir', 'agent');
    const deadline = Date.now() + 30_000;
    while (!existsSync(file)) {
      if (agent.exitCode !== null || Date.now() > deadline)
        throw new BenchFailure('xenplan agent did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    this.agentPid = agent.pid!;
  }

  stormDomids(): number[] {
    return Array.from({ length: this.stormSize }, (_, i) => STORM_FIRST + i);
  }

  /** A brand-new vif for each guest (random MAC, MTU 1500, down, no master), no hotplug keys. */
  freshVifs(domids: readonly number[]): void {
    const batch: string[] = [];
    for (const d of domids) {
      if (this.made.has(d)) batch.push(`link del ${vifOf(d)}`);
      batch.push(`link add ${vifOf(d)} type veth peer name g${d}.0`);
      this.made.add(d);
    }
    this.ipBatch(batch);
    const keys = domids.flatMap((d) => [
      `${backendOf(d)}/hotplug-status`,
      `${backendOf(d)}/hotplug-error`,
      `${frontendOf(d)}/mtu`,
    ]);
    const rm = this.xenstore('xenstore-rm', keys);
    if (rm.status !== 0) throw new BenchFailure(`xenstore-rm failed: ${rm.stderr}`);
  }

  ipBatch(lines: readonly string[]): void {
    execFileSync('ip', ['-n', this.netns, '-batch', '-'], { input: `${lines.join('\n')}\n`, stdio: 'pipe' });
  }

  links(): Map<string, { master?: string; mtu: number; flags: string[]; address: string }> {
    const out = execFileSync('ip', ['-n', this.netns, '-json', 'link', 'show'], { encoding: 'utf8' });
    const list = JSON.parse(out) as {
      ifname: string;
      master?: string;
      mtu: number;
      flags: string[];
      address: string;
    }[];
    return new Map(list.map((l) => [l.ifname, l]));
  }

  xenstore(command: string, args: readonly string[]) {
    return spawnSync(command, args, {
      encoding: 'utf8',
      env: { ...process.env, XENSTORED_PATH: this.socket },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Every key under backend/vif: `path` → value. */
  backendKeys(): Map<string, string> {
    const out = this.xenstore('xenstore-ls', ['-f', 'backend/vif']).stdout;
    const keys = new Map<string, string>();
    for (const m of out.matchAll(/^(\S+) = "(.*)"$/gm)) keys.set(m[1]!.replace(/^\//, ''), m[2]!);
    return keys;
  }

  /** Fails loudly (no numbers) when an event did not do its job. */
  check(what: string, event: 'online' | 'offline', domids: readonly number[]): void {
    const problems = this.problems(event, domids);
    if (problems.length > 0)
      throw new BenchFailure(
        `${what} ${event} did not do its job: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`,
      );
  }

  /** What is wrong after `event` for each guest (empty when every one did its job). */
  problems(event: 'online' | 'offline', domids: readonly number[]): string[] {
    const links = this.links();
    const keys = this.backendKeys();
    const problems: string[] = [];
    for (const d of domids) {
      const vif = links.get(vifOf(d));
      if (event === 'offline') {
        if (vif?.master !== undefined) problems.push(`${vifOf(d)} is still in ${vif.master}`);
        continue;
      }
      if (vif?.master !== BRIDGE) problems.push(`${vifOf(d)} is not in ${BRIDGE}`);
      else if (!vif.flags.includes('UP')) problems.push(`${vifOf(d)} is not up`);
      else if (vif.mtu !== BRIDGE_MTU) problems.push(`${vifOf(d)} mtu is ${vif.mtu}`);
      else if (vif.address !== 'fe:ff:ff:ff:ff:ff') problems.push(`${vifOf(d)} address is ${vif.address}`);
      const status = keys.get(`${backendOf(d)}/hotplug-status`);
      if (status !== 'connected') problems.push(`${backendOf(d)}/hotplug-status is ${status ?? 'missing'}`);
    }
    return problems;
  }

  run(
    argv: readonly string[],
    env: Record<string, string>,
    cpuPids: readonly number[] = [],
  ): Promise<RunReply> {
    return this.ask<RunReply>({ argv, env, cpuPids });
  }

  storm(argvs: readonly (readonly string[])[], env: Record<string, string>, pssPids: readonly number[] = []) {
    return this.ask<StormReply>({ storm: argvs, env, pssPids });
  }

  private ask<T>(body: object): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const child = this.runnerChild;
      if (!child || child.exitCode !== null) {
        reject(new BenchFailure('the runner is gone'));
        return;
      }
      this.pending.set(id, resolve as (reply: never) => void);
      child.stdin?.write(`${JSON.stringify({ id, ...body })}\n`);
    });
  }

  /** Starts a child and resolves once a line of its stdout satisfies `isReady`. */
  private child(command: string, args: string[], isReady: (line: string) => boolean, what: string) {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.children.push(child);
    const lines = createInterface({ input: child.stdout! });
    return new Promise<{ child: ChildProcess; lines: Interface }>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new BenchFailure(`${what} exited (${code}) before it was ready`));
      child.once('exit', onExit);
      lines.on('line', (line) => {
        if (!isReady(line)) return;
        child.off('exit', onExit);
        resolve({ child, lines });
      });
    });
  }

  /** Synchronous, idempotent: safe from a signal handler and from `finally`. */
  cleanup(): void {
    this.runnerChild?.stdin?.end();
    for (const child of this.children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    spawnSync('ip', ['netns', 'del', this.netns], { stdio: 'ignore' });
    // The agent may still be writing its log as it stops.
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

/** Installs the Debian packages the bench needs, only those missing (we are root, like deps.sh). */
export function ensurePackages(): void {
  const want: Record<string, string> = {
    ip: 'iproute2',
    'xenstore-read': 'xenstore-utils',
    strace: 'strace',
    '/usr/bin/time': 'time',
    logger: 'bsdutils',
    flock: 'util-linux',
    iptables: 'iptables',
    nft: 'nftables',
    mount: 'mount',
    bash: 'bash',
    dpkg: 'dpkg',
  };
  const have = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0;
  const missing = [...new Set(Object.entries(want).flatMap(([c, p]) => (have(c) ? [] : [p])))].sort();
  if (missing.length === 0) return;
  console.log(`bench: installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env,
  });
}

/** Xen's scripts: `apt-get download xen-utils-common` + `dpkg -x` into `cache`, once. Its version. */
export function ensureXenScripts(cache: string, vifBridge: string): string {
  const deb = () =>
    existsSync(cache) ? readdirSync(cache).find((f) => /^xen-utils-common_.*\.deb$/.test(f)) : undefined;
  if (!existsSync(vifBridge)) {
    mkdirSync(cache, { recursive: true });
    console.log('bench: fetching Xen 4.17 hotplug scripts (apt-get download xen-utils-common)');
    const download = () =>
      spawnSync('apt-get', ['download', 'xen-utils-common'], { cwd: cache, encoding: 'utf8' });
    if (download().status !== 0) {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      if (download().status !== 0) throw new BenchFailure('apt-get download xen-utils-common failed');
    }
    execFileSync('dpkg', ['-x', join(cache, deb()!), join(cache, 'root')]);
    if (!existsSync(vifBridge)) throw new BenchFailure(`${vifBridge} is not in the package`);
  }
  return (
    deb()
      ?.replace(/^xen-utils-common_/, '')
      .replace(/_[^_]+\.deb$/, '') ?? 'unknown'
  );
}

/** Peak RSS (KiB) of one process, /proc/PID/status VmRSS, and its PSS. */
export function residentOf(pid: number): { rssKiB: number; pssKiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0),
    pssKiB: Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0),
  };
}
