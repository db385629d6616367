import { appendHotplugLog, logDir } from '../xen/log.ts';
import type { Context } from './context.ts';

/** Seconds since `since`, for log lines: `1.2 s`. */
export const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** logger(1) must not hold up a network-script that is already failing. */
const LOGGER_MS = 2_000;

/**
 * One line per start, stop and rollback in xen-hotplug.log, the log vif-script writes (and Xen's
 * scripts did): where Xen admins look. A log that cannot be written is said on stderr only.
 */
export function logNetwork(ctx: Context, line: string): void {
  const problem = appendHotplugLog(logDir(ctx.env), `network-script ${line}`, new Date());
  if (problem) ctx.err(`network-script: ${problem}\n`);
}

/** A failure: the hotplug log, and syslog (daemon.err, tag network-script) through logger(1). */
export async function logNetworkFailure(ctx: Context, line: string): Promise<void> {
  logNetwork(ctx, line);
  await ctx.runner
    .run(
      ['logger', '-p', 'daemon.err', '-t', 'network-script', '--', `network-script ${line.split('\n')[0]!}`],
      undefined,
      {
        timeoutMs: LOGGER_MS,
      },
    )
    .catch(() => undefined);
}
