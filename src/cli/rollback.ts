/**
 * Undoing a start that failed part way, lost the default gateway, or was not confirmed: apply
 * the stop plan of what this start recorded, put the state file back as it was, and throw.
 */
import { applySteps } from '../apply/apply.ts';
import { removeRecord, writeRecord } from '../apply/state.ts';
import { toXenplanError, XenplanError } from '../model/error.ts';
import type { StartRecord } from '../model/record.ts';
import { observeHost } from '../observe/host.ts';
import { planNetworkStop } from '../plan/network-stop.ts';
import type { Context } from './context.ts';

/** What start knows to roll back: its own record, the state file, and what it held before. */
export interface StartUndo {
  readonly record: StartRecord;
  readonly previous: StartRecord | undefined;
  readonly path: string;
}

/** Rolls start back and throws a verify error saying why (an apply error if undoing fails). */
export async function rollBackStart(ctx: Context, start: StartUndo, why: string): Promise<never> {
  const { record, previous, path } = start;
  const undo = planNetworkStop(record, await observeHost(ctx.runner, ctx.files));
  try {
    await applySteps(ctx.runner, undo.steps);
  } catch (thrown) {
    const error = toXenplanError(thrown);
    throw new XenplanError('apply', `${why}; rolling back failed too: ${error.message}`, {
      detail: `state kept in ${path}; network-script stop undoes the rest`,
    });
  }
  if (previous === undefined) removeRecord(path);
  else writeRecord(path, previous);
  throw new XenplanError(
    'verify',
    `${why}; rolled back (${undo.steps.length} step(s)): the host is as it was before start`,
  );
}
