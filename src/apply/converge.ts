import { XenplanError } from '../model/error.ts';
import type { Plan } from '../model/plan.ts';
import type { Runner } from '../model/ports.ts';
import { type ApplyReport, applySteps } from './apply.ts';

/**
 * Apply a plan, then observe and plan again: what is left is a verification error. The
 * caller passes `replan` (observe → plan), so this module needs neither layer.
 */
export async function applyAndVerify(
  runner: Runner,
  plan: Plan,
  replan: () => Promise<Plan>,
): Promise<ApplyReport & { verified: Plan }> {
  const report = await applySteps(runner, plan.steps);
  const verified = await replan();
  if (verified.steps.length > 0)
    throw new XenplanError(
      'verify',
      `applied ${report.done.length} step(s) but the host still differs: ${verified.steps.map((s) => s.reason).join('; ')}`,
    );
  return { ...report, verified };
}
