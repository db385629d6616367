/**
 * One Red Hat `ifcfg-*` file: its shell-style assignments, read without running a shell, and
 * how the names and values found in such files are ordered and shown in messages.
 */
import { show } from '../model/names.ts';

export interface IfcfgVar {
  readonly value: string;
  readonly line: number;
}

export interface IfcfgDevice {
  /** File name as given, for messages. */
  readonly file: string;
  readonly name: string;
  readonly vars: ReadonlyMap<string, IfcfgVar>;
}

/**
 * Parses one file's shell-style assignments: `NAME=value`, `NAME='…'`, `NAME="…"`, backslash
 * escapes, comments. Anything that needs a shell (expansions, `;`, `$(…)`) is a problem: the
 * file is read, never run.
 */
export function parseIfcfgText(
  file: string,
  text: string,
): { vars: Map<string, IfcfgVar>; problems: string[] } {
  const vars = new Map<string, IfcfgVar>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(trimmed);
    if (m === null) {
      problems.push(`${file}:${line}: ${show(trimmed)} is not a NAME=value assignment`);
      return;
    }
    const value = readShellWord(trimmed.slice(m[0].length));
    if (typeof value !== 'string') {
      problems.push(`${file}:${line}: ${show(trimmed)}: ${value.problem}`);
      return;
    }
    vars.set(m[1] ?? '', { value, line });
  });
  return { vars, problems };
}

/** Reads one shell word (the value), then allows only whitespace and a comment after it. */
function readShellWord(text: string): string | { problem: string } {
  let out = '';
  let i = 0;
  const refuse = (c: string) => ({ problem: `${show(c)} needs a shell; expected a plain or quoted value` });
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) break;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { problem: 'unterminated single quote' };
      out += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return { problem: 'unterminated double quote' };
        const d = text[i] ?? '';
        if (d === '"') break;
        if (d === '$' || d === '`') return refuse(d);
        if (d === '\\' && /[$`"\\]/.test(text[i + 1] ?? '')) {
          out += text[i + 1];
          i += 2;
        } else {
          out += d;
          i++;
        }
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= text.length) return { problem: 'backslash at end of line' };
      out += text[i + 1];
      i += 2;
    } else if (/[$`;&|<>()]/.test(c)) {
      return refuse(c);
    } else {
      out += c;
      i++;
    }
  }
  const rest = text.slice(i).trim();
  if (rest !== '' && !rest.startsWith('#'))
    return { problem: `unexpected ${show(rest)} after the value; quote values with spaces` };
  return out;
}

/** Orders `eth2` before `eth10` and `IPADDR2` before `IPADDR10`. */
export function compareNatural(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** A value as written when it is plain printable text, quoted otherwise. */
export function showPlain(value: string): string {
  return /^[\x21-\x7e]+$/.test(value) && !/["\\]/.test(value) ? value : show(value);
}
