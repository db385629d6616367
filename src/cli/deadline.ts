/**
 * One deadline per hotplug event. libxl SIGKILLs a hotplug script after 40 s (Xen 4.6+), and
 * a killed script reports nothing; so every wait of an event (connecting to xenstored, its
 * replies, network-script's lock, `ip`) draws from one budget that ends well before, and the
 * last part of it is kept for writing the failure report.
 */
export const EVENT_DEADLINE_MS = 30_000;
/** Kept back from the work for the report: a fresh connection and one transaction. */
export const REPORT_RESERVE_MS = 5_000;

export interface EventDeadline {
  /** Epoch ms when the event must be over, report included. */
  readonly end: number;
  /** Epoch ms when the work must stop, so the report still fits. */
  readonly workEnd: number;
  /** Ms left for the work (never below 0). */
  workLeft(): number;
}

/** The deadline of an event that started at `started` (epoch ms; the process's start). */
export function eventDeadline(started: number, now: () => number = Date.now): EventDeadline {
  const end = started + EVENT_DEADLINE_MS;
  const workEnd = end - REPORT_RESERVE_MS;
  return { end, workEnd, workLeft: () => Math.max(0, workEnd - now()) };
}
