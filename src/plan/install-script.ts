/**
 * The installed copy of the bundle: the same bytes with an absolute `#!` line naming the node
 * that runs it, so Xen's and udev's callers (PATH=/usr/sbin:/usr/bin:/sbin:/bin) need no PATH
 * lookup. The copy is made with `install`, then its first line rewritten with `sed -i`
 * (install-command.ts); renderInstalledScript is the same rewrite, pure, so the caller can
 * hash what install will leave on disk. Pure.
 */

/**
 * The longest node path a `#!` line can name: kernels before 5.1 read only the first 127
 * bytes of a script's first line (BINPRM_BUF_SIZE 128), and xend-era hosts run such kernels.
 */
export const MAX_NODE_PATH = 125;

/** Characters a node path may hold: none is special to sed's s||| replacement or a #! line. */
const NODE_PATH = /^\/[A-Za-z0-9._+@/-]*$/;

/** Why `path` cannot be the interpreter of the installed scripts, or undefined when it can. */
export function checkNodePath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'expected an absolute path';
  if (!NODE_PATH.test(path))
    return 'expected only letters, digits and . _ + @ / - (a #! line cannot hold spaces, and sed must not see | & \\ or a newline)';
  if (path.endsWith('/')) return 'expected a file, not a directory path ending in /';
  if (path.length > MAX_NODE_PATH)
    return `expected at most ${MAX_NODE_PATH} characters (older kernels cut a #! line at 127 bytes)`;
  return undefined;
}

/** The installed first line. */
export function interpreterLine(node: string): string {
  return `#!${node}`;
}

/**
 * The sed expression that rewrites line 1 of the copy: `1s|^#!.*$|#!NODE|`. NODE must have
 * passed checkNodePath (no `|`, `&`, `\` or newline).
 */
export function interpreterSedExpression(node: string): string {
  return `1s|^#!.*$|${interpreterLine(node)}|`;
}

/**
 * What the installed copy holds: `bundle` with its first line, when it starts with `#!`,
 * replaced by `#!NODE` (exactly what interpreterSedExpression does); everything after the
 * first newline unchanged.
 */
export function renderInstalledScript(bundle: string, node: string): string {
  if (!bundle.startsWith('#!')) return bundle;
  const eol = bundle.indexOf('\n');
  return eol === -1 ? interpreterLine(node) : `${interpreterLine(node)}${bundle.slice(eol)}`;
}
