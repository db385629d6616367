import { XenplanError } from '../model/error.ts';
import {
  type InstalledState,
  MANIFEST_PATH,
  type Manifest,
  type ManifestEntry,
  type PathState,
  renderManifest,
  SAVED_SUFFIX,
  underPrefix,
} from '../model/install.ts';
import type { Phase, Plan, Step } from '../model/plan.ts';
import { makePlan } from '../model/plan.ts';
import type { Argv } from './command.ts';
import { makeStep } from './step.ts';
import { DEFAULT_SCRIPTS_DIR, NETWORK_SCRIPT_NAME, UDEV_RULES_PATH, VIF_SCRIPT_NAME } from './udev-rules.ts';

/**
 * `xenplan install` / `xenplan uninstall` as plans: which directories to make, which files to
 * copy, link, write or remove. Paths in requests, observations and the manifest are the
 * running host's paths (`/etc/xen/scripts/vif-xenplan`); only Step argvs carry the prefix
 * (like DESTDIR), so a tree installed under a prefix names its real places.
 *
 * Layout: one copy of the bundle as `vif-xenplan` (mode 0755) and `network-xenplan` as a
 * relative symlink to it (the bundle picks its role from the name it runs by); with --udev,
 * the rules file; and the manifest recording what install put there, written before the
 * files so even a half-done install can be uninstalled.
 */

const PHASE: Phase = 'install';

export interface InstallRequest {
  /** Root everything goes under: '' for the host itself, else an absolute path without a trailing slash. */
  readonly prefix: string;
  /** The scripts directory on the running host (default /etc/xen/scripts). */
  readonly scriptsDir: string;
  readonly udev: boolean;
  /** Replace files that are not ours (moved aside to NAME.xenplan-saved, restored by uninstall). */
  readonly force: boolean;
  /** Real path of the running bundle: the source of the copy. */
  readonly bundlePath: string;
  readonly bundleSha256: string;
  /** The udev rules text and its sha256 (computed by the caller: this module is pure). */
  readonly udevRules: string;
  readonly udevRulesSha256: string;
}

export interface UninstallRequest {
  readonly prefix: string;
  /** Remove files that changed since install too. */
  readonly force: boolean;
}

type Wanted =
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly sha256: string;
      readonly argv: (dst: string) => Argv;
    }
  | { readonly kind: 'link'; readonly path: string; readonly target: string };

export const command = {
  mkdir: (dir: string): Argv => ['mkdir', '-p', dir],
  install: (src: string, dst: string, mode: string): Argv => ['install', '-m', mode, src, dst],
  /** Writes `content` to `dst` with mode 0644; the content travels as an argument, never as shell text. */
  write: (content: string, dst: string): Argv => [
    'sh',
    '-c',
    'printf "%s" "$1" >"$2" && chmod 0644 "$2"',
    'sh',
    content,
    dst,
  ],
  link: (target: string, dst: string): Argv => ['ln', '-sf', target, dst],
  move: (src: string, dst: string): Argv => ['mv', '-f', src, dst],
  remove: (path: string): Argv => ['rm', '-f', path],
  rmdir: (dir: string): Argv => ['rmdir', dir],
};

export function dirnameOf(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Every ancestor directory of `path`, outermost first, without '/'. */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let dir = dirnameOf(path); dir !== '/'; dir = dirnameOf(dir)) out.unshift(dir);
  return out;
}

function wantedOf(req: InstallRequest): Wanted[] {
  const vif = `${req.scriptsDir}/${VIF_SCRIPT_NAME}`;
  const wanted: Wanted[] = [
    {
      kind: 'file',
      path: vif,
      sha256: req.bundleSha256,
      argv: (dst) => command.install(req.bundlePath, dst, '0755'),
    },
    { kind: 'link', path: `${req.scriptsDir}/${NETWORK_SCRIPT_NAME}`, target: VIF_SCRIPT_NAME },
  ];
  if (req.udev)
    wanted.push({
      kind: 'file',
      path: UDEV_RULES_PATH,
      sha256: req.udevRulesSha256,
      argv: (dst) => command.write(req.udevRules, dst),
    });
  return wanted;
}

