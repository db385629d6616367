import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { GUESTS, renderStage, STAGES } from '../lab/scenario.ts';
import { DOM0_PATH } from '../lab/vm/dom0-init.ts';
import { cachedVmImage, DEFAULT_VM_CACHE, vmCacheDir } from '../lab/vm/image.ts';
import type { XenVm } from '../lab/vm/vm.ts';
import { isXenplanError, XenplanError } from '../model/error.ts';
import type { Context } from './context.ts';
import { parseFlags } from './flags.ts';

export const LAB_HELP = `Usage: xenplan lab [--keep] [--timeout SECONDS] [--fail-at STAGE]

Plays the admin's bonded-bridge setup (the example files: examples/ in the
project, or "xenplan examples DIR" writes them) end to end on a real Xen host:
Xen 4.17 and a PV dom0 (Debian's packages) boot in QEMU; dom0's eth0 and eth1
are NICs on two switches joined upstream at a gateway; guests are PV domUs
started with xl create, whose vifs the installed vif-xenplan attaches. Nothing
of this host's network is touched. Stages:
${STAGES.map((s) => `  ${s.id}. ${s.title}`).join('\n')}

Cost: the first run downloads about 75 MB of Debian packages (Xen, its tools, Linux 6.1,
busybox) into ${DEFAULT_VM_CACHE} (XENPLAN_VM_CACHE moves it); later runs reuse them.
Without hardware virtualisation for Xen (VMX/SVM in KVM) QEMU emulates the CPU (TCG): the
whole lab then takes about 3 to 6 minutes. What it proves: network-script builds the
recommended bond on real NICs and fails over on a pulled cable, vif-script attaches real
netback vifs under a real xl, and a failure reaches xl at once.
Needs root, qemu-system-x86, apt-get, dpkg-deb, kmod and xz-utils (npm start installs
them). Whatever happens (success, failure, Ctrl-C) no process, namespace, tap, mount or
temporary file is left behind.

Options:
  --keep             after the failover stage, read commands from this terminal and run
                     each as root in dom0 (xl list, cat /proc/net/bonding/bond0, ...);
                     exit (or Ctrl-D) goes on with the teardown
  --timeout SECONDS  stop the lab after this long (default 1200; no limit with --keep)
  --fail-at STAGE    make that stage fail (to see, and test, that nothing is left behind)
  -h, --help         this help

Exit codes: 0 all stages passed, 1 a stage failed, 5 the VM cannot run here,
130 interrupted (Ctrl-C).
`;

const KEEP_HELP = `
The Xen host is up. Each line you type runs as root in its dom0 (a throwaway VM; nothing
here touches your host). Try:
  xl list                                 the guests
  cat /proc/net/bonding/bond0             the bond, its active slave (eth1 after failover)
  bridge link                             xenbr0's ports: bond0 and the guests' vifs
  xenstore-ls /local/domain/0/backend/vif the guests' backend directories
  tail -3 /var/log/xen/console/guest-guest1.log   guest1's pings
Type exit (or Ctrl-D) to go on with the teardown; Ctrl-C stops the lab at once.
`;

interface StageResult {
  id: number;
  ok: boolean | undefined;
  ms: number;
  why?: string;
}

class StageFailed extends Error {}

