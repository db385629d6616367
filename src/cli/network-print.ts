import { renderScript } from '../apply/render.ts';
import { planPayload, renderReport } from '../apply/report.ts';
import type { Finding } from '../model/finding.ts';
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
  extra: { command: string; bridge: string; findings?: readonly Finding[] },
  comments: readonly string[] = [],
): void {
  if (json)
    ctx.out(
      renderReport(
        { command: `network ${extra.command}`, ok: true, changed: false, dryRun: true },
        { bridge: extra.bridge, ...planPayload(plan, extra.findings) },
      ),
    );
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

/** What an apply did, for --json: the steps it ran (none when the host already matched). */
export function printApplied(
  ctx: Context,
  command: string,
  bridge: string,
  plan: Plan,
  findings?: readonly Finding[],
): void {
  ctx.out(
    renderReport(
      { command: `network ${command}`, ok: true, changed: plan.steps.length > 0, dryRun: false },
      { bridge, ...planPayload(plan, findings) },
    ),
  );
}