/** The host paths install needs to look at (the observer adds the manifest's own entries). */
export function installPaths(req: InstallRequest): string[] {
  const paths = new Set<string>();
  for (const want of wantedOf(req)) {
    paths.add(want.path);
    paths.add(`${want.path}${SAVED_SUFFIX}`);
    for (const dir of ancestorsOf(want.path)) paths.add(dir);
  }
  for (const dir of ancestorsOf(MANIFEST_PATH)) paths.add(dir);
  return [...paths].sort();
}

function stateOf(state: InstalledState, path: string): PathState {
  return state.paths.get(path) ?? { kind: 'missing' };
}

function describe(s: PathState): string {
  switch (s.kind) {
    case 'missing':
      return 'missing';
    case 'file':
      return `a file (sha256 ${s.sha256.slice(0, 12)}…)`;
    case 'link':
      return `a symlink to ${s.target}`;
    case 'dir':
      return 'a directory';
    case 'other':
      return 'a special file';
  }
}

function matches(
  s: PathState,
  entry: { kind: 'file'; sha256: string } | { kind: 'link'; target: string },
): boolean {
  if (entry.kind === 'file') return s.kind === 'file' && s.sha256 === entry.sha256;
  return s.kind === 'link' && s.target === entry.target;
}

function fileEntries(manifest: Manifest | undefined): Map<string, ManifestEntry> {
  return new Map((manifest?.entries ?? []).map((e) => [e.path, e]));
}

/**
 * Plan an install. Idempotent: when everything is in place and the manifest says so, the
 * plan is empty. Throws an environment error naming every path in the way (a file that is
 * not ours, or ours but changed since) unless `force`.
 */
