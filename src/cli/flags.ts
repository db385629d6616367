import minimist from 'minimist';
import { XenplanError } from '../model/error.ts';

export interface FlagSpec {
  readonly string?: readonly string[];
  readonly boolean?: readonly string[];
}

export type Flags = Record<string, unknown> & { _: string[] };

/**
 * minimist with typos refused: an option not in the spec is a usage error naming it.
 * Words (including key=value) stay positional, in order.
 */
export function parseFlags(args: readonly string[], spec: FlagSpec, command: string): Flags {
  const known = new Set([...(spec.string ?? []), ...(spec.boolean ?? []), 'help', 'h']);
  const unknown: string[] = [];
  const parsed = minimist([...args], {
    string: [...(spec.string ?? [])],
    boolean: [...(spec.boolean ?? []), 'help'],
    alias: { h: 'help' },
    unknown: (arg) => {
      if (arg.startsWith('-') && arg !== '-') {
        const name = arg.replace(/^-+/, '').split('=')[0] ?? '';
        if (!known.has(name)) unknown.push(arg);
        return known.has(name);
      }
      return true;
    },
  });
  if (unknown.length > 0)
    throw new XenplanError(
      'usage',
      `${command}: unknown option ${unknown.join(', ')}; see ${command} --help`,
    );
  return { ...parsed, _: parsed._.map(String) };
}
