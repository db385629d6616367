import { appendFileSync, mkdirSync } from 'node:fs';

/**
 * The hotplug log Xen's scripts share: one line per event in <dir>/xen-hotplug.log
 * (/var/log/xen unless XENPLAN_LOG_DIR says otherwise). Written without a process. A log
 * that cannot be written never fails the event.
 */
export function logDir(env: Readonly<Record<string, string | undefined>>): string {
  return env.XENPLAN_LOG_DIR || '/var/log/xen';
}

export function appendHotplugLog(dir: string, line: string, now: Date): string | undefined {
  const text = `${now.toISOString()} ${line.replace(/\n/g, '\n    ')}\n`;
  try {
    mkdirSync(dir, { recursive: true });
    appendFileSync(`${dir}/xen-hotplug.log`, text);
    return undefined;
  } catch (error) {
    return `cannot write ${dir}/xen-hotplug.log: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  }
}
