import { XenplanError } from '../model/error.ts';
import type { Context } from './context.ts';
import { EXIT_HELP } from './exit.ts';

/**
 * Every help text by the name an admin asks for it (`xenplan help COMMAND`) and the man pages
 * made from the same texts (`xenplan manpage PAGE`): there is no second copy of the words.
 * Command modules are imported only when their help is asked for.
 */

/** The man pages, by the name they are installed under. */
export const MAN_PAGES = [
  { name: 'xenplan', section: 8, summary: 'plan, apply and check Xen dom0 networking' },
  { name: 'network-xenplan', section: 8, summary: "build dom0's bridge (Xen network-script)" },
  { name: 'vif-xenplan', section: 8, summary: "attach a guest's vif (Xen vif-script)" },
  { name: 'xenplan.conf', section: 5, summary: 'settings of network-xenplan and vif-xenplan' },
] as const;

export type ManPageName = (typeof MAN_PAGES)[number]['name'];

const MAN_PAGE_NAMES = MAN_PAGES.map((p) => p.name).join(', ');

export const XENPLAN_HELP = `Usage: xenplan COMMAND [ARGS] [--dry-run] [--json]

xenplan replaces Xen's network hotplug scripts. Xen runs it as network-script
and vif-script; admins run it as xenplan. Every command that changes the host
observes it, plans only what differs, and either prints the plan (--dry-run)
or applies it and checks the result.

Commands:
  agent                      serve vif events resident (the fast path; see
                             README)
  lab                        play the admin's bonded bridge end to end in a
                             sandbox
  vif ARGS                   run as vif-script (see xenplan help vif)
  bridge-port BRIDGE PORT    make sure PORT is in bridge BRIDGE and both are up
  network start|stop|status  run as network-script (see xenplan help network)
  plan [key=value ...]       what network-script start would do (start
                             --dry-run)
  status [key=value ...]     the bridge, bond, ports, dom0's addresses and
                             drift (exit 3)
  confirm [bridge=NAME]      keep what network-script start --confirm applied
  doctor [key=value ...]     review a bonded bridge setup, from settings and
                             the live host
  install [--udev] [--boot]  copy xenplan to /etc/xen/scripts as vif-xenplan,
                             network-xenplan (and the boot unit)
  antispoof status|gc        guests' antispoof rules and drops; remove stale
                             ones
  uninstall [--prefix DIR]   remove exactly what install put there
  examples DIR               write the example ifcfg files and settings into
                             DIR
  manpage PAGE               print a man page (roff) from the help texts:
                             ${MAN_PAGE_NAMES}
  help [COMMAND]             this help, or COMMAND's
  version                    print the version

With no words, network, plan, status and doctor read /etc/xen/xenplan.conf
(see xenplan help xenplan.conf).

Options:
  --dry-run      print the plan as a POSIX sh script; change nothing
  --json         print one JSON object (schema xenplan/1), errors too
  -h, --help     help (also: xenplan COMMAND --help)
  -V, --version  print the version

${EXIT_HELP}
`;

/** The commands of xenplan(8) that have their own help, in the order the page shows them. */
const COMMANDS_WITH_HELP = ['doctor', 'bridge-port', 'install', 'uninstall', 'lab'] as const;

/** A command's help text, or undefined for a name that has none. */
export async function helpOf(name: string): Promise<string | undefined> {
  switch (name) {
    case 'xenplan':
    case 'help':
    case 'version':
    case 'manpage':
      return XENPLAN_HELP;
    case 'network':
    case 'plan':
    case 'status':
    case 'confirm':
      return (await import('./network.ts')).networkHelp('xenplan');
    case 'network-script':
    case 'network-xenplan':
      return (await import('./network.ts')).networkHelp('network');
    case 'vif':
      return (await import('./vif.ts')).vifHelp('xenplan');
    case 'vif-script':
    case 'vif-xenplan':
      return (await import('./vif.ts')).vifHelp('vif');
    case 'doctor':
      return (await import('./doctor.ts')).DOCTOR_HELP();
    case 'bridge-port':
      return (await import('./bridge-port.ts')).BRIDGE_PORT_HELP;
    case 'install':
      return (await import('./install.ts')).INSTALL_HELP;
    case 'uninstall':
      return (await import('./install.ts')).UNINSTALL_HELP;
    case 'lab':
      return (await import('./lab.ts')).LAB_HELP();
    case 'xenplan.conf':
    case 'config':
      return (await import('./conf-help.ts')).CONF_HELP();
    default:
      return undefined;
  }
}

/** `xenplan help [COMMAND]`. */
export async function runHelp(ctx: Context, args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  if (rest.length > 0) throw new XenplanError('usage', `help takes one command, got ${args.join(' ')}`);
  const text = name === undefined ? XENPLAN_HELP : await helpOf(name);
  if (text === undefined)
    throw new XenplanError(
      'usage',
      `help: no command ${JSON.stringify(name)}; expected one of the commands in xenplan help, or xenplan.conf`,
    );
  ctx.out(text);
  return 0;
}

/** The help texts one man page is made of: its own, then (for xenplan(8)) each command's. */
export async function manPageTexts(page: ManPageName): Promise<{ title?: string; text: string }[]> {
  const own = (await helpOf(page)) ?? '';
  if (page !== 'xenplan') return [{ text: own }];
  const commands = await Promise.all(
    COMMANDS_WITH_HELP.map(async (c) => ({ title: `xenplan ${c}`, text: (await helpOf(c)) ?? '' })),
  );
  return [{ text: own }, ...commands];
}

/** `xenplan manpage PAGE`: the page as roff, for packaging and `man -l`. */
export async function runManpage(ctx: Context, args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  const page = MAN_PAGES.find((p) => p.name === name);
  if (page === undefined || rest.length > 0)
    throw new XenplanError(
      'usage',
      `manpage: expected one page name (${MAN_PAGE_NAMES}), got ${args.length === 0 ? 'nothing' : args.join(' ')}`,
    );
  const { renderManPage } = await import('../apply/manpage.ts');
  const { version } = await import('./context.ts');
  ctx.out(renderManPage({ ...page, version: version(), texts: await manPageTexts(page.name) }));
  return 0;
}
