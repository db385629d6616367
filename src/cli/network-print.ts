import { renderJson, renderScript } from '../apply/render.ts';
import type { Plan } from '../model/plan.ts';
import type { Context } from './context.ts';

/** The flags start and stop take. */
export interface NetworkOptions {
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly confirm: number | undefined;
}

/** A plan as dry-run prints it: a POSIX sh script (disruptive steps counted first), or JSON. */
export function printPlan(
  ctx: Context,
  plan: Plan,
  json: boolean,
  title: string,
  extra: Record<string, unknown> = {},
  comments: readonly string[] = [],
): void {
  if (json) ctx.out(renderJson(plan, extra));
  else {
    const disruptive = plan.steps.filter((s) => s.disruptive).length;
    const preamble = [
      ...comments,
      ...(disruptive === 0
        ? []
        : [`${disruptive} step(s) interrupt traffic; they are marked (interrupts traffic)`]),
    ];
    ctx.out(renderScript(plan, { title, preamble }));
  }
}
