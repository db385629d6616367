import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderLabScenario, STAGES } from '../lab/scenario.ts';
import { runInUml } from '../lab/uml.ts';
import { umlAvailable } from '../lab/uml-host.ts';
import { XenplanError } from '../model/error.ts';
import type { Context } from './context.ts';
import { parseFlags } from './flags.ts';

export const LAB_HELP = `Usage: xenplan lab [--keep] [--timeout SECONDS]

Plays the admin's bonded-bridge setup (shared/seed) end to end in a sandbox: a throwaway
Linux kernel (User-mode Linux, which has bonding) whose own network is dom0, with eth0 and
eth1 cabled to two switch namespaces and an upstream gateway. Nothing of this host's
network is touched. Stages:
${STAGES.map((s) => `  ${s.id}. ${s.title}`).join('\n')}
Needs root, user-mode-linux, kmod, iproute2, iputils-ping and xenstore-utils (npm start
installs them). Whatever happens (success, failure, Ctrl-C) no namespace, process, mount
or file is left behind.

Options:
  --keep             after the failover stage, open a shell in the sandbox's dom0 on this
                     terminal for poking at (guests, switches, bond); type exit to go on
                     with the teardown
  --timeout SECONDS  stop the sandbox after this long (default 300; no limit with --keep)
  --fail-at STAGE    make that stage fail (to see, and test, that nothing is left behind)
  -h, --help         this help

Exit codes: 0 all stages passed, 1 a stage failed, 5 the sandbox cannot run here,
130 interrupted (Ctrl-C).
`;

const KEEP_HELP = `
The sandbox is up. This is a root shell in its dom0 (a throwaway kernel; nothing here
touches your host). Try:
  cat /proc/net/bonding/bond0             the bond, its active slave (eth1 after failover)
  bridge link                             xenbr0's ports: bond0 and the guests' vifs
  network-script status bond=bond0 slaves=eth0,eth1 bond.primary=eth0
  ip -n swa link set dom0 up              plug eth0's switch port back in
  ip netns exec g1 ping -c 3 192.0.2.1    guest 1 (g2: guest 2; swa, swb: switches; gw: gateway)
  xenstore-ls backend                     the guests' backend directories
Type exit (or Ctrl-D) to go on with the teardown; Ctrl-C stops the sandbox at once.
`;

interface StageResult {
  id: number;
  ok: boolean | undefined;
  ms: number;
  why?: string;
}

