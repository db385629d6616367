import { applySteps } from '../apply/apply.ts';
import { PENDING_MARK, writeMark } from '../apply/mark.ts';
import { XenplanError } from '../model/error.ts';
import type { Plan } from '../model/plan.ts';
import type { AntispoofChange } from '../plan/antispoof.ts';
import type { Context } from './context.ts';

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
