import { applySteps } from '../apply/apply.ts';
import { applyAndVerify, checkConverged } from '../apply/converge.ts';
import { acquireLock, lockPath } from '../apply/lock.ts';
import { defaultGateway, probeGateway } from '../apply/probe.ts';
import { renderScript } from '../apply/render.ts';
import { driftPayload, planPayload, renderReport } from '../apply/report.ts';
import { readRecord, removeRecord, statePath, writeRecord } from '../apply/state.ts';
import { renderSettingsHelp } from '../config/keys.ts';
import { renderFindings } from '../doctor/report.ts';
import { toXenplanError, XenplanError } from '../model/error.ts';
import type { Finding } from '../model/finding.ts';
import type { NetworkDesired } from '../model/network.ts';
import { emptyPlan, type Plan } from '../model/plan.ts';
import { observeHost } from '../observe/host.ts';
import { holderOf, mergeRecords, planNetwork, planNetworkStart } from '../plan/network.ts';
import { planNetworkStop } from '../plan/network-stop.ts';
import { describeStatus, renderStatus } from '../plan/status.ts';
import { parseConfirmSeconds, runConfirm, waitForConfirm } from './confirm.ts';
import type { Context } from './context.ts';
import { exitHelp, type Role } from './exit.ts';
import { parseFlags } from './flags.ts';
import { renderFindingComments, reviewStart, strictStop } from './review.ts';
import { rollBackStart } from './rollback.ts';
import { readSettings, settingsBridge } from './settings.ts';

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
           apply, verify (the plan must then be empty); if the default gateway
           answered before and does not after, roll back. What start created
           is recorded in /run/xenplan/network-BRIDGE.json.
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
  config=FILE names another file. Words override the file, so start, stop and
  status with no words all act on the bridge the file describes.

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
  XENPLAN_CONFIG     the configuration file (default /etc/xen/xenplan.conf)

${exitHelp(role)}
`;
}

const LOCK_WAIT_MS = 60_000;
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
    case 'stop':
      return stop(ctx, words, options);
    default:
      return start(ctx, words, options);
  }
}

interface Options {
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly confirm: number | undefined;
}

function printPlan(
  ctx: Context,
  plan: Plan,
  json: boolean,
  title: string,
  extra: { command: string; bridge: string; findings?: readonly Finding[] },
  comments: readonly string[] = [],
): void {
  if (json)
    ctx.out(
      renderReport(
        { command: `network ${extra.command}`, ok: true, changed: false, dryRun: true },
        { bridge: extra.bridge, ...planPayload(plan, extra.findings) },
      ),
    );
  else {
    const disruptive = plan.steps.filter((s) => s.disruptive).length;
    const preamble = [
      ...comments,
      ...(disruptive === 0
        ? []
        : [`${disruptive} step(s) interrupt traffic; they are marked (interrupts traffic)`]),
    ];
    ctx.out(renderScript(plan, { title, preamble }));
  }
}

/** What an apply did, for --json: the steps it ran (none when the host already matched). */
function printApplied(
  ctx: Context,
  command: string,
  bridge: string,
  plan: Plan,
  findings?: readonly Finding[],
): void {
  ctx.out(
    renderReport(
      { command: `network ${command}`, ok: true, changed: plan.steps.length > 0, dryRun: false },
      { bridge, ...planPayload(plan, findings) },
    ),
  );
}

async function start(ctx: Context, words: readonly string[], options: Options): Promise<number> {
  const observe = () => observeHost(ctx.runner, ctx.files);
  if (options.dryRun) {
    const host = await observe();
    const settings = readSettings(ctx, words, host);
    const want = settings.desired;
    const findings = await reviewStart(ctx, settings, host);
    printPlan(
      ctx,
      planNetwork(want, host),
      options.json,
      `network-script start: ${describeWant(want)}`,
      { command: 'start', bridge: want.bridge.name, findings },
      renderFindingComments(findings, want.strict),
    );
    return 0;
  }
  const release = await acquireLock(lockPath(ctx.env), LOCK_WAIT_MS);
  try {
    // Observed under the lock: nobody else changes the host between this and applying.
    const host = await observe();
    const settings = readSettings(ctx, words, host);
    const want = settings.desired;
    const findings = await reviewStart(ctx, settings, host);
    if (findings.length > 0) ctx.err(`network-script: doctor review:\n${renderFindings(findings)}`);
    const stop = strictStop(findings, want.strict);
    if (stop !== undefined) throw new XenplanError('config', `${stop}; nothing was changed`);
    const { plan, record } = planNetworkStart(want, host);
    for (const warning of plan.warnings) ctx.err(`network-script: warning: ${warning}\n`);
    if (plan.steps.length === 0) {
      if (options.json) printApplied(ctx, 'start', want.bridge.name, plan, findings);
      else
        ctx.out(`${want.bridge.name}: already as wanted (0 steps); dom0's addresses on ${holderOf(want)}\n`);
      return 0;
    }
    const path = statePath(ctx.env, want.bridge.name);
    const previous = readRecord(path);
    const gateway = defaultGateway(host, want.gateway);
    const answered = gateway !== undefined && (await probeGateway(ctx.runner, gateway, 2));
    writeRecord(path, mergeRecords(previous, record));
    const rollBack = (why: string): Promise<never> => rollBackStart(ctx, { record, previous, path }, why);
    try {
      await applySteps(ctx.runner, plan.steps);
    } catch (thrown) {
      const error = toXenplanError(thrown);
      return await rollBack(error.message);
    }
    checkConverged(
      plan.steps.length,
      planNetwork(want, await observe()),
      `state kept in ${path}; network-script stop undoes what start did`,
    );
    if (answered && gateway !== undefined) {
      const deadline = 3 + (want.bridge.stp ? Math.ceil((2 * want.bridge.forwardDelay) / 100) : 0);
      if (!(await probeGateway(ctx.runner, gateway, deadline)))
        await rollBack(
          `the default gateway ${gateway} answered before start and not after it (${deadline} s)`,
        );
    }
    if (options.confirm !== undefined) {
      ctx.err(
        `network-script: applied; run "xenplan confirm bridge=${want.bridge.name}" within ${options.confirm} s to keep it\n`,
      );
      if (!(await waitForConfirm(ctx.env, want.bridge.name, options.confirm)))
        await rollBack(`no confirmation within ${options.confirm} s`);
    }
    const gw =
      gateway === undefined
        ? ''
        : answered
          ? `; gateway ${gateway} answers`
          : `; gateway ${gateway} did not answer before start either`;
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

