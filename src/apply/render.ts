import type { Plan } from '../model/plan.ts';
import { commentText, renderArgv } from './quote.ts';

export interface RenderOptions {
  /** First comment line, e.g. `xenplan network start: bridge xenbr0`. */
  readonly title: string;
  /** Extra comment lines placed at the top (doctor findings). */
  readonly preamble?: readonly string[];
}

/**
 * Plan → POSIX sh script an admin could run by hand. Byte-stable: no times, no host names.
 * Apply runs exactly these argvs.
 */
export function renderScript(plan: Plan, options: RenderOptions): string {
  const lines = ['#!/bin/sh', `# ${commentText(options.title)}`];
  for (const line of options.preamble ?? []) lines.push(`# ${commentText(line)}`);
  for (const warning of plan.warnings) lines.push(`# warning: ${commentText(warning)}`);
  if (plan.steps.length === 0) lines.push('# nothing to do: the host already matches (0 steps)');
  else lines.push(`# ${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}`);
  lines.push('set -e');
  for (const step of plan.steps) {
    const marker = step.disruptive ? ' (interrupts traffic)' : '';
    lines.push(`# [${step.phase}] ${commentText(step.reason)}${marker}`);
    lines.push(renderArgv(step.argv));
  }
  for (const write of plan.xenstore)
    lines.push(
      `# then xenstore: ${commentText(renderArgv(['xenstore-write', write.path, write.value]))}  # ${commentText(write.reason)}`,
    );
  return `${lines.join('\n')}\n`;
}
