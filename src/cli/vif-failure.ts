/**
 * How a failed vif-script online/add tells the toolstack and the admin: hotplug-error and
 * hotplug-status=error in xenstore (src/xen/report.ts), one line in the hotplug log, one in
 * syslog. Where there is nowhere to write (no xenstore, no usable XENBUS_PATH), the log and
 * syslog lines say so.
 */
import type { XenplanError } from '../model/error.ts';
import { backendPathProblem, commandWord, parseBackendPath } from '../xen/hotplug.ts';
import { appendHotplugLog, logDir } from '../xen/log.ts';
import { reportHotplugError } from '../xen/report.ts';
import type { XenstoreClient } from '../xen/xs-connection.ts';
import type { Context } from './context.ts';
import type { EventDeadline } from './deadline.ts';

/** syslog gets its line within this (or what is left of the event), never more. */
const LOGGER_MS = 2_000;

export function logLine(ctx: Context, line: string): void {
  const problem = appendHotplugLog(logDir(ctx.env), line, new Date());
  if (problem) ctx.err(`vif-script: ${problem}\n`);
}

async function syslog(ctx: Context, line: string, deadline: EventDeadline): Promise<void> {
  const timeoutMs = Math.min(LOGGER_MS, deadline.end - Date.now());
  if (timeoutMs <= 0) return;
  await ctx.runner
    .run(['logger', '-p', 'daemon.err', '-t', 'vif-script', '--', line.split('\n')[0]!], undefined, {
      timeoutMs,
    })
    .catch(() => undefined);
}

/** Every failure of online/add: the report in xenstore first (the toolstack waits for it), then the logs. */
export async function reportFailure(
  ctx: Context,
  xs: XenstoreClient | undefined,
  backend: string,
  error: XenplanError,
  deadline: EventDeadline,
): Promise<void> {
  const line = `vif-script failed for ${backend}: ${error.message}${error.detail ? `\n${error.detail}` : ''}`;
  logLine(ctx, line);
  const unreported = await reportHotplugError(ctx.env, xs, backend, error.message, deadline.end);
  if (unreported) {
    const note = `vif-script: could not report the failure in xenstore: ${unreported}`;
    ctx.err(`${note}\n`);
    logLine(ctx, note);
  }
  await syslog(ctx, line, deadline);
}

/**
 * A request that could not be parsed still reports, when it was an online/add whose
 * XENBUS_PATH passes the parser's own check; with any other path there is no directory to
 * report in (guessing one could write into another guest's), so only the logs say it.
 */
export async function reportEarlyFailure(
  ctx: Context,
  args: readonly string[],
  error: XenplanError,
  deadline: EventDeadline,
): Promise<void> {
  const command = commandWord(args);
  const dryRun = args.includes('--dry-run') || ctx.env.XENPLAN_DRY_RUN === '1';
  if ((command !== 'online' && command !== 'add') || dryRun) return;
  const path = ctx.env.XENBUS_PATH;
  if (path && parseBackendPath(path)) {
    await reportFailure(ctx, undefined, path, error, deadline);
    return;
  }
  const where =
    path === undefined || path === ''
      ? 'XENBUS_PATH is not set'
      : error.message.startsWith(backendPathProblem(path))
        ? 'there is no backend directory to report in'
        : backendPathProblem(path);
  const line = `vif-script ${command} failed: ${error.message}; not reported in xenstore: ${where}`;
  logLine(ctx, line);
  await syslog(ctx, line, deadline);
}
