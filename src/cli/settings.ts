import type { DeclaredFacts } from '../config/declared.ts';
import { parseConfigText } from '../config/file.ts';
import { parseNetworkSettings, settingsSources } from '../config/network.ts';
import { XenplanError } from '../model/error.ts';
import { findLink, type HostState, portsOf } from '../model/host.ts';
import type { NetworkDesired } from '../model/network.ts';
import { bridgeWord } from './confirm.ts';
import type { Context } from './context.ts';

/** The NIC behind the default route; through the bridge (or the netloop veth) when it is on one already. */
export function defaultRouteUplink(host: HostState): string | undefined {
  const route =
    host.routes.find((r) => r.dst === 'default' && r.table === undefined && r.family === 'inet' && r.dev) ??
    host.routes.find((r) => r.dst === 'default' && r.table === undefined && r.dev);
  const dev = route?.dev;
  if (dev === undefined) return undefined;
  const link = findLink(host, dev);
  let bridge: string | undefined;
  if (link?.kind === 'bridge') bridge = dev;
  else if (link?.kind === 'veth' && link.peer) bridge = findLink(host, link.peer)?.master;
  if (bridge === undefined || findLink(host, bridge)?.kind !== 'bridge') return dev;
  const port = portsOf(host, bridge).find((p) => !/^(vif|tap)/.test(p.name) && p.name !== link?.peer);
  return port?.name ?? dev;
}

/** A settings file (config=, the default config file, an ifcfg-* file) larger than this is refused, not read. */
export const SETTINGS_FILE_MAX = 1024 * 1024;

/** Where the settings live when no config= word names a file. */
export const DEFAULT_CONFIG = '/etc/xen/xenplan.conf';

/** The settings words and the files they name, read (network-script reads them before its lock). */
export interface LoadedSettings {
  readonly words: readonly string[];
  readonly configText?: { name: string; text: string };
  readonly ifcfg?: Record<string, string>;
}

function readSettingsFile(ctx: Pick<Context, 'files'>, key: string, path: string): string | undefined {
  if (ctx.files.readText === undefined) return ctx.files.read(path);
  const read = ctx.files.readText(path, SETTINGS_FILE_MAX);
  if (read === undefined || 'text' in read) return read?.text;
  throw new XenplanError('config', `${key}=${path}: ${read.problem}`);
}

/**
 * The config file's name and text: config=FILE, else $XENPLAN_CONFIG, else the default file.
 * A file that was named must be readable; the default file may be absent (no settings then),
 * so a host without one behaves as before it existed. Any of them must be a text file.
 */
export function readConfigFile(
  ctx: Pick<Context, 'files' | 'env'>,
  configWord: string | undefined,
): { name: string; text: string } | undefined {
  const named = configWord ?? (ctx.env.XENPLAN_CONFIG || undefined);
  const name = named ?? DEFAULT_CONFIG;
  const key = configWord === undefined && named !== undefined ? 'XENPLAN_CONFIG' : 'config';
  const text = readSettingsFile(ctx, key, name);
  if (text !== undefined) return { name, text };
  if (named === undefined) return undefined;
  throw new XenplanError('config', `${key}=${name}: cannot read it; expected a readable settings file`);
}

/** Whether a config file exists and says anything (a file of comments only says nothing). */
export function hasConfigSettings(ctx: Pick<Context, 'files' | 'env'>): boolean {
  const file = readConfigFile(ctx, undefined);
  if (file === undefined) return false;
  const parsed = parseConfigText(file.name, file.text);
  return parsed.settings.length > 0 || parsed.problems.length > 0;
}

/** The bridge the settings name (words over the config file), without checking the rest. */
export function settingsBridge(ctx: Pick<Context, 'files' | 'env'>, words: readonly string[]): string {
  if (words.some((w) => w.startsWith('bridge='))) return bridgeWord(words);
  // vifnum=N (Xen 3.0's network-bridge) names xenbrN when bridge= does not.
  const vifnum = [...words].reverse().find((w) => /^vifnum=[0-9]{1,3}$/.test(w));
  if (vifnum !== undefined) return `xenbr${vifnum.slice('vifnum='.length)}`;
  const file = readConfigFile(ctx, settingsSources([...words]).config);
  const fromFile =
    file === undefined
      ? []
      : parseConfigText(file.name, file.text)
          .settings.filter((s) => s.key === 'bridge')
          .map((s) => `bridge=${s.value}`);
  return bridgeWord(fromFile);
}

/** Reads the files the words name (config= or the default file, ifcfg=); refuses what is not a text file. */
export function loadSettings(ctx: Pick<Context, 'files' | 'env'>, words: readonly string[]): LoadedSettings {
  const sources = settingsSources([...words]);
  const configText = readConfigFile(ctx, sources.config);
  let ifcfg: Record<string, string> | undefined;
  if (sources.ifcfg !== undefined) {
    const names = ctx.files.list(sources.ifcfg);
    if (names === undefined)
      throw new XenplanError(
        'config',
        `ifcfg=${sources.ifcfg}: cannot list it; expected a directory of ifcfg-* files`,
      );
    ifcfg = {};
    for (const name of names.filter((n) => n.startsWith('ifcfg-')).sort()) {
      const text = readSettingsFile(ctx, 'ifcfg', `${sources.ifcfg}/${name}`);
      if (text !== undefined) ifcfg[name] = text;
    }
  }
  return {
    words: [...words],
    ...(configText === undefined ? {} : { configText }),
    ...(ifcfg === undefined ? {} : { ifcfg }),
  };
}

/**
 * Loaded settings → desired and declared facts. Without netdev= or bond=, the uplink defaults
 * to the observed host's default route device.
 */
export function settingsFrom(
  loaded: LoadedSettings,
  host: HostState | undefined,
): { desired: NetworkDesired; declared: DeclaredFacts } {
  const uplink = host === undefined ? undefined : defaultRouteUplink(host);
  return parseNetworkSettings({
    words: [...loaded.words],
    ...(loaded.configText === undefined ? {} : { configText: loaded.configText }),
    ...(loaded.ifcfg === undefined ? {} : { ifcfg: loaded.ifcfg }),
    ...(uplink === undefined ? {} : { defaultRouteDev: uplink }),
  });
}

/**
 * The settings words → desired and declared facts, reading config= and ifcfg= through ctx.files.
 * The one settings reader: network-script (start, stop, status) and doctor both use it.
 */
export function readSettings(
  ctx: Pick<Context, 'files' | 'env'>,
  words: readonly string[],
  host: HostState | undefined,
): { desired: NetworkDesired; declared: DeclaredFacts } {
  return settingsFrom(loadSettings(ctx, words), host);
}
