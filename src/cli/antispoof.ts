import { applySteps } from '../apply/apply.ts';
import { markDir, writeMark } from '../apply/mark.ts';
import { renderScript } from '../apply/render.ts';
import { planPayload, renderReport } from '../apply/report.ts';
import { XenplanError } from '../model/error.ts';
import { makePlan } from '../model/plan.ts';
import { type GuestChainState, observeAntispoof } from '../observe/antispoof.ts';
import { planAntispoofGc, planAntispoofRestore } from '../plan/antispoof.ts';
import type { Context } from './context.ts';
import { EXIT_HELP } from './exit.ts';
import { parseFlags } from './flags.ts';

export const ANTISPOOF_HELP = `Usage: xenplan antispoof status [--json]
       xenplan antispoof gc [--dry-run] [--json]

Guests' antispoofing rules (nftables tables bridge xenplan, for guests in a
Linux bridge, and netdev xenplan, for Open vSwitch, routed and NAT guests;
written by vif-script online, removed by offline; see vif-antispoof in
xenplan vif --help).

  status  every guest's rules and what they dropped, by reason (mac, vlan,
          arp-mac, arp-ip, dhcp-server, ra, ipv4, ipv6); exit 3 when a vif that
          vif-script filtered has no rules (a firewall reload flushed them) or
          rules belong to a vif that no longer exists
  gc      remove the rules of vifs that no longer exist, and put back the rules
          of filtered vifs that lost them (as vif-script applied them)

Options:
  --json      JSON output (status), or the plan as JSON (gc --dry-run)
  --dry-run   gc: print the nft transaction and change nothing
  -h, --help  this help

${EXIT_HELP}
`;

export async function runAntispoof(ctx: Context, args: readonly string[]): Promise<number> {
  const flags = parseFlags(args, { boolean: ['json', 'dry-run'] }, 'xenplan antispoof');
  const [command, ...rest] = flags._;
  if (flags.help) {
    ctx.out(ANTISPOOF_HELP);
    return 0;
  }
  if ((command !== 'status' && command !== 'gc') || rest.length > 0)
    throw new XenplanError(
      'usage',
      `xenplan antispoof takes status or gc, got ${JSON.stringify(flags._)}; see xenplan antispoof --help`,
    );
  const guests = await observeAntispoof(ctx.runner);
  const exists = (vif: string) => ctx.files.exists(`/sys/class/net/${vif}`);
  const marked = (ctx.files.list(markDir(ctx.env)) ?? []).filter((name) => !name.endsWith('.tmp'));
  if (command === 'status') return status(ctx, guests, marked, exists, flags.json === true);
  const steps = [
    ...planAntispoofGc(guests, guests.map((g) => g.vif).filter(exists)),
    ...missingRules(guests, marked, exists).flatMap((name) =>
      planAntispoofRestore(name, ctx.files.read(`${markDir(ctx.env)}/${name}`) ?? ''),
    ),
  ];
  const plan = makePlan(steps);
  if (flags['dry-run']) {
    ctx.out(
      flags.json
        ? renderReport({ command: 'antispoof gc', ok: true, changed: false, dryRun: true }, planPayload(plan))
        : renderScript(plan, { title: 'xenplan antispoof gc' }),
    );
    return 0;
  }
  await applySteps(ctx.runner, steps);
  if (flags.json)
    ctx.out(
      renderReport(
        { command: 'antispoof gc', ok: true, changed: steps.length > 0, dryRun: false },
        planPayload(plan),
      ),
    );
  // Marks of vifs that are gone: their offline never ran (or died before it finished).
  for (const name of marked)
    if (!exists(name)) writeMark(`${markDir(ctx.env)}/${name}`, null);
    else ctx.out(steps.length === 0 ? 'nothing to do\n' : `${steps.map((s) => s.reason).join('\n')}: done\n`);
  return 0;
}

/** Filtered vifs (marked) that exist but whose rules are not in the table. */
function missingRules(
  guests: readonly GuestChainState[],
  marked: readonly string[],
  exists: (vif: string) => boolean,
): string[] {
  return marked.filter((name) => exists(name) && !guests.some((g) => g.vif === name && g.mapped));
}

function status(
  ctx: Context,
  guests: readonly GuestChainState[],
  marked: readonly string[],
  exists: (vif: string) => boolean,
  json: boolean,
): number {
  const rows = guests.map((g) => ({ ...g, exists: exists(g.vif) }));
  const missing = missingRules(guests, marked, exists);
  const stale = rows.filter((g) => !g.exists).map((g) => g.vif);
  const code = missing.length > 0 || stale.length > 0 ? 3 : 0;
  if (json)
    ctx.out(
      renderReport(
        { command: 'antispoof status', ok: code === 0, changed: false, dryRun: false },
        { guests: rows, missing, stale },
      ),
    );
  else {
    if (rows.length === 0) ctx.out('no guest is filtered (no guest chain in the xenplan tables)\n');
    for (const g of rows) {
      const drops = Object.entries(g.dropped)
        .map(([why, n]) => `${why} ${n}`)
        .join(', ');
      const state = g.exists
        ? g.mapped
          ? 'filtered'
          : 'chain not mapped'
        : 'vif gone (xenplan antispoof gc)';
      ctx.out(`${g.vif} (${g.family}): ${state}; dropped: ${drops || 'nothing'}\n`);
      for (const rule of g.rules) ctx.out(`    ${rule}\n`);
    }
    for (const name of missing)
      ctx.out(
        `${name}: vif-script filtered it but its rules are gone; xenplan antispoof gc puts them back\n`,
      );
  }
  return code;
}
