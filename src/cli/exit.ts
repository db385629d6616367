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

export const EXIT_HELP = `Exit codes:
  0   success (or nothing to do)
  1   a step failed, or the host still differed after applying (vif-script and
      network-script exit 1 for every failure, as Xen expects)
  2   usage: unknown command or option
  3   status: the host drifted from the desired settings
  4   configuration: a setting or value is invalid (nothing was changed)
  5   environment: a tool is missing, not root, or the kernel refused to be read
  6   xenstore could not be reached or answered with an error
  70  internal error (a bug: please report it)`;
