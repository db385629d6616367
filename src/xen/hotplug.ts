import { XenplanError } from '../model/error.ts';
import { checkInterfaceName, show } from '../model/names.ts';
import type { VifKind } from '../model/vif.ts';

/**
 * A vif-script invocation, as Xen makes it: `online|offline type_if=vif` (libxl, or no
 * type_if from xend's udev rules), `add|remove type_if=tap`. The first word without `=` is
 * the command; `key=value` words can come in any position. Pure: argv and env are passed in.
 */
export type VifCommand = 'online' | 'offline' | 'add' | 'remove';

export interface HotplugRequest {
  readonly command: VifCommand;
  readonly typeIf: VifKind;
  /** `key=value` words from the command line (bridge=, …). */
  readonly args: Readonly<Record<string, string>>;
  /** Backend directory as given or derived (relative paths are resolved by xenstored). */
  readonly backend: string;
  readonly domid: number;
  readonly devid: number;
  /** The device the event is about, before any vifname rename. */
  readonly dev: string;
  readonly dryRun: boolean;
  readonly json: boolean;
  /** True when Xen's rule says this event is not ours (online for a tap, add for a vif). */
  readonly ignored: boolean;
}

const COMMANDS: readonly VifCommand[] = ['online', 'offline', 'add', 'remove'];
const BACKEND = /^(?:\/local\/domain\/[0-9]+\/)?backend\/vif\/([0-9]+)\/([0-9]+)$/;
const VIF_DEV = /^vif([0-9]+)\.([0-9]+)$/;
const TAP_DEV = /^(?:vif([0-9]+)\.([0-9]+)-emu|tap([0-9]+)\.([0-9]+))$/;

export function parseHotplugRequest(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): HotplugRequest {
  const flags = new Set(argv.filter((w) => w.startsWith('--')));
  for (const flag of flags)
    if (flag !== '--dry-run' && flag !== '--json')
      throw new XenplanError('usage', `unknown option ${show(flag)}; expected --dry-run, --json or --help`);
  const words = argv.filter((w) => !w.startsWith('--'));
  const args: Record<string, string> = {};
  let command: string | undefined;
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq > 0) args[word.slice(0, eq)] = word.slice(eq + 1);
    else if (command === undefined) command = word;
  }
  if (command === undefined || !COMMANDS.includes(command as VifCommand))
    throw new XenplanError(
      'usage',
      `${command === undefined ? 'no command' : `invalid command ${show(command)}`}; expected online, offline, add or remove`,
    );
  const typeIf = args.type_if ?? 'vif';
  if (typeIf !== 'vif' && typeIf !== 'tap')
    throw new XenplanError('usage', `type_if=${show(typeIf)}: expected vif or tap`);
  const cmd = command as VifCommand;
  const ignored =
    typeIf === 'vif' ? cmd === 'add' || cmd === 'remove' : cmd === 'online' || cmd === 'offline';
  const dryRun = flags.has('--dry-run') || env.XENPLAN_DRY_RUN === '1';
  const json = flags.has('--json');
  const located = typeIf === 'vif' ? locateVif(env) : locateTap(env);
  return { command: cmd, typeIf, args, dryRun, json, ignored, ...located };
}

interface Located {
  backend: string;
  domid: number;
  devid: number;
  dev: string;
}

function fromBackend(path: string): { domid: number; devid: number } | undefined {
  const m = BACKEND.exec(path);
  return m ? { domid: Number(m[1]), devid: Number(m[2]) } : undefined;
}

function checkDev(dev: string, pattern: RegExp, expected: string): void {
  const problem = checkInterfaceName(dev, 'device');
  if (problem) throw new XenplanError('config', problem);
  if (!pattern.test(dev)) throw new XenplanError('config', `device ${show(dev)} is not a ${expected}`);
}

function checkedBackend(path: string): { domid: number; devid: number } {
  const ids = fromBackend(path);
  if (!ids)
    throw new XenplanError(
      'config',
      `XENBUS_PATH ${show(path)} is not a vif backend path; expected backend/vif/<domid>/<devid> (or /local/domain/<n>/backend/vif/<domid>/<devid>)`,
    );
  return ids;
}

function locateVif(env: Readonly<Record<string, string | undefined>>): Located {
  const path = env.XENBUS_PATH;
  if (!path)
    throw new XenplanError(
      'environment',
      'XENBUS_PATH is not set; vif-script must be run by the Xen toolstack or udev',
    );
  const ids = checkedBackend(path);
  const dev = env.vif || `vif${ids.domid}.${ids.devid}`;
  checkDev(dev, VIF_DEV, 'vif device name (vif<domid>.<devid>)');
  return { backend: path, ...ids, dev };
}

function locateTap(env: Readonly<Record<string, string | undefined>>): Located {
  const dev = env.INTERFACE;
  if (!dev)
    throw new XenplanError('environment', 'INTERFACE is not set; a tap event names its device in INTERFACE');
  checkDev(dev, TAP_DEV, 'tap device name (vif<domid>.<devid>-emu or tap<domid>.<devid>)');
  const m = TAP_DEV.exec(dev)!;
  const fromName = { domid: Number(m[1] ?? m[3]), devid: Number(m[2] ?? m[4]) };
  // Xen rebuilt the path from the name with /local/domain/0 hard-coded; a relative path
  // resolves against the domain we run in, which is also right in a driver domain.
  const path = env.XENBUS_PATH || `backend/vif/${fromName.domid}/${fromName.devid}`;
  return { backend: path, ...checkedBackend(path), dev };
}
