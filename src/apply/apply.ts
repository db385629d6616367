import { XenplanError } from '../model/error.ts';
import type { Step } from '../model/plan.ts';
import type { Runner } from '../model/ports.ts';
import { renderArgv } from './quote.ts';

export interface ApplyReport {
  /** Ids of the steps that ran successfully, in order. */
  readonly done: readonly string[];
  /** Child processes started. */
  readonly processes: number;
}

/** A word ip's batch reader takes literally: no quotes, backslashes, comment signs or blanks. */
const BATCH_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Programs with a `-batch -` mode reading one command a line (iproute2's ip and bridge). */
const BATCH_PROGRAMS = ['ip', 'bridge'];

function batchable(step: Step): boolean {
  return (
    step.input === undefined &&
    BATCH_PROGRAMS.includes(step.argv[0]!) &&
    step.argv.length > 1 &&
    step.argv.slice(1).every((w) => BATCH_WORD.test(w))
  );
}

/** Groups consecutive batchable steps of the same program; everything else runs alone. */
export function groupSteps(steps: readonly Step[]): Step[][] {
  const groups: Step[][] = [];
  for (const step of steps) {
    const last = groups[groups.length - 1];
    const head = last?.[0];
    if (last && head && batchable(step) && batchable(head) && head.argv[0] === step.argv[0]) last.push(step);
    else groups.push([step]);
  }
  return groups;
}

/**
 * Runs the steps in order, consecutive `ip` (or `bridge`) steps as one `ip -batch -`. Stops at the first
 * failure with an apply error naming the Step and the command's own error text.
 */
export async function applySteps(runner: Runner, steps: readonly Step[]): Promise<ApplyReport> {
  const done: string[] = [];
  let processes = 0;
  for (const group of groupSteps(steps)) {
    processes += 1;
    if (group.length === 1) {
      const step = group[0]!;
      const result = await runner.run(step.argv, step.input);
      if (result.exitCode !== 0) throw failure(step, result.stderr || result.stdout, done);
      done.push(step.id);
      continue;
    }
    const input = `${group.map((s) => s.argv.slice(1).join(' ')).join('\n')}\n`;
    const result = await runner.run([group[0]!.argv[0]!, '-batch', '-'], input);
    if (result.exitCode === 0) {
      done.push(...group.map((s) => s.id));
      continue;
    }
    // ip stops at the first failing line and says "Command failed -:N".
    const line = /Command failed -:(\d+)/.exec(result.stderr);
    const index = line ? Number(line[1]) - 1 : 0;
    done.push(...group.slice(0, index).map((s) => s.id));
    const failed = group[Math.min(index, group.length - 1)]!;
    const text = result.stderr
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('Command failed'))
      .join('; ');
    throw failure(failed, text, done);
  }
  return { done, processes };
}

function failure(step: Step, text: string, done: readonly string[]): XenplanError {
  const why = text.trim() || 'failed with no message';
  return new XenplanError('apply', `step ${step.id} failed: ${renderArgv(step.argv)}: ${why}`, {
    stepId: step.id,
    detail: `steps done before it: ${done.length === 0 ? 'none' : done.join(', ')}`,
  });
}
