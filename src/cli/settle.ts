import type { NetworkDesired } from '../model/network.ts';
import type { FileReader } from '../model/ports.ts';
import { portsToForward, type SettleBudget } from '../plan/settle.ts';

/** Bridge port states as /sys/class/net/BR/brif/PORT/state has them (BR_STATE_*). */
const PORT_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];

export interface Settled {
  readonly ok: boolean;
  /** What start waited for, in words. */
  readonly waitedFor: string;
  /** What it saw last, in words. */
  readonly saw: string;
}

function look(files: FileReader, want: NetworkDesired): { ok: boolean; saw: string[] } {
  const saw: string[] = [];
  let ok = true;
  const read = (path: string) => files.read(path)?.trim();
  if (want.bond !== undefined) {
    const bond = want.bond.name;
    const active = read(`/sys/class/net/${bond}/bonding/active_slave`) ?? '';
    const slaves = (read(`/sys/class/net/${bond}/bonding/slaves`) ?? '').split(/\s+/).filter(Boolean);
    const mode = read(`/sys/class/net/${bond}/bonding/mode`) ?? '';
    // Only active-backup, balance-tlb and balance-alb name an active slave.
    const carrying = /^(active-backup|balance-tlb|balance-alb)\b/.test(mode)
      ? active === ''
        ? []
        : [active]
      : slaves;
    const withCarrier = carrying.filter((s) => read(`/sys/class/net/${s}/carrier`) === '1');
    if (withCarrier.length === 0) ok = false;
    saw.push(
      carrying.length === 0
        ? `${bond} has no active slave`
        : `${bond}: ${carrying.map((s) => `${s} carrier ${withCarrier.includes(s) ? 'up' : 'down'}`).join(', ')}`,
    );
  }
  for (const port of portsToForward(want)) {
    const state = read(`/sys/class/net/${want.bridge.name}/brif/${port}/state`);
    const name = state === undefined ? 'not a port' : (PORT_STATES[Number(state)] ?? `state ${state}`);
    if (name !== 'forwarding') ok = false;
    saw.push(`${port} ${name} in ${want.bridge.name}`);
  }
  return { ok, saw };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits, at most the budget, until the bond has an active slave with carrier and the uplink
 * forwards in the bridge (polling /sys every 100 ms); says what it waited for and saw.
 */
export async function waitForLinks(
  files: FileReader,
  want: NetworkDesired,
  budget: SettleBudget,
): Promise<Settled> {
  const wants = [
    ...(want.bond === undefined ? [] : [`${want.bond.name} to have an active slave with carrier`]),
    ...portsToForward(want).map((p) => `${p} to forward in ${want.bridge.name}`),
  ];
  const waitedFor = `${wants.join(' and ')} (up to ${(budget.ms / 1000).toFixed(1)} s: ${budget.parts.join(' + ')})`;
  const deadline = Date.now() + budget.ms;
  for (;;) {
    const { ok, saw } = look(files, want);
    if (ok || Date.now() >= deadline) return { ok, waitedFor, saw: saw.join(', ') };
    await sleep(100);
  }
}
