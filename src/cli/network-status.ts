import { driftPayload, renderReport } from '../apply/report.ts';
import { readRecord, recordedBridges, statePath } from '../apply/state.ts';
import type { StartRecord } from '../model/record.ts';
import { observeHost } from '../observe/host.ts';
import { planNetwork } from '../plan/network.ts';
import { describeStatus, renderStatus } from '../plan/status.ts';
import type { Context } from './context.ts';
import { settingsGiven } from './network-stop.ts';
import { type LoadedSettings, loadSettings, settingsFrom } from './settings.ts';

/** status reads the settings start ran with when given no words (each recorded bridge). */
export async function status(ctx: Context, words: readonly string[], json: boolean): Promise<number> {
  const host = await observeHost(ctx.runner, ctx.files);
  const runs: { loaded: LoadedSettings; record: StartRecord | undefined }[] = [];
  if (settingsGiven(ctx, words)) {
    const loaded = loadSettings(ctx, words);
    const bridge = settingsFrom(loaded, host).desired.bridge.name;
    runs.push({ loaded, record: readRecord(statePath(ctx.env, bridge)) });
  } else {
    for (const bridge of recordedBridges(ctx.env)) {
      const record = readRecord(statePath(ctx.env, bridge));
      const recordedWords = record?.words ?? [`bridge=${bridge}`];
      runs.push({ loaded: loadSettings(ctx, recordedWords), record });
    }
    if (runs.length === 0) runs.push({ loaded: loadSettings(ctx, words), record: undefined });
  }
  let code = 0;
  const reports: unknown[] = [];
  for (const { loaded, record } of runs) {
    const want = settingsFrom(loaded, host).desired;
    const plan = planNetwork(want, host, record);
    const s = describeStatus(want, host, plan, record !== undefined);
    if (!s.converged) code = 3;
    if (json) reports.push({ ...s, drift: driftPayload(plan) });
    else {
      if (runs.length > 1 || (!settingsGiven(ctx, words) && record !== undefined))
        ctx.out(`settings start recorded for ${want.bridge.name}: ${loaded.words.join(' ') || '(none)'}\n`);
      ctx.out(renderStatus(s));
    }
  }
  if (json)
    ctx.out(
      renderReport(
        { command: 'network status', ok: code === 0, changed: false, dryRun: false },
        reports.length === 1 ? (reports[0] as Record<string, unknown>) : { bridges: reports },
      ),
    );
  return code;
}
