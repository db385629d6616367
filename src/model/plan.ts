/**
 * A Plan is data: an ordered list of Steps, each one command as an argv array with the
 * reason it is needed. Dry-run renders exactly the Steps that apply runs.
 */
export type Phase =
  | 'bond'
  | 'slave'
  | 'bridge'
  | 'port'
  | 'link'
  | 'address'
  | 'route'
  | 'sysctl'
  | 'vif'
  | 'firewall'
  | 'install';

export interface Step {
  /** Stable key, e.g. `link:vif5.0:master`: unique within a plan, the same from run to run. */
  readonly id: string;
  readonly phase: Phase;
  /** The command, never a shell string. */
  readonly argv: readonly string[];
  /** Why: `bond0 mode: want active-backup, have balance-rr`. */
  readonly reason: string;
  /** True when the step interrupts traffic (link down, enslave, address move). */
  readonly disruptive: boolean;
  /** What the command reads on stdin (an `nft -f -` transaction), when it reads anything. */
  readonly input?: string;
}

/** A xenstore write the event makes besides its Steps (shown as a comment in dry-run). */
export interface XenstoreWrite {
  readonly path: string;
  readonly value: string;
  readonly reason: string;
}

export interface Plan {
  readonly steps: readonly Step[];
  readonly warnings: readonly string[];
  /** Writes done after the steps succeed (frontend mtu, hotplug-status). */
  readonly xenstore: readonly XenstoreWrite[];
}

export function emptyPlan(): Plan {
  return { steps: [], warnings: [], xenstore: [] };
}

export function makePlan(
  steps: readonly Step[],
  warnings: readonly string[] = [],
  xenstore: readonly XenstoreWrite[] = [],
): Plan {
  return { steps, warnings, xenstore };
}

export function isConverged(plan: Plan): boolean {
  return plan.steps.length === 0;
}
