import { applyAndVerify } from '../apply/converge.ts';
import { acquireLock, lockPath } from '../apply/lock.ts';
import { readRecord, recordedBridges, removeRecord, statePath } from '../apply/state.ts';
import { emptyPlan, type Plan } from '../model/plan.ts';
import { observeHost } from '../observe/host.ts';
import { planNetworkStop } from '../plan/network-stop.ts';
import type { Context } from './context.ts';
import { elapsed, logNetwork } from './network-log.ts';
import { type NetworkOptions, printApplied, printPlan } from './network-print.ts';
import { hasConfigSettings, type LoadedSettings, loadSettings, settingsFrom } from './settings.ts';

/** How long start and stop wait for another network-script's lock. */
export const LOCK_WAIT_MS = 60_000;

/**
 * The bridges stop and status act on: the one the words name (bridge=, config=, ifcfg=, read as
 * start reads them); with no words, every bridge start recorded (xenbr0 when none).
 */
export function bridgesFor(ctx: Context, loaded: LoadedSettings | undefined): string[] {
  if (loaded !== undefined) return [settingsFrom(loaded, undefined).desired.bridge.name];
  const recorded = recordedBridges(ctx.env);
  return recorded.length === 0 ? ['xenbr0'] : recorded;
}

const hasWords = (words: readonly string[]) => words.some((w) => w !== '');

/** Settings were given: words, or a config file (XENPLAN_CONFIG, /etc/xen/xenplan.conf) that says something. */
export const settingsGiven = (ctx: Context, words: readonly string[]) =>
  hasWords(words) || hasConfigSettings(ctx);

/** network-script stop: undo what start recorded, for each bridge it acts on, under the lock. */
export async function stop(
  ctx: Context,
  words: readonly string[],
  options: NetworkOptions,
  began: number,
): Promise<number> {
  const loaded = settingsGiven(ctx, words) ? loadSettings(ctx, words) : undefined;
  const bridges = bridgesFor(ctx, loaded);
  if (bridges.length > 1 && !options.json)
    ctx.err(`network-script: stop with no settings: undoing every recorded bridge: ${bridges.join(', ')}\n`);
  if (options.dryRun) {
    const host = await observeHost(ctx.runner, ctx.files);
    for (const bridge of bridges) {
      const record = readRecord(statePath(ctx.env, bridge));
      const plan =
        record === undefined ? { steps: [], warnings: [], xenstore: [] } : planNetworkStop(record, host);
      printPlan(ctx, plan, options.json, `network-script stop: ${bridge}`, { command: 'stop', bridge });
    }
    return 0;
  }
  // The record is read under the lock: a start running now finishes (and records) first.
  const release = await acquireLock(lockPath(ctx.env), LOCK_WAIT_MS);
  try {
    const undone: Plan[] = [];
    for (const bridge of bridges) undone.push(await stopBridge(ctx, bridge, began, options.json));
    if (options.json)
      printApplied(ctx, 'stop', bridges.join(','), {
        ...emptyPlan(),
        steps: undone.flatMap((plan) => plan.steps),
      });
    return 0;
  } finally {
    release();
  }
}

/** Undoes one bridge's record; the steps it ran. */
async function stopBridge(ctx: Context, bridge: string, began: number, json: boolean): Promise<Plan> {
  const observe = () => observeHost(ctx.runner, ctx.files);
  const path = statePath(ctx.env, bridge);
  const record = readRecord(path);
  if (record === undefined) {
    if (!json) ctx.out(`${bridge}: start recorded nothing (no ${path}); nothing to undo\n`);
    return emptyPlan();
  }
  const plan = planNetworkStop(record, await observe());
  const result = await applyAndVerify(ctx.runner, plan, async () => planNetworkStop(record, await observe()));
  removeRecord(path);
  logNetwork(ctx, `stop ${bridge}: ${result.done.length} step(s) undone in ${elapsed(began)}`);
  if (!json) ctx.out(`${bridge}: ${result.done.length} step(s) undone; what start created is gone\n`);
  return { ...plan, steps: plan.steps.filter((step) => result.done.includes(step.id)) };
}