export function planInstall(req: InstallRequest, state: InstalledState): { plan: Plan; manifest: Manifest } {
  const old = fileEntries(state.manifest);
  const at = (path: string) => underPrefix(req.prefix, path);
  const warnings: string[] = [];
  const conflicts: string[] = [];

  // Directories: make the missing ones, remember every level made (uninstall removes them if empty).
  const created = new Set<string>(
    [...old.values()]
      .filter((e) => e.kind === 'dir' && stateOf(state, e.path).kind === 'dir')
      .map((e) => e.path),
  );
  const mkdirs: Step[] = [];
  const madeNow = new Set<string>();
  const needed = [
    ...new Set([...wantedOf(req).map((w) => dirnameOf(w.path)), dirnameOf(MANIFEST_PATH)]),
  ].sort();
  for (const dir of needed) {
    const levels = [...ancestorsOf(dir), dir];
    for (const level of levels) {
      const s = stateOf(state, level);
      if (s.kind !== 'dir' && s.kind !== 'missing')
        throw new XenplanError('environment', `${at(level)} is ${describe(s)}, expected a directory`);
    }
    const todo = levels.filter((level) => stateOf(state, level).kind === 'missing' && !madeNow.has(level));
    if (todo.length === 0) continue;
    for (const level of todo) {
      madeNow.add(level);
      created.add(level);
    }
    mkdirs.push(
      makeStep(`install:mkdir:${dir}`, PHASE, command.mkdir(at(dir)), `make ${todo.join(', ')} (missing)`),
    );
  }

  // Files and the link.
  const work: Step[] = [];
  const entries = new Map<string, ManifestEntry>();
  for (const e of old.values()) if (e.kind !== 'dir') entries.set(e.path, e);
  for (const want of wantedOf(req)) {
    const s = stateOf(state, want.path);
    const mine = old.get(want.path);
    const saved = mine !== undefined && mine.kind !== 'dir' && mine.saved === true;
    const entry: ManifestEntry =
      want.kind === 'file'
        ? { kind: 'file', path: want.path, sha256: want.sha256, ...(saved ? { saved } : {}) }
        : { kind: 'link', path: want.path, target: want.target, ...(saved ? { saved } : {}) };
    const put = (why: string): Step =>
      makeStep(
        `install:${want.kind}:${want.path}`,
        PHASE,
        want.kind === 'file' ? want.argv(at(want.path)) : command.link(want.target, at(want.path)),
        why,
      );
    const what = want.kind === 'file' ? 'file' : `symlink to ${want.target}`;
    if (matches(s, want)) {
      if (mine === undefined || mine.kind === 'dir')
        warnings.push(`${want.path} already holds what install puts there; recording it as installed`);
      entries.set(want.path, entry);
      continue;
    }
    if (s.kind === 'missing') {
      work.push(put(`${want.path} is missing: ${what}`));
      entries.set(want.path, entry);
      continue;
    }
    if (s.kind === 'dir' || s.kind === 'other') {
      conflicts.push(`${at(want.path)} is ${describe(s)}`);
      continue;
    }
    if (mine !== undefined && mine.kind !== 'dir') {
      if (matches(s, mine)) {
        work.push(
          put(`${want.path} is an older install (${describe(s)}): replace with the running bundle's ${what}`),
        );
        entries.set(want.path, entry);
      } else if (req.force) {
        work.push(
          put(`${want.path} changed since xenplan installed it (${describe(s)}); --force replaces it`),
        );
        entries.set(want.path, entry);
      } else conflicts.push(`${at(want.path)} changed since xenplan installed it (now ${describe(s)})`);
      continue;
    }
    // Not ours.
    const aside = `${want.path}${SAVED_SUFFIX}`;
    if (!req.force) {
      conflicts.push(`${at(want.path)} is not xenplan's (${describe(s)})`);
      continue;
    }
    if (stateOf(state, aside).kind !== 'missing') {
      conflicts.push(
        `${at(want.path)} is not xenplan's and ${at(aside)} already exists, so it cannot be moved aside`,
      );
      continue;
    }
    work.push(
      makeStep(
        `install:save:${want.path}`,
        PHASE,
        command.move(at(want.path), at(aside)),
        `${want.path} is not xenplan's (${describe(s)}): --force moves it aside; uninstall puts it back`,
      ),
    );
    work.push(put(`${want.path}: ${what} in place of the file moved aside`));
    entries.set(want.path, { ...entry, saved: true });
  }
  if (conflicts.length > 0)
    throw new XenplanError(
      'environment',
      `install would overwrite what is not xenplan's: ${conflicts.join('; ')}. Move it away, or use --force (a foreign file is moved to NAME${SAVED_SUFFIX} and restored by uninstall)`,
    );

  for (const dir of created) entries.set(dir, { kind: 'dir', path: dir });
  const manifest: Manifest = { entries: [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : 1)) };
  const text = renderManifest(manifest);
  const manifestSteps =
    text === state.manifestText
      ? []
      : [
          makeStep(
            'install:manifest',
            PHASE,
            command.write(text, at(MANIFEST_PATH)),
            state.manifestText === undefined
              ? `record what install puts here in ${MANIFEST_PATH}`
              : `update the record in ${MANIFEST_PATH}`,
          ),
        ];
  return { plan: makePlan([...mkdirs, ...manifestSteps, ...work], warnings), manifest };
}

/**
 * Plan an uninstall: remove exactly what the manifest lists and is still as install left it,
 * put back files moved aside, remove the manifest, then the directories install made if they
 * are empty. What changed since install is kept (a warning says so) unless `force`.
 */