export async function runLab(ctx: Context, args: readonly string[]): Promise<number> {
  const flags = parseFlags(args, { string: ['timeout', 'fail-at'], boolean: ['keep'] }, 'xenplan lab');
  if (flags.help) {
    ctx.out(LAB_HELP);
    return 0;
  }
  const timeoutText = typeof flags.timeout === 'string' ? flags.timeout : '1200';
  if (!/^[0-9]{1,5}$/.test(timeoutText) || Number(timeoutText) < 60)
    throw new XenplanError(
      'usage',
      `--timeout ${JSON.stringify(timeoutText)}: expected whole seconds, at least 60`,
    );
  const failAt = typeof flags['fail-at'] === 'string' ? flags['fail-at'] : undefined;
  if (failAt !== undefined && !STAGES.some((stage) => String(stage.id) === failAt))
    throw new XenplanError(
      'usage',
      `--fail-at ${JSON.stringify(failAt)}: expected a stage number from 1 to ${STAGES.length}`,
    );
  const keep = flags.keep === true;
  if (process.getuid?.() !== 0)
    throw new XenplanError('environment', 'xenplan lab needs root (it runs a VM with taps and namespaces)');
  const bundle = realpathSync(process.argv[1] ?? '');
  const cache = vmCacheDir(process.env);

  const results: StageResult[] = STAGES.map((s) => ({ id: s.id, ok: undefined, ms: 0 }));
  const labStart = Date.now();
  const elapsed = () => `${((Date.now() - labStart) / 1000).toFixed(0)} s`;
  ctx.out(
    `xenplan lab: a real Xen 4.17 host in QEMU, ${STAGES.length} stages. Under software emulation this takes\n` +
      `about 3-6 minutes${cachedVmImage(cache) ? '' : `; this first run also downloads about 75 MB into ${cache}`}.\n`,
  );

  const abort = new AbortController();
  let interrupted = false;
  let timedOut = false;
  const onSigint = () => {
    interrupted = true;
    ctx.err('\nxenplan lab: interrupted; stopping the VM\n');
    abort.abort();
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  const timer = keep
    ? undefined
    : setTimeout(() => {
        timedOut = true;
        ctx.err(`\nxenplan lab: stopped after --timeout ${timeoutText} s\n`);
        abort.abort();
      }, Number(timeoutText) * 1000);

  let current: StageResult | undefined;
  let stageStart = Date.now();
  const rounds: Record<string, string> = {};
  const onLine = (line: string) => {
    const round = /^@@round (\S+) (\S*)$/.exec(line);
    if (round) {
      const index = GUESTS.findIndex((g) => g.name === round[1]);
      rounds[`ROUND_${index}`] = round[2] || '0';
      return;
    }
    const marker = /^@@(stage|ok|fail) ([0-9]+) ?(.*)$/.exec(line);
    if (!marker) {
      if (current) ctx.out(`  ${line}\n`);
      return;
    }
    const [, kind, id, rest] = marker;
    const result = results.find((r) => r.id === Number(id));
    if (!result) return;
    if (kind === 'stage') {
      if (result !== current) begin(result);
    } else {
      finish(result, kind === 'ok', rest);
    }
  };
  const begin = (result: StageResult) => {
    current = result;
    stageStart = Date.now();
    ctx.out(`\n[${result.id}/${STAGES.length}] ${STAGES[result.id - 1]?.title} (at ${elapsed()})\n`);
  };
  const finish = (result: StageResult, ok: boolean, why?: string) => {
    result.ok = ok;
    result.ms = Date.now() - stageStart;
    if (why) result.why = why;
    ctx.out(ok ? `  PASS (${(result.ms / 1000).toFixed(1)} s)\n` : `  FAIL: ${why}\n`);
    current = undefined;
  };

  let vm: XenVm | undefined;
  let exit = 0;
  try {
    begin(results[0]!);
    const { XenVm } = await import('../lab/vm/vm.ts');
    if (failAt === '1') throw new StageFailed('failure injected by --fail-at 1');
    vm = await XenVm.boot({
      say: (line) => ctx.out(`  ${line} (at ${elapsed()})\n`),
      signal: abort.signal,
    });
    const env = {
      BUNDLE: bundle,
      PATH: `${dirname(process.execPath)}:${DOM0_PATH}`,
      ...(failAt === undefined ? {} : { XENPLAN_LAB_FAIL_AT: failAt }),
    };
    const paths = { kernel: vm.guestKernel, ramdisk: vm.guestInitramfs };
    const job = async (stage: number, part = 0, extra: Record<string, string> = {}) => {
      let pending = '';
      const r = await vm!.run(renderStage(stage, paths, part), {
        env: { ...env, ...extra },
        timeoutMs: 300_000,
        signal: abort.signal,
        onOutput: (text) => {
          pending += text;
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) onLine(line);
        },
      });
      if (pending) onLine(pending);
      const result = results[stage - 1]!;
      if (r.exitCode !== 0 && result.ok === undefined) finish(result, false, r.reason ?? 'failed');
      if (r.console) ctx.err(`${r.console}\n`);
      if (r.exitCode !== 0) throw new StageFailed(r.reason ?? 'failed');
    };
    await job(1);
    for (const stage of [2, 3, 4]) await job(stage);
    await job(5, 0);
    await vm.setLink(0, false);
    await job(5, 1, rounds);
    await vm.setLink(0, true);
    if (keep) await keepShell(ctx, vm, abort.signal);
    for (const stage of [6, 7]) await job(stage);
  } catch (error) {
    // The stage that was running when it stopped (a job's failure has already been shown).
    const result =
      current ?? (results.some((r) => r.ok === false) ? undefined : results.find((r) => r.ok === undefined));
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    if (result && result.ok === undefined)
      finish(result, false, interrupted ? 'interrupted' : timedOut ? 'timed out' : why);
    if (isXenplanError(error) && error.kind === 'environment' && !interrupted) {
      ctx.err(`xenplan lab: the VM cannot run here: ${error.message}\n`);
      exit = 5;
    } else if (!(error instanceof StageFailed) && !interrupted && !timedOut) {
      ctx.err(`xenplan lab: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  } finally {
    if (timer) clearTimeout(timer);
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigint);
    await vm?.close();
  }
  ctx.out(`\n${renderSummary(results)}`);
  const passed = results.every((r) => r.ok === true);
  ctx.out(
    passed
      ? `All stages passed in ${elapsed()}; the VM is gone.\n`
      : `The lab failed; the VM is gone (${elapsed()}).\n`,
  );
  if (interrupted) return 130;
  if (exit !== 0) return exit;
  return passed ? 0 : 1;
}

/** --keep: each line from stdin runs as a job in dom0, until exit or end of input. */
async function keepShell(ctx: Context, vm: XenVm, signal: AbortSignal): Promise<void> {
  ctx.out(KEEP_HELP);
  const lines = createInterface({ input: process.stdin, terminal: false });
  ctx.out('dom0# ');
  try {
    for await (const line of lines) {
      if (signal.aborted || line.trim() === 'exit') break;
      if (line.trim() !== '') {
        const r = await vm.run(line, { timeoutMs: 120_000, signal });
        ctx.out(r.output);
        if (r.exitCode !== 0) ctx.out(`[${r.reason}]\n`);
      }
      ctx.out('dom0# ');
    }
  } finally {
    lines.close();
  }
  ctx.out('\n');
}

function renderSummary(results: readonly StageResult[]): string {
  const rows = results.map((r) => {
    const status = r.ok === true ? 'pass' : r.ok === false ? 'FAIL' : 'not run';
    const time = r.ok === undefined ? '' : `${(r.ms / 1000).toFixed(1)} s`;
    return `  ${String(r.id).padEnd(3)}${status.padEnd(9)}${time.padStart(8)}  ${STAGES[r.id - 1]?.title ?? ''}`;
  });
  return `Summary\n  #  result       time  stage\n${rows.join('\n')}\n`;
}
