import { applySteps } from '../apply/apply.ts';
import { applyAndVerify } from '../apply/converge.ts';
import { renderScript } from '../apply/render.ts';
import { planPayload, renderReport } from '../apply/report.ts';
import { toXenplanError, XenplanError } from '../model/error.ts';
import { checkInterfaceName } from '../model/names.ts';
import type { BridgeDesired } from '../model/network.ts';
import { observeHost } from '../observe/host.ts';
import { planBridgePort, planBridgePortUndo } from '../plan/bridge-port.ts';
import type { Context } from './context.ts';
import { EXIT_HELP } from './exit.ts';
import { parseFlags } from './flags.ts';

export const BRIDGE_PORT_HELP = `Usage: xenplan bridge-port BRIDGE PORT [--stp on|off] [--forward-delay SECONDS]
                           [--dry-run] [--json]

Make sure bridge BRIDGE exists (STP off and forward delay 0 unless told
otherwise) and is up, and that PORT is in it and up. Plans only what differs:
on a host that already matches, the plan is empty and nothing runs. If
applying fails, or the host still differs after it, what was changed is
rolled back.

Options:
  --stp on|off             spanning tree (default off)
  --forward-delay SECONDS  bridge forward delay, 0-30 (default 0); with STP on
                           the kernel takes 2-30 (default 2)
  --dry-run                print the plan as a shell script and change nothing
  --json                   print one JSON object (schema xenplan/1)
  -h, --help               this help

${EXIT_HELP}
`;

export async function runBridgePort(ctx: Context, args: readonly string[]): Promise<number> {
  const flags = parseFlags(
    args,
    { string: ['stp', 'forward-delay'], boolean: ['dry-run', 'json', 'help'] },
    'xenplan bridge-port',
  );
  if (flags.help) {
    ctx.out(BRIDGE_PORT_HELP);
    return 0;
  }
  const [bridge, port, ...rest] = flags._;
  if (bridge === undefined || port === undefined || rest.length > 0)
    throw new XenplanError(
      'usage',
      `bridge-port takes BRIDGE and PORT, got ${JSON.stringify(flags._)}; see xenplan bridge-port --help`,
    );
  for (const [value, what] of [
    [bridge, 'bridge name'],
    [port, 'port name'],
  ] as const) {
    const problem = checkInterfaceName(value, what);
    if (problem) throw new XenplanError('config', problem);
  }
  const { want, note } = bridgeDesired(bridge, flags.stp, flags['forward-delay']);
  if (note !== undefined) ctx.err(`xenplan bridge-port: ${note}\n`);
  const observe = () => observeHost(ctx.runner, ctx.files);
  const host = await observe();
  const plan = planBridgePort(want, port, host);
  if (flags['dry-run']) {
    ctx.out(
      flags.json
        ? renderReport({ command: 'bridge-port', ok: true, changed: false, dryRun: true }, planPayload(plan))
        : renderScript(plan, { title: `xenplan bridge-port ${bridge} ${port}` }),
    );
    return 0;
  }
  let done: number;
  try {
    done = (await applyAndVerify(ctx.runner, plan, async () => planBridgePort(want, port, await observe())))
      .done.length;
  } catch (thrown) {
    const error = toXenplanError(thrown);
    if (error.kind !== 'apply' && error.kind !== 'verify') throw error;
    const back = planBridgePortUndo(want, port, host, await observe());
    try {
      await applySteps(ctx.runner, back.steps);
    } catch (again) {
      throw new XenplanError(
        'apply',
        `${error.message}; rolling back failed too: ${toXenplanError(again).message}`,
      );
    }
    throw new XenplanError(
      error.kind,
      `${error.message}; rolled back (${back.steps.length} step(s)): ${bridge} and ${port} are as they were`,
    );
  }
  if (flags.json)
    ctx.out(
      renderReport({ command: 'bridge-port', ok: true, changed: done > 0, dryRun: false }, planPayload(plan)),
    );
  else ctx.out(`${port} is in ${bridge}: ${done} step(s) applied\n`);
  return 0;
}

/** The bridge wanted; `note` says when the forward delay is not the default of 0 (STP on). */
function bridgeDesired(name: string, stp: unknown, delay: unknown): { want: BridgeDesired; note?: string } {
  const stpText = typeof stp === 'string' ? stp : 'off';
  if (stpText !== 'on' && stpText !== 'off')
    throw new XenplanError('config', `--stp ${JSON.stringify(stpText)}: expected on or off`);
  const on = stpText === 'on';
  if (typeof delay !== 'string') {
    // With STP on the kernel refuses (or raises) a forward delay under 2 s (802.1D's minimum).
    const want = { name, stp: on, forwardDelay: on ? 200 : 0 };
    return on ? { want, note: 'STP on: forward delay 2 s, the least the kernel takes with STP' } : { want };
  }
  const low = on ? 2 : 0;
  if (!/^[0-9]{1,2}$/.test(delay) || Number(delay) < low || Number(delay) > 30)
    throw new XenplanError(
      'config',
      `--forward-delay ${JSON.stringify(delay)}: expected whole seconds from ${low} to 30${on ? ' (the kernel needs at least 2 with --stp on)' : ''}`,
    );
  return { want: { name, stp: on, forwardDelay: Number(delay) * 100 } };
}
