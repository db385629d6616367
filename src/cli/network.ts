import { applySteps } from '../apply/apply.ts';
import { checkConverged } from '../apply/converge.ts';
import { acquireLock, lockPath } from '../apply/lock.ts';
import { defaultGateway, probeGateway } from '../apply/probe.ts';
import { readRecord, statePath, writeRecord } from '../apply/state.ts';
import { renderSettingsHelp } from '../config/keys.ts';
import { renderFindings } from '../doctor/report.ts';
import { toXenplanError, XenplanError } from '../model/error.ts';
import { portsOf } from '../model/host.ts';
import type { NetworkDesired } from '../model/network.ts';
import type { StartRecord } from '../model/record.ts';
import { observeHost } from '../observe/host.ts';
import { planLinkLocalRetry } from '../plan/address.ts';
import { holderOf, mergeRecords, planNetwork, planNetworkStart } from '../plan/network.ts';
import { settleBudget } from '../plan/settle.ts';
import { parseConfirmSeconds, runConfirm, waitForConfirm } from './confirm.ts';
import type { Context } from './context.ts';
import { exitHelp, type Role } from './exit.ts';
import { parseFlags } from './flags.ts';
import { elapsed, logNetwork, logNetworkFailure } from './network-log.ts';
import { type NetworkOptions, printApplied, printPlan } from './network-print.ts';
import { status } from './network-status.ts';
import { LOCK_WAIT_MS, stop } from './network-stop.ts';
import { renderFindingComments, reviewStart, strictStop } from './review.ts';
import { rollBackStart } from './rollback.ts';
import { loadSettings, settingsFrom } from './settings.ts';
import { waitForLinks } from './settle.ts';

/** network-script's help; its exit codes are those of the role it runs as. */
export function networkHelp(role: Role = 'network'): string {
  return `Usage: network-script start|stop|status [key=value ...] [--dry-run] [--json]
                      [--confirm=SECONDS]
       xenplan network start|stop|status ...
       xenplan confirm [bridge=NAME]

Turns dom0's NICs (one NIC, or a bond of several) into the bridge guests hang
off, and moves dom0's addresses and routes onto it. xend runs "network-script
start" with the words of (network-script '...') split on single spaces, so
every setting is one key=value word. Xen's network-bridge words (bridge=,
netdev=, vifnum=, antispoof=yes) are taken as they are.

Commands:
  start    observe, review (the xenplan doctor rules; findings go to stderr
           and, with --dry-run, to the top of the script; with strict=yes an
           error stops start before anything changes), plan only what differs,
           apply, verify (the plan must then be empty), wait for the bond's
           active slave and the uplink to forward; if dom0's gateway answered
           before and its gateway after does not, roll back. What start
           created is recorded (with its settings) in
           /run/xenplan/network-BRIDGE.json before anything changes.
  stop     undo what start recorded: release slaves and ports, delete the
           bridge and bond it created, put back the bond mode and options,
           bridge options, MTUs and MACs it changed on devices it did not
           create, put addresses and routes back, restore sysctls. Nothing
           else is touched.
  status   bond mode, active slave, slaves' links, bridge ports (vifs too),
           where dom0's addresses live and what drifted; exit 0 converged,
           3 drifted.
  confirm  keep what a "start --confirm=SECONDS" applied (otherwise it rolls
           back).

Configuration file:
  Settings come from /etc/xen/xenplan.conf when it exists: key=value lines,
  the same keys as the words (see xenplan.conf(5)); XENPLAN_CONFIG or
  config=FILE names another file. Words override the file. With no words and
  no settings in the file, stop and status act on every bridge start
  recorded, with the settings start ran with.

Settings:
${renderSettingsHelp()}

Options:
  --dry-run          print the plan as a POSIX sh script (disruptive steps are
                     marked); change nothing
  --json             print one JSON object (schema xenplan/1): the plan with
                     --dry-run, what was applied, the status; errors too
  --confirm=SECONDS  after start, wait for "xenplan confirm" that long, else
                     roll back
  -h, --help         this help

Environment:
  XENPLAN_RUN_DIR    holds the lock and the state files (default /run/xenplan)
  XENPLAN_LOG_DIR    where xen-hotplug.log is written (default /var/log/xen)
  XENPLAN_CONFIG     the configuration file (default /etc/xen/xenplan.conf)

${exitHelp(role)}
`;
}

const COMMANDS = ['start', 'stop', 'status', 'confirm'] as const;
type Command = (typeof COMMANDS)[number];

