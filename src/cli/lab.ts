import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderLabScenario, STAGES } from '../lab/scenario.ts';
import { runInUml, umlAvailable } from '../lab/uml.ts';
import { XenplanError } from '../model/error.ts';
import type { Context } from './context.ts';
import { parseFlags } from './flags.ts';

export const LAB_HELP = `Usage: xenplan lab [--timeout SECONDS]

Plays the admin's bonded-bridge setup (shared/seed) end to end in a sandbox: a throwaway
Linux kernel (User-mode Linux, which has bonding) whose own network is dom0, with eth0 and
eth1 cabled to two switch namespaces and an upstream gateway. Nothing of this host's
network is touched. Stages:
${STAGES.map((s) => `  ${s.id}. ${s.title}`).join('\n')}
Needs root, user-mode-linux, kmod, iproute2, iputils-ping and xenstore-utils (npm start
installs them). Whatever happens (success, failure, Ctrl-C) no namespace, process, mount
or file is left behind.

Options:
  --timeout SECONDS  stop the sandbox after this long (default 300)
  -h, --help         this help

Exit codes: 0 all stages passed, 1 a stage failed, 5 the sandbox cannot run here.
`;

interface StageResult {
  id: number;
  ok: boolean | undefined;
  ms: number;
  why?: string;
}

export async function runLab(ctx: Context, args: readonly string[]): Promise<number> {
  const flags = parseFlags(args, { string: ['timeout'] }, 'xenplan lab');
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

  const onLine = (line: string) => {
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
  const onSigint = () => {
    ctx.err('\nxenplan lab: interrupted; stopping the sandbox\n');
    abort.abort();
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  let run: Awaited<ReturnType<typeof runInUml>>;
  try {
    run = await runInUml({
      script: renderLabScenario({ keep: false }),
      env: { BUNDLE: bundle },
      pathPrepend: [dirname(process.execPath)],
      timeoutMs: Number(timeoutText) * 1000,
      memMb: 768,
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
  }
  if (pending) onLine(pending);
  if (booting) ctx.out('\n');
  ctx.out(`\n${renderSummary(results)}`);
  const passed = results.every((r) => r.ok === true);
  if (!passed && !run.ok) ctx.err(`xenplan lab: ${run.reason}\n`);
  if (!passed && run.exitCode === -1 && run.log)
    ctx.err(`sandbox console (last lines):\n${run.log.split('\n').slice(-15).join('\n')}\n`);
  ctx.out(passed ? 'All stages passed; the sandbox is gone.\n' : 'The lab failed; the sandbox is gone.\n');
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
