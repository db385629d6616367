import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { applyAndVerify } from '../apply/converge.ts';
import { renderScript } from '../apply/render.ts';
import { planPayload, renderReport } from '../apply/report.ts';
import { XenplanError } from '../model/error.ts';
import type { InstalledState } from '../model/install.ts';
import { MANIFEST_PATH, SAVED_SUFFIX } from '../model/install.ts';
import type { Plan } from '../model/plan.ts';
import { observeAgentService, observeInstalled, sha256Of } from '../observe/install.ts';
import { AGENT_BUNDLE_NAME, AGENT_UNIT_NAME, AGENT_UNIT_PATH, renderAgentUnit } from '../plan/agent-unit.ts';
import { BOOT_UNIT_PATH, renderBootUnit } from '../plan/boot-unit.ts';
import { type InstallRequest, installPaths, planInstall } from '../plan/install.ts';
import { renderInstallNotes } from '../plan/install-notes.ts';
import { checkNodePath, renderInstalledScript } from '../plan/install-script.ts';
import {
  checkScriptsDir,
  DEFAULT_SCRIPTS_DIR,
  NETWORK_SCRIPT_NAME,
  renderUdevRules,
  UDEV_RULES_PATH,
  VIF_SCRIPT_NAME,
} from '../plan/udev-rules.ts';
import { planUninstall, type UninstallRequest } from '../plan/uninstall.ts';
import type { Context } from './context.ts';
import { EXIT_HELP } from './exit.ts';
import { parseFlags } from './flags.ts';
import { checkNodeVersion } from './node-version.ts';

const col = (path: string): string => path.padEnd(38);

/** bin/vif-xenplan, embedded by the build (scripts/build.mjs): what install --agent puts in place. */
declare const XENPLAN_LAUNCHER: string | undefined;

export const INSTALL_HELP = `Usage: xenplan install [--prefix DIR] [--scripts-dir DIR] [--node PATH] [--udev]
                       [--boot] [--agent] [--force] [--dry-run] [--json]

Put this xenplan (the single bundled file now running) where Xen calls its
scripts:
  ${col(`${DEFAULT_SCRIPTS_DIR}/${VIF_SCRIPT_NAME}`)}a copy of the bundle, mode 0755;
  ${col('')}runs as vif-script; its first line
  ${col('')}becomes #!NODE (see --node)
  ${col(`${DEFAULT_SCRIPTS_DIR}/${NETWORK_SCRIPT_NAME}`)}a symlink to ${VIF_SCRIPT_NAME};
  ${col('')}runs as network-script
The bundle picks its role from the name it runs by: names starting with "vif"
act as vif-script, names starting with "network" as network-script. With
--udev, also
  ${col(UDEV_RULES_PATH)}udev rules for xend-era hosts
with --boot, also (xl hosts: nothing in Xen 4.5+ builds the bridge)
  ${BOOT_UNIT_PATH}
  ${col('')}runs network-xenplan start from
  ${col('')}/etc/xen/xenplan.conf before xendomains,
  ${col('')}stop at shutdown; enabled by a link in
  ${col('')}multi-user.target.wants
with --agent, the resident fast path: ${VIF_SCRIPT_NAME} becomes the bash
launcher (it hands each vif event to the agent, and runs the bundle itself when
the agent is not there, waiting for one of a few slots first), the bundle goes
beside it, and the agent runs as a systemd service:
  ${col(`${DEFAULT_SCRIPTS_DIR}/${AGENT_BUNDLE_NAME}`)}the copy of the bundle (#!NODE)
  ${col(`${DEFAULT_SCRIPTS_DIR}/${NETWORK_SCRIPT_NAME}`)}then a symlink to ${AGENT_BUNDLE_NAME}
  ${AGENT_UNIT_PATH}
  ${col('')}runs ${AGENT_BUNDLE_NAME} agent, restarted when
  ${col('')}it ends; enabled by a link in
  ${col('')}multi-user.target.wants; where systemd
  ${col('')}runs (no --prefix), (re)started now
and in every case
  ${col(MANIFEST_PATH)}the record of what was installed
Then it prints the lines to add to /etc/xen/xend-config.sxp (xend) or
/etc/xen/xl.conf (xl), and a per-guest vif example, naming the installed files.

The copy names its node by absolute path: Xen and udev run scripts with a short
PATH (/usr/sbin:/usr/bin:/sbin:/bin) where #!/usr/bin/env node may find no
node. The copy is made with install, then its first line rewritten with sed -i;
the rest is byte-identical. The node given must be one xenplan supports
(Node 18.19 or later): install asks it its version first.

Install is idempotent: a second run with the same bundle and node plans
nothing; a run with a newer bundle or another --node replaces the copy. It
never overwrites a file it did not install (it stops and names it) unless
--force, which moves that file to NAME${SAVED_SUFFIX}; uninstall puts it back.

The udev rules are needed only with xend (Xen 3.x-4.4), when Xen's own
xen-backend.rules does not already run the vif script xend names; never with xl
on Xen 4.6 or later; harmless with xl on 4.2-4.5 (vif-xenplan ignores udev
events when libxl/disable_udev is set). Xen's own cleanup rule
(xen-hotplug-cleanup on "remove") must stay. The rules file's header says more.

Options:
  --prefix DIR       install under DIR (like DESTDIR): DIR${DEFAULT_SCRIPTS_DIR},
                     DIR/etc/udev/rules.d, DIR/var/lib/xenplan. DIR must exist.
                     Paths written into the udev rules and the printed lines
                     stay the running host's paths (without DIR).
  --scripts-dir DIR  the Xen scripts directory on the running host (default
                     ${DEFAULT_SCRIPTS_DIR}); the files go to PREFIX/DIR and the
                     udev rules run DIR/${VIF_SCRIPT_NAME}. Outside the default,
                     the printed lines use absolute paths.
  --node PATH        the node the scripts run with, named in their #! line: an
                     absolute path to an executable file on this host (default:
                     the node running this command); letters, digits and
                     . _ + @ / - only
  --udev             also install the udev rules (xend-era hosts only)
  --boot             also install and enable the boot unit (systemd)
  --agent            also the launcher and the agent's unit (see above)
  --force            replace files that are not xenplan's (moved aside,
                     restored by uninstall) or that changed since install
  --dry-run          print the plan as a shell script and change nothing
  --json             print one JSON object (schema xenplan/1)
  -h, --help         this help

Environment:
  XENPLAN_BUNDLE     the file to install instead of the running bundle (tests,
                     packaging)

${EXIT_HELP}
`;