async function stop(ctx: Context, words: readonly string[], options: Options): Promise<number> {
  const observe = () => observeHost(ctx.runner, ctx.files);
  const bridge = settingsBridge(ctx, words);
  const path = statePath(ctx.env, bridge);
  const record = readRecord(path);
  const title = `network-script stop: ${bridge}`;
  if (record === undefined) {
    if (options.dryRun) printPlan(ctx, emptyPlan(), options.json, title, { command: 'stop', bridge });
    else if (options.json) printApplied(ctx, 'stop', bridge, emptyPlan());
    else ctx.out(`${bridge}: start recorded nothing (no ${path}); nothing to undo\n`);
    return 0;
  }
  if (options.dryRun) {
    printPlan(ctx, planNetworkStop(record, await observe()), options.json, title, {
      command: 'stop',
      bridge,
    });
    return 0;
  }
  const release = await acquireLock(lockPath(ctx.env), LOCK_WAIT_MS);
  try {
    const current = readRecord(path) ?? record;
    const plan = planNetworkStop(current, await observe());
    const result = await applyAndVerify(ctx.runner, plan, async () =>
      planNetworkStop(current, await observe()),
    );
    removeRecord(path);
    if (options.json)
      printApplied(ctx, 'stop', bridge, {
        ...plan,
        steps: plan.steps.filter((step) => result.done.includes(step.id)),
      });
    else ctx.out(`${bridge}: ${result.done.length} step(s) undone; what start created is gone\n`);
    return 0;
  } finally {
    release();
  }
}

async function status(ctx: Context, words: readonly string[], json: boolean): Promise<number> {
  const host = await observeHost(ctx.runner, ctx.files);
  const want = readSettings(ctx, words, host).desired;
  const plan = planNetwork(want, host);
  const recorded = readRecord(statePath(ctx.env, want.bridge.name)) !== undefined;
  const s = describeStatus(want, host, plan, recorded);
  ctx.out(
    json
      ? renderReport(
          { command: 'network status', ok: s.converged, changed: false, dryRun: false },
          { ...s, drift: driftPayload(plan) },
        )
      : renderStatus(s),
  );
  return s.converged ? 0 : 3;
}

function describeWant(want: NetworkDesired): string {
  const uplink = want.bond
    ? `${want.bond.name} (${want.bond.mode}: ${want.bond.slaves.join(', ')})`
    : want.uplink;
  const holder =
    want.dom0.kind === 'netloop' ? `, dom0 on ${want.dom0.veth} (${want.dom0.vif} in the bridge)` : '';
  return `bridge ${want.bridge.name} with ${uplink}${holder}`;
}