export async function runLab(ctx: Context, args: readonly string[]): Promise<number> {
  const flags = parseFlags(args, { string: ['timeout', 'fail-at'], boolean: ['keep'] }, 'xenplan lab');
  if (flags.help) {
    ctx.out(LAB_HELP);
    return 0;
  }
  const timeoutText = typeof flags.timeout === 'string' ? flags.timeout : '300';
  if (!/^[0-9]{1,4}$/.test(timeoutText) || Number(timeoutText) < 30)
    throw new XenplanError(
      'usage',
      `--timeout ${JSON.stringify(timeoutText)}: expected whole seconds, at least 30`,
    );
  const failAt = typeof flags['fail-at'] === 'string' ? flags['fail-at'] : undefined;
  if (failAt !== undefined && !STAGES.some((stage) => String(stage.id) === failAt))
    throw new XenplanError(
      'usage',
      `--fail-at ${JSON.stringify(failAt)}: expected a stage number from 1 to ${STAGES.length}`,
    );
  const keep = flags.keep === true;
  if (process.getuid?.() !== 0)
    throw new XenplanError('environment', 'xenplan lab needs root (it boots a sandbox kernel)');
  const uml = umlAvailable();
  if (!uml.ok)
    throw new XenplanError(
      'environment',
      `${uml.reason}; install it with: apt-get install user-mode-linux kmod`,
    );
  const bundle = realpathSync(process.argv[1] ?? '');

  const results: StageResult[] = STAGES.map((s) => ({ id: s.id, ok: undefined, ms: 0 }));
  let current: StageResult | undefined;
  let stageStart = Date.now();
  let pending = '';
  let booting = true;
  ctx.out('xenplan lab: booting a throwaway kernel (User-mode Linux) as the sandbox dom0 ');
  const spinner = setInterval(() => booting && ctx.out('.'), 1000);

  let sandboxConsole: { stdin: NodeJS.WritableStream; interactive: boolean } | undefined;
  const toConsole = (chunk: Buffer) => sandboxConsole?.stdin.write(chunk);
  const onLine = (line: string) => {
    if (line === '@@keep' && sandboxConsole) {
      ctx.out(KEEP_HELP);
      sandboxConsole.interactive = true;
      process.stdin.on('data', toConsole);
      process.stdin.once('end', () => sandboxConsole?.stdin.write('exit\n'));
      process.stdin.resume();
      return;
    }
    if (line === '@@kept' && sandboxConsole) {
      sandboxConsole.interactive = false;
      process.stdin.removeListener('data', toConsole);
      process.stdin.pause();
      return;
    }
    const marker = /^@@(stage|ok|fail|done) ?([0-9]+)? ?(.*)$/.exec(line);
    if (!marker) {
      if (current) ctx.out(`  ${line}\n`);
      return;
    }
    const [, kind, id, rest] = marker;
    const result = results.find((r) => r.id === Number(id));
    if (kind === 'stage' && result) {
      if (booting) ctx.out(' up\n');
      booting = false;
      current = result;
      stageStart = Date.now();
      ctx.out(`\n[${result.id}/${STAGES.length}] ${STAGES[result.id - 1]?.title}\n`);
    } else if ((kind === 'ok' || kind === 'fail') && result) {
      result.ok = kind === 'ok';
      result.ms = Date.now() - stageStart;
      if (rest) result.why = rest;
      ctx.out(kind === 'ok' ? `  PASS (${(result.ms / 1000).toFixed(1)} s)\n` : `  FAIL: ${rest}\n`);
      current = undefined;
    }
  };

  const abort = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    ctx.err('\nxenplan lab: interrupted; stopping the sandbox\n');
    abort.abort();
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  let run: Awaited<ReturnType<typeof runInUml>>;
  try {
    run = await runInUml({
      script: renderLabScenario({ keep }),
      env: { BUNDLE: bundle, ...(failAt === undefined ? {} : { XENPLAN_LAB_FAIL_AT: failAt }) },
      pathPrepend: [dirname(process.execPath)],
      timeoutMs: keep ? 24 * 3600 * 1000 : Number(timeoutText) * 1000,
      ...(keep
        ? {
            console: (stdin: NodeJS.WritableStream, stdout: NodeJS.ReadableStream) => {
              sandboxConsole = { stdin, interactive: false };
              stdout.on('data', (chunk: Buffer) => {
                if (sandboxConsole?.interactive) ctx.out(chunk.toString());
              });
            },
          }
        : {}),
      memMb: 768,
      onStart: (dir) => ctx.out(`(sandbox work dir ${dir}) `),
      signal: abort.signal,
      onOutput: (text) => {
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      },
    });
  } finally {
    clearInterval(spinner);
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigint);
    process.stdin.removeListener('data', toConsole);
    process.stdin.pause();
  }
  if (pending) onLine(pending);
  if (booting) ctx.out('\n');
  ctx.out(`\n${renderSummary(results)}`);
  const passed = results.every((r) => r.ok === true);
  if (!passed && !run.ok) ctx.err(`xenplan lab: ${run.reason}\n`);
  if (!passed && run.exitCode === -1 && run.log)
    ctx.err(`sandbox console (last lines):\n${run.log.split('\n').slice(-15).join('\n')}\n`);
  ctx.out(passed ? 'All stages passed; the sandbox is gone.\n' : 'The lab failed; the sandbox is gone.\n');
  if (interrupted) return 130;
  return passed ? 0 : 1;
}

function renderSummary(results: readonly StageResult[]): string {
  const rows = results.map((r) => {
    const status = r.ok === true ? 'pass' : r.ok === false ? 'FAIL' : 'not run';
    const time = r.ok === undefined ? '' : `${(r.ms / 1000).toFixed(1)} s`;
    return `  ${String(r.id).padEnd(3)}${status.padEnd(9)}${time.padStart(8)}  ${STAGES[r.id - 1]?.title ?? ''}`;
  });
  return `Summary\n  #  result       time  stage\n${rows.join('\n')}\n`;
}
