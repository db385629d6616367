import type { ErrorKind } from '../model/error.ts';

/** How a run ended, for exit codes: an error kind, or a status report that found drift. */
export type Outcome = ErrorKind | 'ok' | 'drift';

/** Exit codes of `xenplan`. Xen's callers (vif-script, network-script) get 0/1 (and 3 for drift). */
export const EXIT_CODES: Readonly<Record<Outcome, number>> = {
  ok: 0,
  apply: 1,
  verify: 1,
  usage: 2,
  drift: 3,
  config: 4,
  environment: 5,
  xenstore: 6,
  bug: 70,
};

export type Role = 'xenplan' | 'vif' | 'network';

export function exitCodeFor(outcome: Outcome, role: Role): number {
  if (role === 'xenplan') return EXIT_CODES[outcome];
  if (outcome === 'ok') return 0;
  if (outcome === 'drift') return 3;
  return 1;
}

/** The exit codes a role returns, as help lines: a role's help lists only its own codes. */
export function exitHelp(role: Role): string {
  if (role === 'vif')
    return `Exit codes:
  0   success: the vif is attached (or detached; a device already gone is fine)
  1   any failure; for online and add, hotplug-error and hotplug-status=error
      were written first (what libxl and xend read)`;
  if (role === 'network')
    return `Exit codes:
  0   success (or nothing to do); status: the host matches the settings
  1   any failure (as Xen expects); the reason is on stderr
  3   status: the host drifted from the settings`;
  return EXIT_HELP;
}

export const EXIT_HELP = `Exit codes:
  0   success (or nothing to do)
  1   a step failed, or the host still differed after applying
  2   usage: unknown command or option
  3   status: the host drifted from the desired settings
  4   configuration: a setting or value is invalid (nothing was changed)
  5   environment: a tool is missing, not root, or the kernel refused to be read
  6   xenstore could not be reached or answered with an error
  70  internal error (a bug: please report it)`;
