/**
 * A real Xen 4.17 host in QEMU, for the lab and the kernel tests: boot once, run any number
 * of shell jobs as root in dom0, pull and plug dom0's cables, and always clean up.
 *
 *   const vm = await XenVm.boot();
 *   const r = await vm.run('xl list');      // { exitCode, output, ... }
 *   await vm.setLink(0, false);             // pull eth0's cable
 *   await vm.close();                       // QEMU killed, namespace and work dir gone
 *
 * What a run leaves on the host while it lives: QEMU (its pid in the work dir), the network
 * namespace `xpvm-<id>` (taps, switches, gateway: switches.ts), and the work dir
 * `/var/tmp/xenplan-vm-<id>` (console log, monitor socket, initramfs, the share dom0 mounts).
 * close() removes all three; so does the next boot() for a run whose owner died without it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { XenplanError } from '../../model/error.ts';
import { chooseAccel } from './accel.ts';
import { renderStage2, VM_SHARE } from './dom0-init.ts';
import { ensureVmImage, type VmImage, vmCacheDir } from './image.ts';
import { buildDom0Initramfs, buildGuestInitramfs } from './initramfs.ts';
import { type Accel, qemuArgs } from './qemu.ts';
import { exportLines } from './shell.ts';
import { createSwitches, deleteSwitches, tapName } from './switches.ts';

export const VM_WORK_BASE = '/var/tmp';
const WORK_PREFIX = 'xenplan-vm-';

export interface VmBootOptions {
  /** Progress lines (download, boot). */
  readonly say?: (line: string) => void;
  readonly nics?: number;
  readonly memMb?: number;
  readonly dom0MemMb?: number;
  readonly cpus?: number;
  /** From QEMU's start to dom0 ready; default 240 s (TCG). */
  readonly bootTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
}

export interface VmJobResult {
  /** The job's exit status; -1 when it did not finish (timeout, VM gone, aborted). */
  readonly exitCode: number;
  /** stdout and stderr, interleaved. */
  readonly output: string;
  readonly durationMs: number;
  readonly reason?: string;
  /** On a timeout: the console's last lines (a hung dom0 often says why there). */
  readonly console?: string;
}

export interface VmJobOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Default 120 s. */
  readonly timeoutMs?: number;
  readonly onOutput?: (text: string) => void;
  readonly signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether pid is a QEMU of the run in `dir` (not a reused pid). */
function isRunQemu(pid: number, dir: string): boolean {
  return readIfExists(`/proc/${pid}/cmdline`)?.includes(dir) === true;
}

