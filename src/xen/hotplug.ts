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
/**
 * Ids as libxl writes them: canonical decimal, no leading zeros. `backend/vif/05/0` would name
 * the directory `05` while the device is vif5.0; such a path is refused, never guessed at.
 */
const ID = '(0|[1-9][0-9]{0,9})';
const BACKEND = new RegExp(`^(?:/local/domain/${ID}/)?backend/vif/${ID}/${ID}$`);
/** DOMID_FIRST_RESERVED (0x7FF0): ids from here on are not domains. */
const DOMID_LIMIT = 0x7ff0;
const DEVID_LIMIT = 2 ** 31;
/** Options for a person at a terminal; Xen never passes them. */
const PERSON_OPTIONS = ['-h', '--help', '-V', '--version'];
const VIF_DEV = /^vif([0-9]+)\.([0-9]+)$/;
const TAP_DEV = /^(?:vif([0-9]+)\.([0-9]+)-emu|tap([0-9]+)\.([0-9]+))$/;

export function parseHotplugRequest(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): HotplugRequest {
  const flags = new Set(argv.filter(isOption));
  for (const flag of flags) {
    if (PERSON_OPTIONS.includes(flag))
      throw new XenplanError(
        'usage',
        `option ${show(flag)} is for a person running vif-script alone (help, version), not among Xen's words; expected ${COMMANDS.join(', ')} with key=value words, --dry-run or --json`,
      );
    if (flag !== '--dry-run' && flag !== '--json')
      throw new XenplanError('usage', `unknown option ${show(flag)}; expected --dry-run or --json`);
  }
  const args: Record<string, string> = {};
  for (const word of argv) {
    const eq = word.indexOf('=');
    if (!isOption(word) && eq > 0) args[word.slice(0, eq)] = word.slice(eq + 1);
  }
  const command = commandWord(argv);
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

const isOption = (word: string) => word.startsWith('-');

/** Xen's command: the first word that is neither an option nor `key=value`. */
export function commandWord(argv: readonly string[]): string | undefined {
  return argv.find((word) => !isOption(word) && word.indexOf('=') <= 0);
}

/** A person asking for help or the version: such an option, and no command word. */
export function asksPerson(argv: readonly string[], options: readonly string[]): boolean {
  return commandWord(argv) === undefined && argv.some((word) => options.includes(word));
}

/** Domain and device of a canonical vif backend path; undefined for anything else. */
export function parseBackendPath(path: string): { domid: number; devid: number } | undefined {
  const m = BACKEND.exec(path);
  if (!m) return undefined;
  const [owner, domid, devid] = [m[1], m[2], m[3]].map((id) => (id === undefined ? 0 : Number(id)));
  if (owner! >= DOMID_LIMIT || domid! >= DOMID_LIMIT || devid! >= DEVID_LIMIT) return undefined;
  return { domid: domid!, devid: devid! };
}

/** Why XENBUS_PATH cannot be used, in the words of every refusal of it. */
export function backendPathProblem(path: string): string {
  return `XENBUS_PATH ${show(path)} is not a vif backend path; expected backend/vif/<domid>/<devid> (or /local/domain/<n>/backend/vif/<domid>/<devid>) with ids in plain decimal (no leading zeros, domid below ${DOMID_LIMIT})`;
}

interface Located {
  backend: string;
  domid: number;
  devid: number;
  dev: string;
}

function checkDev(dev: string, pattern: RegExp, expected: string): void {
  const problem = checkInterfaceName(dev, 'device');
  if (problem) throw new XenplanError('config', problem);
  if (!pattern.test(dev)) throw new XenplanError('config', `device ${show(dev)} is not a ${expected}`);
}

function checkedBackend(path: string): { domid: number; devid: number } {
  const ids = parseBackendPath(path);
  if (!ids) throw new XenplanError('config', backendPathProblem(path));
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
  const own = `vif${ids.domid}.${ids.devid}`;
  const dev = env.vif || own;
  checkDev(dev, VIF_DEV, 'vif device name (vif<domid>.<devid>)');
  // The device and the directory must be the same guest's: every guard below trusts both.
  if (dev !== own)
    throw new XenplanError(
      'config',
      `vif ${show(dev)} does not belong to XENBUS_PATH ${show(path)}; expected ${own}`,
    );
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
  const ids = checkedBackend(path);
  const own = [`vif${ids.domid}.${ids.devid}-emu`, `tap${ids.domid}.${ids.devid}`];
  if (!own.includes(dev))
    throw new XenplanError(
      'config',
      `INTERFACE ${show(dev)} does not belong to XENBUS_PATH ${show(path)}; expected ${own.join(' or ')}`,
    );
  return { backend: path, ...ids, dev };
}
