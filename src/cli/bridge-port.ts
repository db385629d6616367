import { applyAndVerify } from '../apply/converge.ts';
import { renderScript } from '../apply/render.ts';
import { planPayload, renderReport } from '../apply/report.ts';
import { XenplanError } from '../model/error.ts';
import { checkInterfaceName } from '../model/names.ts';
import type { BridgeDesired } from '../model/network.ts';
import { observeHost } from '../observe/host.ts';
import { planBridgePort } from '../plan/bridge-port.ts';
import type { Context } from './context.ts';
import { EXIT_HELP } from './exit.ts';
import { parseFlags } from './flags.ts';

export const BRIDGE_PORT_HELP = `Usage: xenplan bridge-port BRIDGE PORT [--stp on|off] [--forward-delay SECONDS]
                           [--dry-run] [--json]

Make sure bridge BRIDGE exists (STP off and forward delay 0 unless told
otherwise) and is up, and that PORT is in it and up. Plans only what differs:
on a host that already matches, the plan is empty and nothing runs.

Options:
  --stp on|off             spanning tree (default off)
  --forward-delay SECONDS  bridge forward delay, 0-30 (default 0)
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
  const want = bridgeDesired(bridge, flags.stp, flags['forward-delay']);
  const plan = planBridgePort(want, port, await observeHost(ctx.runner, ctx.files));
  if (flags['dry-run']) {
    ctx.out(
      flags.json
        ? renderReport({ command: 'bridge-port', ok: true, changed: false, dryRun: true }, planPayload(plan))
        : renderScript(plan, { title: `xenplan bridge-port ${bridge} ${port}` }),
    );
    return 0;
  }
  const result = await applyAndVerify(ctx.runner, plan, async () =>
    planBridgePort(want, port, await observeHost(ctx.runner, ctx.files)),
  );
  if (flags.json)
    ctx.out(
      renderReport(
        { command: 'bridge-port', ok: true, changed: result.done.length > 0, dryRun: false },
        planPayload(plan),
      ),
    );
  else ctx.out(`${port} is in ${bridge}: ${result.done.length} step(s) applied\n`);
  return 0;
}

function bridgeDesired(name: string, stp: unknown, delay: unknown): BridgeDesired {
  const stpText = typeof stp === 'string' ? stp : 'off';
  if (stpText !== 'on' && stpText !== 'off')
    throw new XenplanError('config', `--stp ${JSON.stringify(stpText)}: expected on or off`);
  const delayText = typeof delay === 'string' ? delay : '0';
  if (!/^[0-9]{1,2}$/.test(delayText) || Number(delayText) > 30)
    throw new XenplanError(
      'config',
      `--forward-delay ${JSON.stringify(delayText)}: expected whole seconds from 0 to 30`,
    );
  return { name, stp: stpText === 'on', forwardDelay: Number(delayText) * 100 };
}
