import { XenplanError } from '../model/error.ts';
import type { VifMode } from '../model/vif-mode.ts';
import { asksPerson } from '../xen/hotplug.ts';
import { type Context, version } from './context.ts';
import { EXIT_HELP, type Role } from './exit.ts';
import { runVif } from './vif.ts';

// Only vif-script, which runs on every guest start, is loaded up front; every other command
// is imported when asked for, so a hotplug event pays nothing for doctor, lab or install.
const runNetwork = async (ctx: Context, args: readonly string[]) =>
  (await import('./network.ts')).runNetwork(ctx, args);

/** The role from the name the bundle was invoked as: vif*, network*, anything else. */
export function roleOf(invokedAs: string): Role {
  const base = invokedAs.split('/').pop() ?? invokedAs;
  if (base.startsWith('vif')) return 'vif';
  if (base.startsWith('network')) return 'network';
  return 'xenplan';
}

/**
 * The vif mode from the invoked name, as Xen picks a script by name: `…-route` (Xen's
 * vif-route), `…-nat` (vif-nat), `…-ovs` or `…-openvswitch` (vif-openvswitch), else bridge.
 */
export function vifModeOf(invokedAs: string): VifMode {
  const base = invokedAs.split('/').pop() ?? invokedAs;
  if (base.endsWith('-route')) return 'route';
  if (base.endsWith('-nat')) return 'nat';
  if (base.endsWith('-ovs') || base.endsWith('-openvswitch')) return 'ovs';
  return 'bridge';
}

export const XENPLAN_HELP = `Usage: xenplan COMMAND [ARGS] [--dry-run] [--json]

xenplan replaces Xen's network hotplug scripts. Xen runs it as network-script and
vif-script; admins run it as xenplan. Every command that changes the host observes it,
plans only what differs, and either prints the plan (--dry-run) or applies it and checks
the result.

Commands:
  agent                      serve vif events resident (the fast path; see README)
  lab                        play the admin's bonded bridge end to end in a sandbox
  vif ARGS                   run as vif-script (see xenplan vif --help)
  bridge-port BRIDGE PORT    make sure PORT is in bridge BRIDGE and both are up
  network start|stop|status  run as network-script (see xenplan network --help)
  plan [key=value ...]       what network-script start would do (start --dry-run; --json)
  status [key=value ...]     the bridge, bond, ports, dom0's addresses and drift (exit 3)
  confirm [bridge=NAME]      keep what network-script start --confirm applied
  doctor [key=value ...]     review a bonded bridge setup, from settings and the live host
  antispoof status|gc        guests' antispoof rules and drops; remove stale ones
  install [--udev]           copy xenplan to /etc/xen/scripts as vif-xenplan, network-xenplan
  uninstall [--prefix DIR]   remove exactly what install put there
  examples DIR               write the example ifcfg files and settings into DIR
  help                       this help

Options:
  --dry-run      print the plan as a POSIX sh script; change nothing
  --json         with --dry-run, print the plan as JSON
  -h, --help     help (also: xenplan COMMAND --help)
  -V, --version  print the version

${EXIT_HELP}
`;

export async function dispatch(ctx: Context, role: Role, invokedAs = ''): Promise<number> {
  const args = ctx.argv;
  // vif-script decides for itself: among Xen's words -V is an error to report, not a version.
  if (role === 'vif') return runVif(ctx, args, vifModeOf(invokedAs));
  // The version is for a person who asks for nothing else.
  if (asksPerson(args, ['--version', '-V'])) {
    ctx.out(`${version()}\n`);
    return 0;
  }
  if (role === 'xenplan') return dispatchXenplan(ctx, args);
  return runNetwork(ctx, args);
}

async function dispatchXenplan(ctx: Context, args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      ctx.out(XENPLAN_HELP);
      return command === undefined ? 2 : 0;
    case 'bridge-port':
      return (await import('./bridge-port.ts')).runBridgePort(ctx, rest);
    case 'vif':
      return runVif(ctx, rest);
    case 'lab':
      return (await import('./lab.ts')).runLab(ctx, rest);
    case 'agent':
      return (await import('./agent.ts')).runAgent(ctx, rest);
    case 'network':
      return runNetwork(ctx, rest);
    case 'confirm':
      return runNetwork(ctx, ['confirm', ...rest]);
    case 'plan':
      // What network-script start would do, as an admin asks it.
      return runNetwork(ctx, ['start', '--dry-run', ...rest]);
    case 'status':
      return runNetwork(ctx, ['status', ...rest]);
    case 'doctor':
      return (await import('./doctor.ts')).runDoctor(ctx, rest);
    case 'antispoof':
      return (await import('./antispoof.ts')).runAntispoof(ctx, rest);
    case 'install':
      return (await import('./install.ts')).runInstall(ctx, rest);
    case 'examples':
      return (await import('./examples.ts')).runExamples(ctx, rest);
    case 'uninstall':
      return (await import('./install.ts')).runUninstall(ctx, rest);
    case 'xenstored': {
      // Hidden: the in-memory xenstore stand-in used by the lab, tests and benchmarks.
      const { runXenstoredMain } = await import('../lab/xenstored.ts');
      await runXenstoredMain(rest);
      return 0;
    }
    default:
      throw new XenplanError('usage', `unknown command ${JSON.stringify(command)}; see xenplan --help`);
  }
}
