import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { renderReport } from '../apply/report.ts';
import { runDir } from '../apply/state.ts';
import { XenplanError } from '../model/error.ts';
import type { Context } from './context.ts';
import { settingsBridge } from './settings.ts';

/**
 * `--confirm=SECONDS`: start applies, leaves `confirm-<bridge>.pending` holding its pid and waits
 * for `xenplan confirm` to turn it into `confirm-<bridge>.ok`; no answer in time → roll back.
 */
export function confirmPaths(env: Context['env'], bridge: string): { pending: string; ok: string } {
  const base = `${runDir(env)}/confirm-${bridge}`;
  return { pending: `${base}.pending`, ok: `${base}.ok` };
}

/** `--confirm=SECONDS`: whole seconds from 1 to 3600; undefined when not given. */
export function parseConfirmSeconds(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^[0-9]{1,4}$/.test(text) || Number(text) < 1 || Number(text) > 3600)
    throw new XenplanError('usage', `--confirm=${text}: expected whole seconds from 1 to 3600`);
  return Number(text);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits up to `seconds` for a confirmation. True when it came. Cleans both files either way. */
export async function waitForConfirm(env: Context['env'], bridge: string, seconds: number): Promise<boolean> {
  const paths = confirmPaths(env, bridge);
  rmSync(paths.ok, { force: true });
  writeFileSync(paths.pending, `${process.pid}\n`);
  const deadline = Date.now() + seconds * 1000;
  try {
    for (;;) {
      if (existsSync(paths.ok)) return true;
      if (Date.now() >= deadline) return false;
      await sleep(100);
    }
  } finally {
    rmSync(paths.pending, { force: true });
    rmSync(paths.ok, { force: true });
  }
}

/** `xenplan confirm [bridge=NAME]`: keep what a `start --confirm` just applied. */
export function runConfirm(ctx: Context, words: readonly string[], json = false): number {
  const bridge = settingsBridge(ctx, words);
  const paths = confirmPaths(ctx.env, bridge);
  if (!existsSync(paths.pending))
    throw new XenplanError(
      'usage',
      `nothing is waiting for confirmation on ${bridge} (no ${paths.pending}); confirm answers a running network-script start --confirm=SECONDS`,
    );
  writeFileSync(paths.ok, `${process.pid}\n`);
  ctx.out(
    json
      ? renderReport({ command: 'network confirm', ok: true, changed: false, dryRun: false }, { bridge })
      : `confirmed: network-script start on ${bridge} keeps its changes\n`,
  );
  return 0;
}

export function bridgeWord(words: readonly string[]): string {
  const word = [...words].reverse().find((w) => w.startsWith('bridge='));
  const value = word?.slice('bridge='.length) ?? 'xenbr0';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,14}$/.test(value))
    throw new XenplanError(
      'config',
      `bridge=${value}: expected an interface name (letters, digits, . _ + -)`,
    );
  return value;
}
