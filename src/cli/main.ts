import { createRunner, hotplugPath } from '../apply/exec.ts';
import { renderErrorReport } from '../apply/report.ts';
import { toXenplanError, XenplanError } from '../model/error.ts';
import { realFiles } from '../observe/files.ts';
import type { Context } from './context.ts';
import { dispatch, roleOf } from './dispatch.ts';
import { exitCodeFor, type Role } from './exit.ts';
import { commandOf, wantsJson } from './json.ts';
import { nodeProblem } from './node-version.ts';

/**
 * The bundle's entry: decide the role from the invoked name, run it, map the outcome to an
 * exit code. The only module that reads process state.
 */
async function main(): Promise<void> {
  const invokedAs = process.env.XENPLAN_AS ?? process.argv[1] ?? 'xenplan';
  // The bin/ launchers name the role here; children (the lab's own scripts) must choose theirs.
  delete process.env.XENPLAN_AS;
  const role: Role = roleOf(invokedAs);
  const ctx: Context = {
    argv: process.argv.slice(2),
    env: process.env,
    runner: createRunner({
      env: process.env,
      path: hotplugPath(process.env.PATH),
      engine: role === 'vif' ? 'spawn' : 'execa',
    }),
    files: realFiles,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
  let code: number;
  try {
    // On a Node too old, say which one is needed (vif-script also tells the toolstack).
    const old = nodeProblem(process.versions.node);
    if (old !== undefined && role !== 'vif') throw new XenplanError('environment', old);
    code = await dispatch(ctx, role);
  } catch (thrown) {
    const error: XenplanError = toXenplanError(thrown);
    // With --json the failure is a report too, on stdout where the caller reads the JSON.
    if (wantsJson(ctx.argv)) ctx.out(renderErrorReport(commandOf(role, ctx.argv), error));
    ctx.err(`${nameOf(role)}: ${error.message}\n`);
    if (error.detail) ctx.err(`${nameOf(role)}: ${error.detail}\n`);
    if (error.kind === 'bug' && error.cause instanceof Error && error.cause.stack)
      ctx.err(`${error.cause.stack}\n`);
    code = exitCodeFor(error.kind, role);
  }
  process.exitCode = code;
}

/** How error lines start: the name an admin knows the command by. */
function nameOf(role: Role): string {
  return role === 'vif' ? 'vif-script' : role === 'network' ? 'network-script' : 'xenplan';
}

void main();
