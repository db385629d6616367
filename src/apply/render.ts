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
  // The steps run in a subshell with set -e: a failing step stops the steps after it, and
  // the script exits non-zero under sh, but pasted into an admin's interactive shell (an SSH
  // session) it ends only the subshell, never the session.
  if (plan.steps.length > 0) lines.push('( set -e');
  for (const step of plan.steps) {
    const marker = step.disruptive ? ' (interrupts traffic)' : '';
    lines.push(`# [${step.phase}] ${commentText(step.reason)}${marker}`);
    if (step.input === undefined) lines.push(renderArgv(step.argv));
    else lines.push(...hereDocument(renderArgv(step.argv), step.input));
  }
  if (plan.steps.length > 0) lines.push(')');
  for (const write of plan.xenstore)
    lines.push(
      `# then xenstore: ${commentText(renderArgv(['xenstore-write', write.path, write.value]))}  # ${commentText(write.reason)}`,
    );
  return `${lines.join('\n')}\n`;
}

/** The marker ending a here-document: never a line of what it holds. */
const HERE_END = 'XENPLAN_INPUT';

/** `cmd <<'END'` + the input verbatim (quoted: the shell expands nothing in it) + END. */
function hereDocument(command: string, input: string): string[] {
  const body = input.endsWith('\n') ? input.slice(0, -1) : input;
  let end = HERE_END;
  while (body.split('\n').includes(end)) end = `${end}_`;
  return [`${command} <<'${end}'`, ...body.split('\n'), end];
}
