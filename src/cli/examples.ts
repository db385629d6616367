import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { XenplanError } from '../model/error.ts';
import { EXAMPLE_FILES } from '../model/examples.ts';
import type { Context } from './context.ts';
import { parseFlags } from './flags.ts';

export const EXAMPLES_HELP = `Usage: xenplan examples DIR

Writes the example configuration that comes with xenplan into DIR (created if
needed; existing files are never overwritten): a Xen 3.x admin's bonded bridge
as Red Hat ifcfg files (ifcfg/), what they set by hand (by-hand.conf), the
recommended rewrite (recommended.conf) and a README. The lab plays the same
files. Then try:

  xenplan doctor ifcfg=DIR/ifcfg config=DIR/by-hand.conf --config-only
  network-script start config=DIR/recommended.conf --dry-run

Exit codes: 0 written, 2 usage, 4 a file is already there (nothing written).
`;

export function runExamples(ctx: Context, args: readonly string[]): number {
  const flags = parseFlags(args, { boolean: ['help'] }, 'xenplan examples');
  if (flags.help) {
    ctx.out(EXAMPLES_HELP);
    return 0;
  }
  const [dir, ...extra] = flags._;
  if (dir === undefined || dir === '' || extra.length > 0)
    throw new XenplanError(
      'usage',
      'examples: expected one directory, e.g. xenplan examples /tmp/xenplan-examples',
    );
  const root = resolve(dir);
  const targets = Object.keys(EXAMPLE_FILES).map((name) => join(root, name));
  // All or nothing: an admin's own file of the same name is never replaced.
  const taken = targets.filter((path) => existsSync(path));
  if (taken.length > 0)
    throw new XenplanError(
      'config',
      `examples: ${taken.join(', ')} already exist(s); choose an empty directory`,
    );
  for (const [name, text] of Object.entries(EXAMPLE_FILES)) {
    const path = join(root, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text, { flag: 'wx' });
  }
  ctx.out(`${targets.map((path) => `wrote ${path}`).join('\n')}\n`);
  return 0;
}