export async function runNetwork(
  ctx: Context,
  args: readonly string[],
  role: Role = 'network',
): Promise<number> {
  const flags = parseFlags(
    args,
    { string: ['confirm'], boolean: ['dry-run', 'json', 'help'] },
    'network-script',
  );
  if (flags.help) {
    ctx.out(networkHelp(role));
    return 0;
  }
  const positional = flags._;
  const index = positional.findIndex((w) => w !== '' && !w.includes('='));
  const command = positional[index];
  if (command === undefined || !(COMMANDS as readonly string[]).includes(command))
    throw new XenplanError(
      'usage',
      `expected start, stop, status or confirm, got ${command === undefined ? 'nothing' : JSON.stringify(command)}; see network-script --help`,
    );
  const words = positional.filter((_, i) => i !== index);
  const extra = words.find((w) => w !== '' && !w.includes('='));
  if (extra !== undefined)
    throw new XenplanError('usage', `${JSON.stringify(extra)} is not a key=value setting`);
  const options = {
    dryRun: flags['dry-run'] === true,
    json: flags.json === true,
    confirm: parseConfirmSeconds(flags.confirm),
  };
  switch (command as Command) {
    case 'confirm':
      return runConfirm(ctx, words, options.json);
    case 'status':
      return status(ctx, words, options.json);
    default:
      return logged(ctx, command as 'start' | 'stop', words, options);
  }
}

/** start and stop, with failures in the hotplug log and syslog (a dry run logs nothing). */
async function logged(
  ctx: Context,
  command: 'start' | 'stop',
  words: readonly string[],
  options: NetworkOptions,
): Promise<number> {
  const began = Date.now();
  try {
    return command === 'start'
      ? await start(ctx, words, options, began)
      : await stop(ctx, words, options, began);
  } catch (thrown) {
    const error = toXenplanError(thrown);
    if (!options.dryRun)
      await logNetworkFailure(
        ctx,
        `${[command, ...words].join(' ')} failed after ${elapsed(began)}: ${error.message}`,
      );
    throw error;
  }
}