export function planUninstall(req: UninstallRequest, state: InstalledState): Plan {
  const at = (path: string) => underPrefix(req.prefix, path);
  if (state.manifest === undefined)
    return makePlan([], [`nothing to uninstall: no manifest at ${at(MANIFEST_PATH)}`]);
  const warnings: string[] = [];
  const steps: Step[] = [];
  const gone = new Set<string>();
  const back = new Set<string>();
  const kept: ManifestEntry[] = [];
  const items = state.manifest.entries.filter((e) => e.kind !== 'dir');
  for (const e of items) {
    const s = stateOf(state, e.path);
    let removed = s.kind === 'missing';
    if (s.kind !== 'missing') {
      if (matches(s, e) || (req.force && (s.kind === 'file' || s.kind === 'link'))) {
        steps.push(
          makeStep(
            `uninstall:${e.kind}:${e.path}`,
            PHASE,
            command.remove(at(e.path)),
            matches(s, e)
              ? `${e.path} was installed by xenplan`
              : `${e.path} changed since install; --force removes it`,
          ),
        );
        gone.add(e.path);
        removed = true;
      } else {
        warnings.push(
          `kept ${at(e.path)}: it changed since install (now ${describe(s)}); --force removes it`,
        );
        kept.push(e);
      }
    }
    const aside = `${e.path}${SAVED_SUFFIX}`;
    if (e.saved === true && stateOf(state, aside).kind !== 'missing') {
      if (removed) {
        steps.push(
          makeStep(
            `uninstall:restore:${e.path}`,
            PHASE,
            command.move(at(aside), at(e.path)),
            `put back the file install moved aside`,
          ),
        );
        gone.add(aside);
        back.add(e.path);
      } else warnings.push(`kept ${at(aside)}: ${at(e.path)} is still in its place`);
    }
  }
  // Nothing kept: the manifest goes too. Something kept: the manifest lists just that.
  if (kept.length === 0) {
    steps.push(
      makeStep(
        'uninstall:manifest',
        PHASE,
        command.remove(at(MANIFEST_PATH)),
        'the record of what install put here',
      ),
    );
    gone.add(MANIFEST_PATH);
  }
  const dirs = state.manifest.entries
    .filter((e) => e.kind === 'dir')
    .map((e) => e.path)
    .sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : -1));
  const rmdirs: Step[] = [];
  for (const dir of dirs) {
    const s = stateOf(state, dir);
    if (s.kind !== 'dir') continue;
    const left = s.entries.filter((name) => {
      const child = `${dir}/${name}`;
      return !gone.has(child) || back.has(child);
    });
    for (const path of back)
      if (dirnameOf(path) === dir && !left.includes(basenameOf(path))) left.push(basenameOf(path));
    if (left.length > 0) {
      warnings.push(`kept directory ${at(dir)}: it still holds ${left.sort().join(', ')}`);
      kept.push({ kind: 'dir', path: dir });
      continue;
    }
    rmdirs.push(
      makeStep(
        `uninstall:rmdir:${dir}`,
        PHASE,
        command.rmdir(at(dir)),
        `install made ${dir} and it is now empty`,
      ),
    );
    gone.add(dir);
  }
  if (gone.has(MANIFEST_PATH)) return makePlan([...steps, ...rmdirs], warnings);
  const text = renderManifest({ entries: kept });
  if (text !== state.manifestText)
    steps.push(
      makeStep(
        'uninstall:manifest',
        PHASE,
        command.write(text, at(MANIFEST_PATH)),
        `keep in ${MANIFEST_PATH} only what uninstall left in place`,
      ),
    );
  return makePlan([...steps, ...rmdirs], warnings);
}

/** What to add to Xen's configuration, naming the installed files. */
export function renderInstallNotes(scriptsDir: string): string {
  const name = (n: string) => (scriptsDir === DEFAULT_SCRIPTS_DIR ? n : `${scriptsDir}/${n}`);
  const vif = name(VIF_SCRIPT_NAME);
  const network = name(NETWORK_SCRIPT_NAME);
  return `Installed ${scriptsDir}/${VIF_SCRIPT_NAME} (runs as vif-script) and ${scriptsDir}/${NETWORK_SCRIPT_NAME} (runs as network-script; a link to it).

xend (xm), Xen 3.x-4.4: add to /etc/xen/xend-config.sxp, replacing the network-script and
vif-script lines there, then restart xend:
  (network-script '${network} bridge=xenbr0 bond=bond0 slaves=eth0,eth1')
  (vif-script ${vif})

xl: the default script of every vif, in /etc/xen/xl.conf:
  vif.default.script="${vif}"

or per guest, in its configuration file (xl and xm):
  vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0,script=${vif}' ]

xl runs no network script: to build the bridge at boot, run from a boot script
  ${network} start bridge=xenbr0 bond=bond0 slaves=eth0,eth1
`;
}