export const UNINSTALL_HELP = `Usage: xenplan uninstall [--prefix DIR] [--force] [--dry-run] [--json]

Remove exactly what xenplan install put on this host, as recorded in
${MANIFEST_PATH} (under --prefix DIR when given): the ${VIF_SCRIPT_NAME}
copy, the ${NETWORK_SCRIPT_NAME} link, the udev rules and units if
installed (the agent is stopped first where systemd runs), the manifest
itself, and the directories install made if they are now empty. A file
install moved aside with --force (NAME${SAVED_SUFFIX}) is moved back. A file
that changed since install is kept, with a warning, unless --force. Nothing
that is not in the manifest is touched; without a manifest there is nothing to
do.

Remove the xend-config.sxp / xl.conf lines that name ${VIF_SCRIPT_NAME} and
${NETWORK_SCRIPT_NAME} first, or Xen will fail to run them.

Options:
  --prefix DIR  the DIR given to xenplan install --prefix
  --force       also remove files that changed since install
  --dry-run     print the plan as a shell script and change nothing
  --json        print one JSON object (schema xenplan/1)
  -h, --help    this help

${EXIT_HELP}
`;

function prefixOf(ctx: Context, value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value === '')
    throw new XenplanError('usage', `--prefix needs a directory, got ${JSON.stringify(value)}`);
  const dir = resolve(value);
  if (ctx.files.list(dir) === undefined)
    throw new XenplanError('usage', `--prefix ${JSON.stringify(value)}: ${dir} is not an existing directory`);
  return dir === '/' ? '' : dir.replace(/\/+$/, '');
}

function scriptsDirOf(value: unknown): string {
  if (value === undefined) return DEFAULT_SCRIPTS_DIR;
  if (typeof value !== 'string') throw new XenplanError('usage', '--scripts-dir needs a directory');
  const dir = value.length > 1 ? value.replace(/\/+$/, '') : value;
  const problem = checkScriptsDir(dir);
  if (problem) throw new XenplanError('usage', `--scripts-dir: ${problem}`);
  return dir;
}

