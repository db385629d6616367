import { XenplanError } from '../model/error.ts';
import type { Runner } from '../model/ports.ts';

/** The oldest Node the bundle runs on (package.json engines; esbuild targets it). */
export const MIN_NODE = [18, 19] as const;
const MIN_TEXT = `${MIN_NODE[0]}.${MIN_NODE[1]}`;

/**
 * Why `version` (as `process.versions.node` or `node --version` print it) cannot run the
 * bundle, or undefined when it can. Pure.
 */
export function nodeProblem(version: string): string | undefined {
  const m = /^v?([0-9]+)\.([0-9]+)\.[0-9]+/.exec(version.trim());
  if (m === null) return `cannot tell which Node this is (${JSON.stringify(version.trim())})`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) return undefined;
  return `Node ${major}.${minor} is too old: xenplan needs Node ${MIN_TEXT} or later (official Node 18 builds need glibc 2.28 or later)`;
}

/** install --node: asks the node it is given for its version before naming it in #! lines. */
export async function checkNodeVersion(runner: Runner, node: string): Promise<void> {
  const result = await runner.run([node, '--version']);
  const problem =
    result.exitCode !== 0
      ? `it did not run (exit ${result.exitCode}: ${result.stderr.trim().split('\n')[0] ?? ''})`
      : nodeProblem(result.stdout);
  if (problem !== undefined)
    throw new XenplanError('config', `--node ${node}: ${problem}; name a newer node with --node PATH`);
}
