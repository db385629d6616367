import { XenplanError } from './error.ts';

/**
 * The install manifest (what `xenplan install` put on the host) and the host paths it is
 * about: types, and the pure text functions that write and read it. Paths are the running
 * host's paths; a prefix is added only where files are touched.
 */

/** Where the record of what install put on the host lives (under the prefix). */
export const MANIFEST_PATH = '/var/lib/xenplan/installed';

/** The agent's systemd unit (install --agent; plan/agent-unit.ts renders it). */
export const AGENT_UNIT_NAME = 'xenplan-agent.service';
/** Where systemd runs: install and uninstall start and stop the agent only then. */
export const SYSTEMD_RUNNING_PATH = '/run/systemd/system';

/** A foreign file moved aside by `install --force` gets this suffix; uninstall moves it back. */
export const SAVED_SUFFIX = '.xenplan-saved';

/** What is at a path now. */
export type PathState =
  | { readonly kind: 'missing' }
  | { readonly kind: 'file'; readonly sha256: string }
  | { readonly kind: 'link'; readonly target: string }
  | { readonly kind: 'dir'; readonly entries: readonly string[] }
  | { readonly kind: 'other' };

/** One thing install put on the host. `dir` entries are directories install created. */
export type ManifestEntry =
  | { readonly kind: 'file'; readonly path: string; readonly sha256: string; readonly saved?: boolean }
  | { readonly kind: 'link'; readonly path: string; readonly target: string; readonly saved?: boolean }
  | { readonly kind: 'dir'; readonly path: string };

export interface Manifest {
  readonly entries: readonly ManifestEntry[];
}

/** What `observeInstalled` found: the manifest (if any) and the state of every path asked about. */
export interface InstalledState {
  readonly manifestText: string | undefined;
  readonly manifest: Manifest | undefined;
  readonly paths: ReadonlyMap<string, PathState>;
  /** Set only where systemd runs (and no prefix): whether xenplan-agent.service is active. */
  readonly systemd?: { readonly agentActive: boolean };
}

/** A host path under the prefix: the path the commands touch. */
export function underPrefix(prefix: string, path: string): string {
  return prefix === '' ? path : `${prefix}${path}`;
}

/** The manifest as text: stable (sorted, no times), so an unchanged install rewrites nothing. */
export function renderManifest(manifest: Manifest): string {
  const entries = [...manifest.entries].sort((a, b) => (a.path < b.path ? -1 : 1));
  return `${JSON.stringify({ xenplan: 'install manifest', version: 1, entries }, null, 2)}\n`;
}

const SAFE_PATH = /^\/[A-Za-z0-9._+@/-]*$/;

function checkPath(path: unknown, where: string): string {
  if (
    typeof path !== 'string' ||
    !SAFE_PATH.test(path) ||
    path.split('/').some((p) => p === '..' || p === '.')
  )
    throw new XenplanError('config', `${where}: path ${JSON.stringify(path)} is not an absolute plain path`);
  return path;
}

/** Parses a manifest written by renderManifest; anything else is a config error naming the file. */
export function parseManifest(text: string, where: string = MANIFEST_PATH): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new XenplanError(
      'config',
      `${where}: not a xenplan install manifest (${(error as Error).message})`,
    );
  }
  const record = doc as { xenplan?: unknown; version?: unknown; entries?: unknown };
  if (
    typeof doc !== 'object' ||
    doc === null ||
    record.xenplan !== 'install manifest' ||
    record.version !== 1
  )
    throw new XenplanError('config', `${where}: not a version 1 xenplan install manifest`);
  if (!Array.isArray(record.entries)) throw new XenplanError('config', `${where}: entries is not a list`);
  const entries = record.entries.map((raw: unknown, i: number): ManifestEntry => {
    const e = (raw ?? {}) as Record<string, unknown>;
    const path = checkPath(e.path, `${where} entry ${i}`);
    const saved = e.saved === true ? { saved: true } : {};
    if (e.kind === 'dir') return { kind: 'dir', path };
    if (e.kind === 'file' && typeof e.sha256 === 'string' && /^[0-9a-f]{64}$/.test(e.sha256))
      return { kind: 'file', path, sha256: e.sha256, ...saved };
    if (e.kind === 'link' && typeof e.target === 'string' && e.target !== '')
      return { kind: 'link', path, target: e.target, ...saved };
    throw new XenplanError(
      'config',
      `${where} entry ${i}: expected a file (with sha256), link (with target) or dir`,
    );
  });
  return { entries };
}
