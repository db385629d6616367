import { findingRecord, renderReport } from '../apply/report.ts';
import { readRecord, recordedBridges, statePath } from '../apply/state.ts';
import type { DeclaredFacts } from '../config/declared.ts';
import { renderFindings } from '../doctor/report.ts';
import { reviewNetwork } from '../doctor/review.ts';
import { RULES } from '../doctor/rules.ts';
import type { DoctorInput } from '../model/doctor.ts';
import { XenplanError } from '../model/error.ts';
import type { Finding } from '../model/finding.ts';
import type { HostState } from '../model/host.ts';
import type { NetworkDesired } from '../model/network.ts';
import { wrap } from '../model/text.ts';
import { observeDoctorFacts } from '../observe/doctor.ts';
import { observeHost } from '../observe/host.ts';
import type { Context } from './context.ts';
import { parseFlags } from './flags.ts';
import { hasConfigSettings, readSettings } from './settings.ts';

/** Rules listed for --help: id, name and severity on one line, the summary under it. */
function renderRuleList(): string {
  return RULES.map(
    (r) => `  ${r.id.padEnd(8)} ${r.name} (${r.severity})\n${wrap(r.summary, ' '.repeat(11))}`,
  ).join('\n');
}

export const DOCTOR_HELP = (): string => `Usage: xenplan doctor [key=value ...] [--config-only] [--json]

Reviews a bridged (and bonded) Xen network setup the way an expert would: the
bond mode against how the bond is used, link monitoring, bond options, bridge
STP and MAC, where dom0's addresses live, ARP, bridge netfilter against the
firewall, and MTUs. It changes nothing.

What is reviewed:
  settings   the same key=value words network-script takes, including
             config=FILE (a settings file; default /etc/xen/xenplan.conf when
             it exists) and ifcfg=DIR (every ifcfg-* file in DIR, Red Hat
             style). Without netdev= or bond=, the uplink is the live default
             route's device.
  live host  unless --config-only: links, bond modes and options,
             /proc/net/bonding/*, NOARP flags, bridge STP and timers, bridge-nf
             sysctls and whether br_netfilter exists, "iptables -S FORWARD",
             kernel log lines about frames that came back with the host's own
             MAC (dmesg), MTUs and addresses. A missing iptables or an
             unreadable kernel log leaves that part out.
  With no settings at all, only the live host is reviewed. Where both speak
  about the same object, the live host wins.

Options:
  --config-only  review the settings only; do not look at the host (needs
                 settings, and netdev= or bond= when no default route can be
                 observed)
  --json         print one JSON object (schema xenplan/1) whose findings are
                 records: id, severity, message, fix, source, objects
  -h, --help     this help

Reading a report:
  Findings are grouped as Errors, Warnings and Info. Each names the rule id,
  then what is wrong and which devices are involved; "fix:" is what to change
  (a network-script key or a command), "source:" is where the rule comes from
  (kernel documentation and source, Xen's scripts). Errors break guest traffic
  or failover; warnings are risky or surprising; info is advice. The last line
  counts them. Declare facts doctor cannot see with topology keys
  (switches=separate, lacp=mlag) to sharpen the review.

Rules:
${renderRuleList()}

Exit codes:
  0   no errors (warnings and info may have been printed)
  1   at least one finding is an error
  2   usage: unknown option, or --config-only without settings
  4   configuration: a setting or value is invalid, or config= or ifcfg=
      cannot be read
  5   environment: the host could not be observed (ip failed)
  70  internal error (a bug: please report it)
`;

export async function runDoctor(ctx: Context, args: readonly string[]): Promise<number> {
  const flags = parseFlags(args, { boolean: ['json', 'config-only', 'help'] }, 'xenplan doctor');
  if (flags.help) {
    ctx.out(DOCTOR_HELP());
    return 0;
  }
  const words = flags._.filter((w) => w !== '');
  const stray = words.find((w) => !w.includes('='));
  if (stray !== undefined)
    throw new XenplanError(
      'usage',
      `doctor: ${JSON.stringify(stray)} is not a key=value setting; see xenplan doctor --help`,
    );
  const configOnly = flags['config-only'] === true;
  if (configOnly && words.length === 0 && !hasConfigSettings(ctx))
    throw new XenplanError(
      'usage',
      'doctor --config-only needs settings to review (key=value words, config=FILE or ifcfg=DIR)',
    );

  const findings = await reviewFromCli(ctx, words, configOnly);
  const clean = !findings.some((f) => f.severity === 'error');
  ctx.out(
    flags.json
      ? renderReport(
          { command: 'doctor', ok: clean, changed: false, dryRun: false },
          { findings: findings.map(findingRecord) },
        )
      : renderFindings(findings),
  );
  return clean ? 0 : 1;
}

/** Reads the settings (if any), observes the host (unless configOnly) and runs every rule. */
export async function reviewFromCli(
  ctx: Context,
  words: readonly string[],
  configOnly: boolean,
): Promise<Finding[]> {
  const host = configOnly ? undefined : await observeHost(ctx.runner, ctx.files);
  // The config file counts as settings: a host configured there is reviewed against it.
  const hasSettings = words.length > 0 || hasConfigSettings(ctx);
  const settings = hasSettings ? readSettings(ctx, words, host) : undefined;
  return reviewNetwork(await gatherDoctorInput(ctx, { ...settings, host }));
}

/**
 * DoctorInput from what a command already has: the parsed settings (desired and declared
 * facts) and the observed host; with a host, the other live facts are gathered too
 * (/proc/net/bonding, iptables, br_netfilter, kernel log). network-script start can call this
 * with its own desired and host, then reviewNetwork and renderFindings.
 */
export async function gatherDoctorInput(
  ctx: Pick<Context, 'runner' | 'files' | 'env'>,
  parts: { desired?: NetworkDesired; declared?: DeclaredFacts; host?: HostState | undefined },
): Promise<DoctorInput> {
  const { desired, declared, host } = parts;
  return {
    ...(desired === undefined ? {} : { desired }),
    ...(declared?.noarp === undefined ? {} : { noarp: declared.noarp }),
    ...(declared?.sysctls === undefined ? {} : { sysctlsDeclared: declared.sysctls }),
    ...(declared?.ignored === undefined ? {} : { ignored: declared.ignored }),
    ...(host === undefined
      ? {}
      : { observed: host, ...(await observeDoctorFacts(ctx.runner, ctx.files, host, bringUpEnd(ctx.env))) }),
  };
}

/** When the last network-script start's bring-up had settled (seconds since boot), if recorded. */
function bringUpEnd(env: Context['env']): number | undefined {
  const ends = recordedBridges(env)
    .map((bridge) => readRecord(statePath(env, bridge))?.settledAt)
    .filter((t): t is number => t !== undefined);
  return ends.length === 0 ? undefined : Math.max(...ends);
}
