import { XenplanError } from '../model/error.ts';
import type { VifMode } from '../model/vif-mode.ts';
import { asksPerson } from '../xen/hotplug.ts';
import { type Context, version } from './context.ts';
import type { Role } from './exit.ts';
import { runHelp, runManpage, XENPLAN_HELP } from './help.ts';
import { runVif } from './vif.ts';

// Only vif-script, which runs on every guest start, is loaded up front; every other command
// is imported when asked for, so a hotplug event pays nothing for doctor, lab or install.
const runNetwork = async (ctx: Context, args: readonly string[], role: Role = 'xenplan') =>
  (await import('./network.ts')).runNetwork(ctx, args, role);

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
  return runNetwork(ctx, args, 'network');
}

async function dispatchXenplan(ctx: Context, args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
      ctx.out(XENPLAN_HELP);
      return command === undefined ? 2 : 0;
    case 'help':
      return runHelp(ctx, rest);
    case 'version':
      if (rest.length > 0) throw new XenplanError('usage', 'version takes no arguments');
      ctx.out(`${version()}\n`);
      return 0;
    case 'manpage':
      return runManpage(ctx, rest);
    case 'bridge-port':
      return (await import('./bridge-port.ts')).runBridgePort(ctx, rest);
    case 'vif':
      return runVif(ctx, rest, 'bridge', 'xenplan');
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
    case 'bootunit': {
      // Hidden: the boot unit as packaged (scripts in /etc/xen/scripts), for npm run package.
      const { renderBootUnit } = await import('../plan/boot-unit.ts');
      ctx.out(renderBootUnit('/etc/xen/scripts'));
      return 0;
    }
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