async function start(
  ctx: Context,
  words: readonly string[],
  options: NetworkOptions,
  began: number,
): Promise<number> {
  const observe = () => observeHost(ctx.runner, ctx.files);
  // The settings files are read (and refused when they are not text) before the lock.
  const loaded = loadSettings(ctx, words);
  if (options.dryRun) {
    const host = await observe();
    const settings = settingsFrom(loaded, host);
    const want = settings.desired;
    const findings = await reviewStart(ctx, settings, host);
    const recorded = readRecord(statePath(ctx.env, want.bridge.name));
    printPlan(
      ctx,
      planNetwork(want, host, recorded),
      options.json,
      `network-script start: ${describeWant(want)}`,
      { command: 'start', bridge: want.bridge.name, findings },
      renderFindingComments(findings, want.strict),
    );
    return 0;
  }
  let release = await acquireLock(lockPath(ctx.env), LOCK_WAIT_MS);
  try {
    // Observed under the lock: nobody else changes the host between this and applying.
    const host = await observe();
    const settings = settingsFrom(loaded, host);
    const want = settings.desired;
    const findings = await reviewStart(ctx, settings, host);
    if (findings.length > 0) ctx.err(`network-script: doctor review:\n${renderFindings(findings)}`);
    const stop = strictStop(findings, want.strict);
    if (stop !== undefined) throw new XenplanError('config', `${stop}; nothing was changed`);
    const path = statePath(ctx.env, want.bridge.name);
    const previous = readRecord(path);
    const { plan, record } = planNetworkStart(want, host, previous);
    for (const warning of plan.warnings) ctx.err(`network-script: warning: ${warning}\n`);
    if (plan.steps.length === 0) {
      if (previous !== undefined && !sameWords(previous.words, words))
        writeRecord(path, { ...previous, words: [...words] });
      if (options.json) printApplied(ctx, 'start', want.bridge.name, plan, findings);
      else
        ctx.out(`${want.bridge.name}: already as wanted (0 steps); dom0's addresses on ${holderOf(want)}\n`);
      return 0;
    }
    // The gateway dom0 uses now, whatever gateway= says: losing it is what a rollback prevents.
    const before = defaultGateway(host);
    const answered = before !== undefined && (await probeGateway(ctx.runner, before, 2));
    // The intent, routes included, is on disk before the first disruptive step.
    const merged: StartRecord = { ...mergeRecords(previous, record), words: [...words] };
    writeRecord(path, merged);
    const rollBack = async (why: string): Promise<never> => {
      try {
        return await rollBackStart(ctx, { record, previous, path }, why);
      } catch (thrown) {
        const error = toXenplanError(thrown);
        logNetwork(ctx, `rollback ${want.bridge.name}: ${error.message}`);
        throw error;
      }
    };
    try {
      await applySteps(ctx.runner, plan.steps);
    } catch (thrown) {
      const error = toXenplanError(thrown);
      return await rollBack(error.message);
    }
    const appliedAt = uptimeSeconds(ctx.files);
    const after = await observe();
    const budget = settleBudget(want, after);
    checkConverged(
      plan.steps.length,
      planNetwork(want, after, merged),
      `state kept in ${path}; network-script stop undoes what start did`,
    );
    const now = defaultGateway(after);
    if (answered && before !== undefined) {
      const settled = await waitForLinks(ctx.files, want, budget);
      const wait = `waited for ${settled.waitedFor}; saw ${settled.saw}`;
      if (now === undefined)
        await rollBack(
          `dom0's default gateway ${before} answered before start; after it dom0 has no default route (${wait})`,
        );
      else if (!(await probeGateway(ctx.runner, now, PROBE_SECONDS)))
        await rollBack(
          `dom0's default gateway ${before} answered before start; after it ${now === before ? 'it' : `its gateway ${now}`} did not answer within ${PROBE_SECONDS} s (${wait})`,
        );
    }
    // The links have settled (or had their chance): a link-local that failed detection meanwhile
    // gets it again; the rest of start stands either way.
    const retry = planLinkLocalRetry(holderOf(want), await observe());
    if (retry.length > 0) {
      await applySteps(ctx.runner, retry);
      const cidrs = retry.filter((r) => r.id.endsWith(':dad-add')).map((r) => r.argv[3]);
      logNetwork(
        ctx,
        `start ${want.bridge.name}: ${holderOf(want)}'s link-local ${cidrs.join(', ')} failed duplicate address detection during the bring-up; added again`,
      );
    }
    if (options.confirm !== undefined) {
      ctx.err(
        `network-script: applied; run "xenplan confirm bridge=${want.bridge.name}" within ${options.confirm} s to keep it\n`,
      );
      // Guests may start meanwhile: vif-script must not wait for the lock all that time.
      release();
      const confirmed = await waitForConfirm(ctx.env, want.bridge.name, options.confirm);
      release = await acquireLock(lockPath(ctx.env), LOCK_WAIT_MS);
      if (!confirmed) {
        const why = `no confirmation within ${options.confirm} s`;
        const newcomers = portsOf(await observe(), want.bridge.name)
          .map((p) => p.name)
          .filter((n) => portsOf(after, want.bridge.name).every((p) => p.name !== n));
        if (newcomers.length > 0)
          throw new XenplanError(
            'verify',
            `${why}; not rolled back: ${newcomers.join(', ')} joined ${want.bridge.name} meanwhile and would be cut off; network-script stop bridge=${want.bridge.name} undoes start once they are gone`,
          );
        await rollBack(why);
      }
    }
    const gw =
      now === undefined
        ? ''
        : answered
          ? `; gateway ${now} answers`
          : before === undefined
            ? `; gateway ${now} (dom0 had no default gateway before start)`
            : `; gateway ${now} (dom0's gateway ${before} did not answer before start either)`;
    // Loops seen while the bond picked its active slave are start's own (doctor's BR002 leaves
    // them out): the bring-up is over once the links had their settle budget, waited or not.
    const uptime = uptimeSeconds(ctx.files);
    if (uptime !== undefined && appliedAt !== undefined)
      writeRecord(path, { ...merged, settledAt: Math.max(uptime, appliedAt + budget.ms / 1000) });
    logNetwork(
      ctx,
      `start ${want.bridge.name}: ${plan.steps.length} step(s) applied in ${elapsed(began)}${gw}`,
    );
    if (options.json) printApplied(ctx, 'start', want.bridge.name, plan, findings);
    else
      ctx.out(
        `${want.bridge.name}: ${plan.steps.length} step(s) applied; dom0's addresses on ${holderOf(want)}${gw}\n`,
      );
    return 0;
  } finally {
    release();
  }
}

const PROBE_SECONDS = 3;

function sameWords(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((w, i) => w === b[i]);
}

function describeWant(want: NetworkDesired): string {
  const uplink = want.bond
    ? `${want.bond.name} (${want.bond.mode}: ${want.bond.slaves.join(', ')})`
    : want.uplink;
  const holder =
    want.dom0.kind === 'netloop' ? `, dom0 on ${want.dom0.veth} (${want.dom0.vif} in the bridge)` : '';
  return `bridge ${want.bridge.name} with ${uplink}${holder}`;
}

/** Seconds since boot (/proc/uptime), the kernel log's clock; undefined when unreadable. */
function uptimeSeconds(files: Context['files']): number | undefined {
  const first = files.read('/proc/uptime')?.split(' ')[0];
  const value = first === undefined ? Number.NaN : Number(first);
  return Number.isFinite(value) ? value : undefined;
}
