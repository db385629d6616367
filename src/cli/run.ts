import { renderErrorReport } from '../apply/report.ts';
import { toXenplanError, XenplanError } from '../model/error.ts';
import type { Context } from './context.ts';
import { dispatch } from './dispatch.ts';
import { exitCodeFor, type Role } from './exit.ts';
import { commandOf, wantsJson } from './json.ts';
import { nodeProblem } from './node-version.ts';

/**
 * One command from start to exit code: dispatch, then every error as the lines an admin
 * reads and the code its caller expects. The bundle's main and the agent (one event each)
 * both end here, so the two paths print and exit alike.
 */
export async function runRole(ctx: Context, role: Role, invokedAs = ''): Promise<number> {
  try {
    // On a Node too old, say which one is needed (vif-script also tells the toolstack).
    const old = nodeProblem(process.versions.node);
    if (old !== undefined && role !== 'vif') throw new XenplanError('environment', old);
    return await dispatch(ctx, role, invokedAs);
  } catch (thrown) {
    const error: XenplanError = toXenplanError(thrown);
    // With --json the failure is a report too, on stdout where the caller reads the JSON.
    if (wantsJson(ctx.argv)) ctx.out(renderErrorReport(commandOf(role, ctx.argv), error));
    ctx.err(`${nameOf(role)}: ${error.message}\n`);
    if (error.detail) ctx.err(`${nameOf(role)}: ${error.detail}\n`);
    if (error.kind === 'bug' && error.cause instanceof Error && error.cause.stack)
      ctx.err(`${error.cause.stack}\n`);
    return exitCodeFor(error.kind, role);
  }
}

/** How error lines start: the name an admin knows the command by. */
function nameOf(role: Role): string {
  return role === 'vif' ? 'vif-script' : role === 'network' ? 'network-script' : 'xenplan';
}
