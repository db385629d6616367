/**
 * The text of a network-script config file (`config=FILE`): the same `key=value` settings as
 * the command line, one per line, `#` comments and blank lines. Pure: the caller reads the file.
 */

/** One `key=value` setting before validation, with where it came from (for error messages). */
export interface RawSetting {
  readonly key: string;
  readonly value: string;
  /** `/etc/xenplan.conf:7`, `ifcfg-bond0:5`; absent for command-line words. */
  readonly where?: string;
}

export interface ParsedSettingsText {
  readonly settings: RawSetting[];
  /** Whole sentences, each naming the file and line. */
  readonly problems: string[];
}

/**
 * Splits a config file into settings. Spaces around `=` are allowed, a value may be wrapped in
 * one pair of '…' or "…", and ` # text` after a value is a comment. Values are not checked here.
 */
export function parseConfigText(name: string, text: string): ParsedSettingsText {
  const settings: RawSetting[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const where = `${name}:${index + 1}`;
    const line = stripComment(raw).trim();
    if (line === '') return;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      problems.push(`${where}: ${JSON.stringify(line)} is not a setting; expected key=value`);
      return;
    }
    const key = line.slice(0, eq).trim();
    const value = unquote(line.slice(eq + 1).trim());
    if (value === undefined) {
      problems.push(`${where}: ${JSON.stringify(line)} has an unterminated quote`);
      return;
    }
    settings.push({ key, value, where });
  });
  return { settings, problems };
}

/** Drops a `#` comment: a whole-line one, or one after whitespace outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      return line.slice(0, i);
    }
  }
  return line;
}

function unquote(value: string): string | undefined {
  const first = value[0];
  if (first !== "'" && first !== '"') return value;
  if (value.length < 2 || value[value.length - 1] !== first) return undefined;
  return value.slice(1, -1);
}
