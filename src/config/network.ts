/**
 * network-script settings → NetworkDesired. Settings come as `key=value` words (argv, or the
 * `network-script` string xend splits on spaces), from a config file (`config=FILE`) and from a
 * Red Hat ifcfg directory (`ifcfg=DIR`); words override the file, which overrides ifcfg.
 * Pure: the caller reads the files and observes the default route, and passes them in.
 */
import { XenplanError } from '../model/error.ts';
import type { NetworkDesired } from '../model/network.ts';
import { buildDeclared, type DeclaredFacts } from './declared.ts';
import { buildDesired } from './desired.ts';
import { parseConfigText } from './file.ts';
import { parseIfcfgFiles } from './ifcfg.ts';
import { overlay, readSource, type Source, wordsToSettings } from './source.ts';
import { checkPath } from './value.ts';

export interface SettingsInput {
  /** key=value words from argv (the command word already removed). */
  words: string[];
  /**
   * Contents of the config file (the caller reads it): config=FILE if given, else the default
   * file (XENPLAN_CONFIG, /etc/xen/xenplan.conf) when it exists. Words override it.
   */
  configText?: { name: string; text: string };
  /** File name → contents of every ifcfg-* file in ifcfg=DIR. */
  ifcfg?: Record<string, string>;
  /** Device of the default route, observed by the caller. */
  defaultRouteDev?: string;
}

/** Which files the caller must read before calling parseNetworkSettings (valid paths only). */
export function settingsSources(words: string[]): { config?: string; ifcfg?: string } {
  const found: { config?: string; ifcfg?: string } = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) continue;
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if ((key === 'config' || key === 'ifcfg') && 'ok' in checkPath(value)) found[key] = value;
  }
  return found;
}

/**
 * Reads network-script's settings into what the uplink should be, plus facts declared for
 * doctor. Throws one XenplanError('config') listing every problem, one per line.
 */
export function parseNetworkSettings(input: SettingsInput): {
  desired: NetworkDesired;
  declared: DeclaredFacts;
} {
  const wordProblems: string[] = [];
  const words = readSource(wordsToSettings(input.words, wordProblems), true, wordProblems);

  let config: Source = new Map();
  const configProblems: string[] = [];
  const configPath = words.get('config')?.value;
  if (typeof configPath === 'string' && input.configText === undefined)
    throw new XenplanError('bug', `config=${configPath} was given but its text was not passed in`);
  if (input.configText !== undefined) {
    const parsed = parseConfigText(input.configText.name, input.configText.text);
    configProblems.push(...parsed.problems);
    config = readSource(parsed.settings, false, configProblems);
  }

  let ifcfg: Source = new Map();
  let ifcfgDeclared: DeclaredFacts = {};
  const ifcfgProblems: string[] = [];
  const ifcfgPath = words.get('ifcfg')?.value;
  if (typeof ifcfgPath === 'string') {
    if (input.ifcfg === undefined)
      throw new XenplanError('bug', `ifcfg=${ifcfgPath} was given but its files were not passed in`);
    const wanted = words.get('bridge')?.value ?? config.get('bridge')?.value;
    const parsed = parseIfcfgFiles(input.ifcfg, typeof wanted === 'string' ? wanted : undefined);
    ifcfgProblems.push(...parsed.problems);
    ifcfg = readSource(parsed.settings, false, ifcfgProblems);
    ifcfgDeclared = { ...parsed.declared, ignored: parsed.ignored };
  }

  // Problems in the order an admin reads them: ifcfg, then the file by line, then the words.
  const problems = [...sortByPlace(ifcfgProblems), ...sortByPlace(configProblems), ...wordProblems];
  const merged: Source = new Map();
  overlay(merged, ifcfg);
  overlay(merged, config);
  overlay(merged, words);

  const desired = buildDesired(merged, input.defaultRouteDev, problems);
  if (problems.length > 0) throw new XenplanError('config', problems.join('\n'));
  return { desired, declared: buildDeclared(merged, ifcfgDeclared) };
}

/** Orders `file:line: …` problems by file, then line; others keep their place after them. */
function sortByPlace(problems: readonly string[]): string[] {
  const place = (p: string): [string, number] => {
    const m = /^([^\s:]+)(?::([0-9]+))?: /.exec(p);
    return m === null ? ['\uffff', 0] : [m[1] ?? '', Number(m[2] ?? 0)];
  };
  return [...problems].sort((a, b) => {
    const [fa, la] = place(a);
    const [fb, lb] = place(b);
    return fa < fb ? -1 : fa > fb ? 1 : la - lb;
  });
}