/** Removes what a run left: its QEMU, its namespace, its work dir. Synchronous (exit handlers). */
function removeRun(dir: string): void {
  const pid = Number(readIfExists(join(dir, 'qemu.pid')));
  if (pid > 0 && isRunQemu(pid, dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}`) && isRunQemu(pid, dir); i++)
      execFileSync('sleep', ['0.05']);
  }
  const netns = readIfExists(join(dir, 'netns'))?.trim();
  if (netns) {
    try {
      execFileSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Runs whose owner process is gone (a killed test worker, a crashed lab) are removed. */
export function sweepStaleRuns(base = VM_WORK_BASE): string[] {
  const removed: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(base).filter((e) => e.startsWith(WORK_PREFIX));
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const dir = join(base, entry);
    const owner = Number(readIfExists(join(dir, 'owner')));
    if (owner > 0 && alive(owner)) continue;
    removeRun(dir);
    removed.push(dir);
  }
  return removed;
}

export class XenVm {
  readonly workDir: string;
  /** The share as the host sees it; dom0 sees it at VM_SHARE. */
  readonly shareDir: string;
  readonly netns: string;
  readonly accel: Accel;
  readonly image: VmImage;
  /** Where the guests' initramfs is, as dom0 sees it. */
  readonly guestInitramfs = `${VM_SHARE}/guest.cpio`;
  /**
   * The guests' kernel, as dom0 sees it: the plain ELF, not the bzImage. libxl would unpack
   * the xz bzImage in dom0 for every guest: seconds under TCG, and a 65 MB buffer that a busy
   * dom0 has failed to find ("unable to XZ decompress kernel").
   */
  get guestKernel(): string {
    return this.image.vmlinux;
  }
  /** Milliseconds from QEMU's start to dom0 ready. */
  bootMs = 0;
  private child: ChildProcess | undefined;
  private exited = false;
  private jobs = 0;
  private broken: string | undefined;
  private closed = false;
  private readonly onExit = () => this.closeSync();

  private constructor(workDir: string, netns: string, accel: Accel, image: VmImage) {
    this.workDir = workDir;
    this.shareDir = join(workDir, 'share');
    this.netns = netns;
    this.accel = accel;
    this.image = image;
  }

  /** Downloads the image if needed, boots Xen and dom0, and returns when dom0 serves jobs. */
  static async boot(options: VmBootOptions = {}): Promise<XenVm> {
    const say = options.say ?? (() => undefined);
    const env = options.env ?? process.env;
    if (process.getuid?.() !== 0)
      throw new XenplanError('environment', 'the Xen VM needs root (taps, namespaces)');
    const qemu = findQemu();
    if (!qemu)
      throw new XenplanError(
        'environment',
        'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)',
      );
    const image = await ensureVmImage(vmCacheDir(env), say);
    sweepStaleRuns();
    const accel = chooseAccel();
    const workDir = mkdtempSync(join(VM_WORK_BASE, WORK_PREFIX));
    const netns = `xpvm-${workDir.slice(-6)}`;
    const vm = new XenVm(workDir, netns, accel, image);
    process.on('exit', vm.onExit);
    try {
      writeFileSync(join(workDir, 'owner'), String(process.pid));
      writeFileSync(join(workDir, 'netns'), netns);
      mkdirSync(join(vm.shareDir, 'jobs'), { recursive: true });
      writeFileSync(join(vm.shareDir, 'stage2.sh'), renderStage2(), { mode: 0o755 });
      writeFileSync(join(workDir, 'dom0.cpio'), buildDom0Initramfs(image));
      writeFileSync(join(vm.shareDir, 'guest.cpio'), buildGuestInitramfs(image));
      const nics = options.nics ?? 2;
      await createSwitches(netns, nics);
      const args = qemuArgs({
        accel,
        xen: image.xen,
        vmlinux: image.vmlinux,
        initramfs: join(workDir, 'dom0.cpio'),
        hostRoot: '/',
        imageRoot: image.root,
        share: vm.shareDir,
        console: join(workDir, 'console.log'),
        monitor: join(workDir, 'monitor.sock'),
        taps: Array.from({ length: nics }, (_, i) => tapName(i)),
        memMb: options.memMb ?? 3072,
        dom0MemMb: options.dom0MemMb ?? 1024,
        cpus: options.cpus ?? 2,
      });
      say(`booting Xen 4.17 in QEMU (${accel.why}); work dir ${workDir}, namespace ${netns}`);
      const started = Date.now();
      const child = spawn('ip', ['netns', 'exec', netns, qemu, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      });
      vm.child = child;
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.once('exit', () => {
        vm.exited = true;
      });
      if (child.pid) writeFileSync(join(workDir, 'qemu.pid'), String(child.pid));
      const deadline = started + (options.bootTimeoutMs ?? 240_000);
      while (!existsSync(join(vm.shareDir, 'ready'))) {
        const failed = readIfExists(join(vm.shareDir, 'failed'));
        if (failed)
          throw new XenplanError(
            'environment',
            `dom0 did not come up: ${failed.trim()}\n${vm.consoleTail()}`,
          );
        if (vm.exited)
          throw new XenplanError(
            'environment',
            `QEMU exited during boot: ${stderr.trim() || 'no message'}\n${vm.consoleTail()}`,
          );
        if (options.signal?.aborted) throw new XenplanError('environment', 'boot interrupted');
        if (Date.now() > deadline)
          throw new XenplanError(
            'environment',
            `dom0 was not ready after ${Math.round((Date.now() - started) / 1000)} s\n${vm.consoleTail()}`,
          );
        await sleep(200);
      }
      vm.bootMs = Date.now() - started;
      say(`dom0 ready after ${(vm.bootMs / 1000).toFixed(1)} s`);
      return vm;
    } catch (error) {
      await vm.close();
      throw error;
    }
  }

  /** The last lines of the serial console (Xen and dom0 kernel messages, init's lines). */
  consoleTail(lines = 25): string {
    const text = readIfExists(join(this.workDir, 'console.log')) ?? '';
    return `console (last ${lines} lines):\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
  }

  /** The whole serial console so far. */
  console(): string {
    return readIfExists(join(this.workDir, 'console.log')) ?? '';
  }

  /** Runs `script` with /bin/sh as root in dom0; jobs run one at a time, in order. */
  async run(script: string, options: VmJobOptions = {}): Promise<VmJobResult> {
    const started = Date.now();
    const fail = (reason: string, output = '', console?: string): VmJobResult => ({
      exitCode: -1,
      output,
      durationMs: Date.now() - started,
      reason,
      ...(console === undefined ? {} : { console }),
    });
    if (this.closed) return fail('the VM is closed');
    if (this.broken) return fail(`the VM is unusable: ${this.broken}`);
    // Built before the job gets its number: a bad env name must not leave a gap in the queue.
    const text = `${exportLines(options.env ?? {})}${script}\n`;
    const n = ++this.jobs;
    const jobs = join(this.shareDir, 'jobs');
    writeFileSync(join(jobs, `${n}.sh.tmp`), text);
    renameSync(join(jobs, `${n}.sh.tmp`), join(jobs, `${n}.sh`));
    const deadline = started + (options.timeoutMs ?? 120_000);
    let shown = 0;
    const poll = () => {
      const text = readIfExists(join(jobs, `${n}.out`)) ?? '';
      if (options.onOutput && text.length > shown) options.onOutput(text.slice(shown));
      shown = Math.max(shown, text.length);
      return text;
    };
    for (;;) {
      const rc = readIfExists(join(jobs, `${n}.rc`));
      if (rc !== undefined && /^\d+\s*$/.test(rc)) {
        const output = poll();
        const exitCode = Number(rc);
        return {
          exitCode,
          output,
          durationMs: Date.now() - started,
          ...(exitCode === 0 ? {} : { reason: `exited with status ${exitCode}` }),
        };
      }
      poll();
      if (this.exited) {
        this.broken = 'QEMU exited';
        return fail(`QEMU exited while job ${n} ran\n${this.consoleTail()}`, poll());
      }
      if (options.signal?.aborted) {
        this.broken = 'a job was interrupted';
        return fail('interrupted', poll());
      }
      if (Date.now() > deadline) {
        this.broken = `job ${n} timed out`;
        return fail(`timed out after ${options.timeoutMs ?? 120_000} ms`, poll(), this.consoleTail(10));
      }
      await sleep(100);
    }
  }

  /** Plugs (true) or pulls (false) the cable of dom0's NIC i (eth<i>), as QEMU's monitor does. */
  async setLink(nic: number, up: boolean): Promise<void> {
    await this.monitor(`set_link nic${nic} ${up ? 'on' : 'off'}`);
  }

  /** One HMP command; resolves with its output once the monitor prompts again. */
  monitor(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(join(this.workDir, 'monitor.sock'));
      let text = '';
      let sent = false;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new XenplanError('environment', `QEMU monitor did not answer ${JSON.stringify(command)}`));
      }, 10_000);
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (!sent && text.includes('(qemu) ')) {
          sent = true;
          text = '';
          socket.write(`${command}\n`);
        } else if (sent && text.includes('(qemu) ')) {
          clearTimeout(timer);
          socket.end();
          resolve(text.replace(/\r/g, ''));
        }
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        reject(new XenplanError('environment', `QEMU monitor: ${error.message}`));
      });
    });
  }

  /** A command in the host-side namespace (the gateway, the switches), e.g. ping a guest. */
  hostCommand(argv: readonly string[]): { status: number; output: string } {
    try {
      const output = execFileSync('ip', ['netns', 'exec', this.netns, ...argv], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { status: 0, output };
    } catch (error) {
      const e = error as { status?: number; stdout?: string; stderr?: string };
      return { status: e.status ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  }

  /** Kills QEMU, deletes the namespace and the work dir. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.child?.kill('SIGKILL');
    for (let i = 0; i < 100 && this.child && !this.exited; i++) await sleep(50);
    await deleteSwitches(this.netns);
    this.closeSync();
  }

  private closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    process.removeListener('exit', this.onExit);
    removeRun(this.workDir);
  }
}

function findQemu(): string | undefined {
  for (const dir of ['/usr/bin', '/usr/local/bin', '/usr/sbin']) {
    const path = join(dir, 'qemu-system-x86_64');
    if (existsSync(path)) return path;
  }
  return undefined;
}
