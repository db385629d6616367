import { applySteps } from '../apply/apply.ts';
import { markPath, PENDING_MARK, writeMark } from '../apply/mark.ts';
import { XenplanError } from '../model/error.ts';
import { findLink, type HostState } from '../model/host.ts';
import type { Plan } from '../model/plan.ts';
import {
  type AntispoofChange,
  planAntispoofOffline,
  planAntispoofOnline,
  withFilter,
} from '../plan/antispoof.ts';
import type { Context } from './context.ts';
import type { ModeEvent } from './vif-routed.ts';

/**
 * Applies a plan holding an antispoofing change, recording its mark: pending before (a run
 * killed mid-way leaves a mark that matches nothing, so the next online replaces the rules and
 * an offline still removes them), the applied transaction after.
 */
export async function applyWithMark(
  ctx: Context,
  plan: Plan,
  filter: AntispoofChange,
  mark: string,
): Promise<void> {
  if (filter.mark !== undefined && filter.mark !== null) writeMark(mark, PENDING_MARK);
  try {
    await applySteps(ctx.runner, plan.steps);
  } catch (error) {
    // A host without nftables: say what to do rather than "nft: ENOENT".
    if (
      error instanceof XenplanError &&
      error.stepId?.startsWith('antispoof:') &&
      /nft: ENOENT/.test(error.message)
    )
      throw new XenplanError(
        'environment',
        'antispoofing (vif-antispoof, /etc/xen/xenplan.conf) needs nft, which is not installed: install nftables, or set vif-antispoof=off',
        { stepId: error.stepId },
      );
    throw error;
  }
  if (filter.mark !== undefined) writeMark(mark, filter.mark);
}

/**
 * The guest's antispoofing change on its vif's ingress (netdev table: no Linux bridge to
 * hook), spliced into the mode's plan; with the mark to record once applied.
 */
export function filtered(event: ModeEvent, host: HostState, plan: Plan, tagged: readonly number[] = []) {
  const { ctx, who, backend } = event;
  const guest = {
    name: who.name,
    ...(backend.mac === undefined ? {} : { mac: backend.mac }),
    ips: backend.ips,
    tagged,
  };
  const ifindex = (findLink(host, who.name) ?? findLink(host, who.dev))?.ifindex ?? 0;
  const mark = markPath(ctx.env, who.name);
  const filter = planAntispoofOnline(event.antispoof, guest, ifindex, ctx.files.read(mark), 'netdev');
  return { plan: withFilter(plan, filter.steps, who.dev), filter, mark };
}

/** offline / remove: the guest's netdev rules, when an online left a mark; after `plan`. */
export function unfiltered(ctx: Context, name: string) {
  const mark = markPath(ctx.env, name);
  return { filter: planAntispoofOffline(name, ctx.files.read(mark), 'netdev'), mark };
}