/** The running bundle's real path: XENPLAN_BUNDLE, else the script node runs, through symlinks. */
function bundlePathOf(ctx: Context): string {
  const given = ctx.env.XENPLAN_BUNDLE ?? process.argv[1];
  if (given === undefined || given === '')
    throw new XenplanError(
      'environment',
      'cannot tell which file is running; set XENPLAN_BUNDLE to the bundle',
    );
  let path: string;
  try {
    path = realpathSync(given);
  } catch (error) {
    throw new XenplanError('environment', `bundle ${given}: ${(error as Error).message}`);
  }
  return path;
}

/**
 * The node the installed scripts name in their #! line: --node, else the node running this
 * command. Checked on the running host (not under --prefix): absolute, plain, an executable file.
 */
function nodeOf(value: unknown): string {
  const given = value !== undefined;
  if (given && (typeof value !== 'string' || value === ''))
    throw new XenplanError('config', `--node needs the absolute path of node, got ${JSON.stringify(value)}`);
  const node = given ? (value as string) : process.execPath;
  const what = given ? `--node ${JSON.stringify(node)}` : `the running node ${JSON.stringify(node)}`;
  const hint = given ? '' : '; name another with --node PATH';
  const problem = checkNodePath(node);
  if (problem !== undefined)
    throw new XenplanError('config', `${what} cannot go in the scripts' #! line: ${problem}${hint}`);
  try {
    if (!statSync(node).isFile()) throw new Error('not a regular file');
    accessSync(node, constants.X_OK);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new XenplanError('config', `${what}: expected an executable file (${why})${hint}`);
  }
  return node;
}

function installRequest(ctx: Context, flags: Record<string, unknown>): InstallRequest {
  const prefix = prefixOf(ctx, flags.prefix);
  const scriptsDir = scriptsDirOf(flags['scripts-dir']);
  const node = nodeOf(flags.node);
  const bundlePath = bundlePathOf(ctx);
  const bundle = ctx.files.read(bundlePath);
  if (bundle === undefined || !bundle.startsWith('#!/usr/bin/env node'))
    throw new XenplanError(
      'environment',
      `${bundlePath} is not the built xenplan bundle (expected a file starting with #!/usr/bin/env node); build it with npm run build, or set XENPLAN_BUNDLE`,
    );
  const udevRules = renderUdevRules(scriptsDir);
  const unit = renderBootUnit(scriptsDir);
  return {
    ...(flags.boot === true ? { boot: { unit, sha256: sha256Of(unit) } } : {}),
    ...(flags.agent === true ? { agent: agentOf(scriptsDir) } : {}),
    prefix,
    scriptsDir,
    udev: flags.udev === true,
    force: flags.force === true,
    bundlePath,
    bundleSha256: sha256Of(bundle),
    node,
    scriptSha256: sha256Of(renderInstalledScript(bundle, node)),
    udevRules,
    udevRulesSha256: sha256Of(udevRules),
  };
}

function agentOf(scriptsDir: string): NonNullable<InstallRequest['agent']> {
  if (typeof XENPLAN_LAUNCHER !== 'string')
    throw new XenplanError('bug', 'install --agent: this build has no launcher (build with npm run build)');
  const unit = renderAgentUnit(scriptsDir);
  return {
    launcher: XENPLAN_LAUNCHER,
    launcherSha256: sha256Of(XENPLAN_LAUNCHER),
    unit,
    unitSha256: sha256Of(unit),
  };
}

/** What is installed under the prefix, and where systemd runs, whether the agent is running. */
async function observe(ctx: Context, prefix: string, paths: readonly string[]): Promise<InstalledState> {
  const state = observeInstalled(ctx.files, prefix, paths);
  const systemd = await observeAgentService(ctx.runner, ctx.files, prefix);
  return systemd === undefined ? state : { ...state, systemd };
}

/** An apply's report for --json: the steps it ran. */
function printApplied(ctx: Context, command: string, plan: Plan, done: readonly string[]): number {
  const steps = plan.steps.filter((s) => done.includes(s.id));
  ctx.out(
    renderReport(
      { command, ok: true, changed: steps.length > 0, dryRun: false },
      planPayload({ ...plan, steps }),
    ),
  );
  return 0;
}

