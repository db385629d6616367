import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { XenplanError } from '../model/error.ts';
import type { SettingChange, StartRecord } from '../model/record.ts';

/**
 * The record of what `network-script start` created, one JSON file per bridge under
 * /run/xenplan (or XENPLAN_RUN_DIR): /run is emptied at boot, as the devices are.
 */
export function runDir(env: Readonly<Record<string, string | undefined>>): string {
  return env.XENPLAN_RUN_DIR || '/run/xenplan';
}

export function statePath(env: Readonly<Record<string, string | undefined>>, bridge: string): string {
  return `${runDir(env)}/network-${bridge}.json`;
}

/** The record, or undefined when start never ran (or stop already undid it). */
export function readRecord(path: string): StartRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new XenplanError('environment', `cannot read ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!isRecord(value))
    throw new XenplanError(
      'environment',
      `${path} is not a network-script state file (expected JSON with version 1); remove it if start never ran`,
    );
  // Files written before start recorded changed settings have no list: nothing to put back.
  return { ...value, settings: value.settings ?? [] };
}

/** A record as stored: `settings` may be missing (older files). */
type StoredRecord = Omit<StartRecord, 'settings'> & { readonly settings?: readonly SettingChange[] };

function isRecord(value: unknown): value is StoredRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    r.version === 1 &&
    typeof r.bridge === 'string' &&
    ['created', 'enslaved', 'addresses', 'routes', 'sysctls'].every((k) => Array.isArray(r[k])) &&
    (r.settings === undefined || (Array.isArray(r.settings) && r.settings.every(isSettingChange))) &&
    (r.words === undefined || (Array.isArray(r.words) && r.words.every((w) => typeof w === 'string'))) &&
    (r.settledAt === undefined || (typeof r.settledAt === 'number' && Number.isFinite(r.settledAt)))
  );
}

function isSettingChange(value: unknown): value is SettingChange {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  if (typeof s.dev !== 'string' || typeof s.before !== 'string') return false;
  if (s.kind === 'mtu' || s.kind === 'mac') return true;
  return (s.kind === 'bond-option' || s.kind === 'bridge-option') && typeof s.name === 'string';
}

/** Writes the record atomically (a reader never sees half a file). */
export function writeRecord(path: string, record: StartRecord): void {
  writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
}

/** Writes a file under the run directory atomically: a reader sees the old text or the new. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}

/** Bridges with a state file in the run directory, sorted. */
export function recordedBridges(env: Readonly<Record<string, string | undefined>>): string[] {
  let names: string[];
  try {
    names = readdirSync(runDir(env));
  } catch {
    return [];
  }
  return names
    .map((n) => /^network-(.+)\.json$/.exec(n)?.[1])
    .filter((b): b is string => b !== undefined)
    .sort();
}

export function removeRecord(path: string): void {
  rmSync(path, { force: true });
}
