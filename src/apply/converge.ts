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
  checkConverged(report.done.length, verified);
  return { ...report, verified };
}

/** After applying `applied` steps, a fresh plan must be empty; what is left is a verify error. */
export function checkConverged(applied: number, verified: Plan, detail?: string): void {
  if (verified.steps.length === 0) return;
  throw new XenplanError(
    'verify',
    `applied ${applied} step(s) but the host still differs: ${verified.steps.map((s) => s.reason).join('; ')}`,
    detail === undefined ? {} : { detail },
  );
}
