import { createHash } from 'node:crypto';
import {
  AGENT_UNIT_NAME,
  type InstalledState,
  MANIFEST_PATH,
  type Manifest,
  type PathState,
  parseManifest,
  SAVED_SUFFIX,
  SYSTEMD_RUNNING_PATH,
  underPrefix,
} from '../model/install.ts';
import type { FileReader, Runner } from '../model/ports.ts';

export function sha256Of(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** What is at one host path (under the prefix): symlinks are not followed. */
export function observePath(files: FileReader, at: string): PathState {
  const target = files.readlink(at);
  if (target !== undefined) return { kind: 'link', target };
  const entries = files.list(at);
  if (entries !== undefined) return { kind: 'dir', entries: [...entries].sort() };
  const content = files.read(at);
  if (content !== undefined) return { kind: 'file', sha256: sha256Of(content) };
  return files.exists(at) ? { kind: 'other' } : { kind: 'missing' };
}

/**
 * Reads the install manifest under `prefix`, then the state of `paths`, of every path the
 * manifest lists (and its `.xenplan-saved` twin) and of the manifest itself. Paths are host
 * paths; the prefix is added here.
 */
export function observeInstalled(
  files: FileReader,
  prefix: string,
  paths: readonly string[],
): InstalledState {
  const manifestText = files.read(underPrefix(prefix, MANIFEST_PATH));
  const manifest: Manifest | undefined =
    manifestText === undefined ? undefined : parseManifest(manifestText, underPrefix(prefix, MANIFEST_PATH));
  const all = new Set<string>([...paths, MANIFEST_PATH]);
  for (const entry of manifest?.entries ?? []) {
    all.add(entry.path);
    if (entry.kind !== 'dir') all.add(`${entry.path}${SAVED_SUFFIX}`);
  }
  const states = new Map<string, PathState>();
  for (const path of [...all].sort()) states.set(path, observePath(files, underPrefix(prefix, path)));
  return { manifestText, manifest, paths: states };
}

/**
 * Whether systemd runs this host (never for a tree under a prefix) and, if so, whether the
 * agent's unit is active: what install --agent and uninstall start and stop.
 */
export async function observeAgentService(
  runner: Runner,
  files: FileReader,
  prefix: string,
): Promise<InstalledState['systemd']> {
  if (prefix !== '' || files.list(SYSTEMD_RUNNING_PATH) === undefined) return undefined;
  const r = await runner.run(['systemctl', 'is-active', '--quiet', AGENT_UNIT_NAME]);
  return { agentActive: r.exitCode === 0 };
}
