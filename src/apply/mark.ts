import { rmSync } from 'node:fs';
import { runDir, writeFileAtomic } from './state.ts';

/**
 * Antispoofing marks: one file per guest vif under /run/xenplan/antispoof (XENPLAN_RUN_DIR),
 * holding what the last online of that vif applied to nftables (plan/antispoof.ts, markText).
 * /run is emptied at boot, as the nftables ruleset is.
 */
export function markPath(env: Readonly<Record<string, string | undefined>>, name: string): string {
  return `${markDir(env)}/${name}`;
}

export function markDir(env: Readonly<Record<string, string | undefined>>): string {
  return `${runDir(env)}/antispoof`;
}

/** While a transaction is under way: a run killed now leaves a mark that matches nothing. */
export const PENDING_MARK = 'pending\n';

/** Writes the mark atomically (a reader never sees half of one); null removes it. */
export function writeMark(path: string, text: string | null): void {
  if (text === null) {
    rmSync(path, { force: true });
    return;
  }
  writeFileAtomic(path, text);
}