function printPlan(ctx: Context, plan: Plan, json: boolean, title: string): void {
  const command = title.startsWith('xenplan install') ? 'install' : 'uninstall';
  ctx.out(
    json
      ? renderReport({ command, ok: true, changed: false, dryRun: true }, planPayload(plan))
      : renderScript(plan, { title }),
  );
}

function printWarnings(ctx: Context, plan: Plan): void {
  for (const warning of plan.warnings) ctx.out(`warning: ${warning}\n`);
}

export async function runInstall(ctx: Context, args: readonly string[]): Promise<number> {
  const flags = parseFlags(
    args,
    {
      string: ['prefix', 'scripts-dir', 'node'],
      boolean: ['udev', 'boot', 'agent', 'force', 'dry-run', 'json', 'help'],
    },
    'xenplan install',
  );
  if (flags.help) {
    ctx.out(INSTALL_HELP);
    return 0;
  }
  if (flags._.length > 0)
    throw new XenplanError(
      'usage',
      `install takes no arguments, got ${JSON.stringify(flags._)}; see xenplan install --help`,
    );
  const req = installRequest(ctx, flags);
  await checkNodeVersion(ctx.runner, req.node);
  const replan = async () => planInstall(req, await observe(ctx, req.prefix, installPaths(req))).plan;
  const plan = await replan();
  const where = req.prefix === '' ? '' : ` under ${req.prefix}`;
  if (flags['dry-run']) {
    printPlan(ctx, plan, flags.json === true, `xenplan install${where}: ${req.bundlePath}`);
    return 0;
  }
  const result = await applyAndVerify(ctx.runner, plan, replan);
  if (flags.json) return printApplied(ctx, 'install', plan, result.done);
  printWarnings(ctx, plan);
  ctx.out(
    result.done.length === 0
      ? `xenplan is already installed${where}: nothing to do (0 steps)\n\n`
      : `installed${where}: ${result.done.length} step(s) applied\n\n`,
  );
  ctx.out(renderInstallNotes(req.scriptsDir, req.node, req.agent !== undefined));
  if (req.udev) ctx.out(`\nudev rules: ${UDEV_RULES_PATH} (read its header: xend-era hosts only)\n`);
  if (req.boot !== undefined)
    ctx.out(
      `\nboot unit: ${BOOT_UNIT_PATH}, enabled; run "systemctl daemon-reload" and put the bridge's settings in /etc/xen/xenplan.conf\n`,
    );
  if (req.agent !== undefined)
    ctx.out(
      plan.steps.some((s) => s.id.startsWith('install:systemd:restart'))
        ? `\nagent: ${AGENT_UNIT_NAME} enabled and (re)started\n`
        : req.prefix === '' && (await observe(ctx, '', [])).systemd !== undefined
          ? `\nagent: ${AGENT_UNIT_NAME} enabled and running\n`
          : `\nagent: ${AGENT_UNIT_PATH} installed and enabled.\nsystemd does not run here: start the agent as the unit does,\n  ${req.scriptsDir}/${AGENT_BUNDLE_NAME} agent\n`,
    );
  return 0;
}

export async function runUninstall(ctx: Context, args: readonly string[]): Promise<number> {
  const flags = parseFlags(
    args,
    { string: ['prefix'], boolean: ['force', 'dry-run', 'json', 'help'] },
    'xenplan uninstall',
  );
  if (flags.help) {
    ctx.out(UNINSTALL_HELP);
    return 0;
  }
  if (flags._.length > 0)
    throw new XenplanError(
      'usage',
      `uninstall takes no arguments, got ${JSON.stringify(flags._)}; see xenplan uninstall --help`,
    );
  const req: UninstallRequest = { prefix: prefixOf(ctx, flags.prefix), force: flags.force === true };
  const replan = async () => planUninstall(req, await observe(ctx, req.prefix, []));
  const plan = await replan();
  const where = req.prefix === '' ? '' : ` under ${req.prefix}`;
  if (flags['dry-run']) {
    printPlan(ctx, plan, flags.json === true, `xenplan uninstall${where}`);
    return 0;
  }
  const result = await applyAndVerify(ctx.runner, plan, replan);
  if (flags.json) return printApplied(ctx, 'uninstall', plan, result.done);
  printWarnings(ctx, plan);
  ctx.out(
    result.done.length === 0
      ? `nothing to uninstall${where} (0 steps)\n`
      : `uninstalled${where}: ${result.done.length} step(s) applied\n`,
  );
  return 0;
}
