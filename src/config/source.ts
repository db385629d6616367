/**
 * One source of settings (the words, the config file, the ifcfg directory) read into checked
 * entries under their canonical keys, and how a higher-precedence source is laid over the
 * ones before it. Pure.
 */
import { show } from '../model/names.ts';
import { BOND_OPTION_INDEX, BOND_OPTIONS, checkBondOption } from './bond-options.ts';
import type { RawSetting } from './file.ts';
import { KEY_INDEX, type NetworkKey, SIMPLE_KEYS } from './keys.ts';
import { checkSysctlValue } from './value.ts';

/** A checked setting under its canonical key (`bond.mode` → `bond-mode`). */
export interface Entry {
  readonly key: string;
  readonly value: string | readonly string[];
  /** `key=value` as written, for messages. */
  readonly written: string;
  /** The same, after the place it was read (`/etc/xenplan.conf:7: key=value`). */
  readonly here: string;
}

export type Source = Map<string, Entry>;

/** Shows a value bare when that is unambiguous, else JSON-quoted (spaces, newlines, quotes). */
function showValue(value: string): string {
  return /^[\x21-\x7e]+$/.test(value) && !/["\\]/.test(value) ? value : show(value);
}

function written(key: string, value: string): string {
  return `${/^[\x21-\x7e]+$/.test(key) && !key.includes('"') ? key : show(key)}=${showValue(value)}`;
}

/** A known key: its canonical name and its spec; a string says why the key is unknown. */
export interface Resolved {
  readonly canonical: string;
  readonly spec: Pick<NetworkKey, 'check' | 'list' | 'commandLineOnly'>;
}

export function resolveKey(key: string): Resolved | string {
  if (key === 'bond.mode') return resolveKey('bond-mode');
  if (key === 'bond.miimon') return resolveKey('miimon');
  if (key.startsWith('bond.')) {
    const option = BOND_OPTION_INDEX.get(key.slice(5));
    if (option === undefined)
      return `unknown bonding option ${show(key.slice(5))}; expected one of mode miimon ${BOND_OPTIONS.map((o) => o.name).join(' ')}`;
    return { canonical: key, spec: { check: checkBondOption(option) } };
  }
  if (key.startsWith('sysctl.')) {
    const name = key.slice(7);
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(name) || name.length > 200)
      return `sysctl name ${show(name)} is not valid; expected dotted words like net.bridge.bridge-nf-call-iptables`;
    return { canonical: key, spec: { check: checkSysctlValue } };
  }
  const spec = KEY_INDEX.get(key);
  if (spec === undefined || key.includes('<')) {
    const near = SIMPLE_KEYS.find((k) => editDistance(k, key) <= 2);
    const hint = near === undefined ? '' : ` (did you mean ${near}=?)`;
    return `unknown setting${hint}; expected one of ${SIMPLE_KEYS.join(', ')}, bond.<option>, sysctl.<name>`;
  }
  return { canonical: key, spec };
}

/** Checks one source's settings; problems get the setting's place as prefix. */
export function readSource(
  raws: readonly RawSetting[],
  fromCommandLine: boolean,
  problems: string[],
): Source {
  const source: Source = new Map();
  for (const raw of raws) {
    // vif-* lines in the shared file are host-wide vif settings, read by vif-script.
    if (!fromCommandLine && raw.key.startsWith('vif-') && !KEY_INDEX.has(raw.key)) continue;
    const here = `${raw.where === undefined ? '' : `${raw.where}: `}${written(raw.key, raw.value)}`;
    const resolved = resolveKey(raw.key);
    if (typeof resolved === 'string') {
      problems.push(`${here}: ${resolved}`);
      continue;
    }
    const { canonical, spec } = resolved;
    if (spec.commandLineOnly === true && !fromCommandLine) {
      problems.push(`${here}: ${raw.key}= is only read from the command line`);
      continue;
    }
    if (spec.list === true) {
      const items: string[] = [];
      for (const item of raw.value.split(',')) {
        const checked = spec.check(item);
        if ('problem' in checked) problems.push(`${here}: ${checked.problem}`);
        else items.push(checked.ok);
      }
      const before = source.get(canonical);
      const all = [...((before?.value as readonly string[] | undefined) ?? []), ...items];
      const twice = all.find((item, i) => all.indexOf(item) !== i);
      if (twice !== undefined) problems.push(`${here}: ${twice} is listed twice`);
      source.set(canonical, {
        key: canonical,
        value: [...new Set(all)],
        written: written(raw.key, raw.value),
        here,
      });
      continue;
    }
    const checked = spec.check(raw.value);
    if ('problem' in checked) {
      problems.push(`${here}: ${checked.problem}`);
      continue;
    }
    const before = source.get(canonical);
    if (before !== undefined && before.value !== checked.ok) {
      problems.push(`${here}: conflicts with ${before.written}; give ${canonical}= once`);
      continue;
    }
    source.set(canonical, { key: canonical, value: checked.ok, written: written(raw.key, raw.value), here });
  }
  return source;
}

export function isBondKey(key: string): boolean {
  return (
    key === 'bond' || key === 'slaves' || key === 'bond-mode' || key === 'miimon' || key.startsWith('bond.')
  );
}

/**
 * Lays a higher-precedence source over the settings so far. Keys replace keys; in addition a
 * new uplink (netdev=, or a bond of another name) drops the old bond's settings, and a new
 * dom0-port drops the old dom0-mac.
 */
export function overlay(base: Source, top: Source): void {
  const drop = (test: (key: string) => boolean) => {
    for (const key of [...base.keys()]) if (test(key)) base.delete(key);
  };
  if (top.has('netdev')) drop(isBondKey);
  const bond = top.get('bond');
  if (bond !== undefined) {
    base.delete('netdev');
    if (base.get('bond')?.value !== bond.value) drop(isBondKey);
  }
  const port = top.get('dom0-port');
  if (port !== undefined && base.get('dom0-port')?.value !== port.value) base.delete('dom0-mac');
  for (const [key, entry] of top) base.set(key, entry);
}

/** Command-line words as settings; a word that is not key=value is a problem. */
export function wordsToSettings(words: readonly string[], problems: string[]): RawSetting[] {
  const settings: RawSetting[] = [];
  for (const word of words) {
    if (word === '') continue; // xend splits on single spaces: doubled spaces give empty words
    const eq = word.indexOf('=');
    if (eq <= 0) {
      problems.push(`${showValue(word)} is not a setting; expected key=value`);
      continue;
    }
    settings.push({ key: word.slice(0, eq), value: word.slice(eq + 1) });
  }
  return settings;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
