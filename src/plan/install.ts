import { XenplanError } from '../model/error.ts';
import {
  type InstalledState,
  MANIFEST_PATH,
  type Manifest,
  type ManifestEntry,
  renderManifest,
  SAVED_SUFFIX,
  underPrefix,
} from '../model/install.ts';
import type { Phase, Plan, Step } from '../model/plan.ts';
import { makePlan } from '../model/plan.ts';
import { VIF_MODE_SCRIPTS, type VifMode } from '../model/vif-mode.ts';
import {
  AGENT_BUNDLE_NAME,
  AGENT_UNIT_NAME,
  AGENT_UNIT_PATH,
  AGENT_UNIT_WANTS_PATH,
  AGENT_UNIT_WANTS_TARGET,
} from './agent-unit.ts';
import { BOOT_UNIT_PATH, BOOT_UNIT_WANTS_PATH, BOOT_UNIT_WANTS_TARGET } from './boot-unit.ts';
import type { Argv } from './command.ts';
import { command } from './install-command.ts';
import { ancestorsOf, describePathState, dirnameOf, matchesEntry, stateOf } from './install-path.ts';
import { checkNodePath, interpreterLine, interpreterSedExpression } from './install-script.ts';
import { makeStep } from './step.ts';
import { NETWORK_SCRIPT_NAME, UDEV_RULES_PATH, VIF_SCRIPT_NAME } from './udev-rules.ts';

/**
 * `xenplan install` / `xenplan uninstall` as plans: which directories to make, which files to
 * copy, link, write or remove. Paths in requests, observations and the manifest are the
 * running host's paths (`/etc/xen/scripts/vif-xenplan`); only Step argvs carry the prefix
 * (like DESTDIR), so a tree installed under a prefix names its real places.
 *
 * Layout: one copy of the bundle as `vif-xenplan` (mode 0755, its `#!` line rewritten to name
 * the node that runs it: install-script.ts), `network-xenplan` and the vif modes'
 * `vif-xenplan-route`, `-nat`, `-ovs` as relative symlinks to it (the bundle picks its role
 * and mode from the name it runs by); with --udev, the rules file; and the
 * manifest recording what install put there, written before the files so even a half-done
 * install can be uninstalled. The manifest holds the sha256 of the copy as installed.
 */

const PHASE: Phase = 'install';

/** vif-xenplan-route, -nat, -ovs: links to vif-xenplan, one per mode besides the bridge. */
const MODE_ALIASES = (Object.keys(VIF_MODE_SCRIPTS) as VifMode[])
  .filter((mode) => mode !== 'bridge')
  .map((mode) => VIF_MODE_SCRIPTS[mode]);

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
  /** sha256 of the bundle as it is (`#!/usr/bin/env node`). */
  readonly bundleSha256: string;
  /** Absolute path of the node the installed scripts run with: their `#!` line (checkNodePath). */
  readonly node: string;
  /** sha256 of the installed copy: renderInstalledScript(bundle, node), hashed by the caller. */
  readonly scriptSha256: string;
  /** The udev rules text and its sha256 (computed by the caller: this module is pure). */
  readonly udevRules: string;
  readonly udevRulesSha256: string;
  /** Also the boot unit and the link that enables it (install --boot). */
  readonly boot?: { readonly unit: string; readonly sha256: string };
  /**
   * install --agent: the launcher becomes vif-xenplan, the bundle goes beside it as
   * xenplan.cjs, and the agent's unit is installed, enabled and (where systemd runs) started.
   */
  readonly agent?: {
    readonly launcher: string;
    readonly launcherSha256: string;
    readonly unit: string;
    readonly unitSha256: string;
  };
}

/** One step that puts a file in place: `install:KIND:PATH`, with its argv and reason. */
interface Put {
  readonly kind: string;
  readonly argv: Argv;
  /** Defaults to the reason the file is put there. */
  readonly reason?: string;
}

type Wanted =
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly sha256: string;
      /** What the file is, in reasons. */
      readonly what: string;
      /** The steps that put it at `dst` (the path under the prefix). */
      readonly puts: (dst: string) => Put[];
      /** sha256 of what the first of those steps alone leaves: an install stopped half way. */
      readonly halfSha256?: string;
    }
  | { readonly kind: 'link'; readonly path: string; readonly target: string };

/** The bundle, its #! line naming the node that runs it, at `path`. */
function bundleWanted(req: InstallRequest, path: string): Wanted {
  return {
    kind: 'file',
    path,
    sha256: req.scriptSha256,
    what: `the running bundle, run by ${req.node}`,
    puts: (dst) => [
      { kind: 'file', argv: command.install(req.bundlePath, dst, '0755') },
      {
        kind: 'interpreter',
        argv: command.edit(interpreterSedExpression(req.node), dst),
        reason: `${path} starts with ${interpreterLine(req.node)}: Xen and udev run it with a short PATH, where env may not find node`,
      },
    ],
    ...(req.bundleSha256 === req.scriptSha256 ? {} : { halfSha256: req.bundleSha256 }),
  };
}

function wantedOf(req: InstallRequest): Wanted[] {
  const vif = `${req.scriptsDir}/${VIF_SCRIPT_NAME}`;
  const agent = req.agent;
  const wanted: Wanted[] =
    agent === undefined
      ? [
          bundleWanted(req, vif),
          { kind: 'link', path: `${req.scriptsDir}/${NETWORK_SCRIPT_NAME}`, target: VIF_SCRIPT_NAME },
        ]
      : [
          // The bundle first: the launcher runs it whenever the agent is not there.
          bundleWanted(req, `${req.scriptsDir}/${AGENT_BUNDLE_NAME}`),
          {
            kind: 'file',
            path: vif,
            sha256: agent.launcherSha256,
            what: `the launcher (hands vif events to the agent, else runs ${AGENT_BUNDLE_NAME})`,
            puts: (dst) => [{ kind: 'file', argv: command.write(agent.launcher, dst, '0755') }],
          },
          // network-script needs neither the agent nor a slot: straight to the bundle.
          { kind: 'link', path: `${req.scriptsDir}/${NETWORK_SCRIPT_NAME}`, target: AGENT_BUNDLE_NAME },
        ];
  // The vif modes: the bundle picks its mode by the name a guest config names in script=.
  wanted.push(
    ...MODE_ALIASES.map(
      (name): Wanted => ({ kind: 'link', path: `${req.scriptsDir}/${name}`, target: VIF_SCRIPT_NAME }),
    ),
  );
  if (req.udev)
    wanted.push({
      kind: 'file',
      path: UDEV_RULES_PATH,
      sha256: req.udevRulesSha256,
      what: 'the udev rules',
      puts: (dst) => [{ kind: 'file', argv: command.write(req.udevRules, dst) }],
    });
  if (req.boot !== undefined) {
    const unit = req.boot.unit;
    wanted.push(
      {
        kind: 'file',
        path: BOOT_UNIT_PATH,
        sha256: req.boot.sha256,
        what: 'the boot unit (network-xenplan start before guests start)',
        puts: (dst) => [{ kind: 'file', argv: command.write(unit, dst) }],
      },
      { kind: 'link', path: BOOT_UNIT_WANTS_PATH, target: BOOT_UNIT_WANTS_TARGET },
    );
  }
  if (agent !== undefined)
    wanted.push(
      {
        kind: 'file',
        path: AGENT_UNIT_PATH,
        sha256: agent.unitSha256,
        what: 'the agent unit (xenplan agent, restarted whenever it ends)',
        puts: (dst) => [{ kind: 'file', argv: command.write(agent.unit, dst) }],
      },
      { kind: 'link', path: AGENT_UNIT_WANTS_PATH, target: AGENT_UNIT_WANTS_TARGET },
    );
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

function fileEntries(manifest: Manifest | undefined): Map<string, ManifestEntry> {
  return new Map((manifest?.entries ?? []).map((e) => [e.path, e]));
}

/**
 * Plan an install. Idempotent: when everything is in place and the manifest says so, the
 * plan is empty. Throws an environment error naming every path in the way (a file that is
 * not ours, or ours but changed since) unless `force`.
 */
export function planInstall(req: InstallRequest, state: InstalledState): { plan: Plan; manifest: Manifest } {
  const bad = checkNodePath(req.node);
  if (bad !== undefined)
    throw new XenplanError(
      'config',
      `node ${JSON.stringify(req.node)} cannot be the scripts' interpreter: ${bad}`,
    );
  const old = fileEntries(state.manifest);
  const at = (path: string) => underPrefix(req.prefix, path);
  const warnings: string[] = [];
  // Install adds, it never takes away: what an earlier --agent put there stays, unused.
  if (req.agent === undefined && old.has(AGENT_UNIT_PATH))
    warnings.push(
      `${AGENT_UNIT_PATH} and ${req.scriptsDir}/${AGENT_BUNDLE_NAME} stay from an install --agent, unused now that ${req.scriptsDir}/${VIF_SCRIPT_NAME} is the bundle again; xenplan uninstall removes everything, then install again`,
    );
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
        throw new XenplanError(
          'environment',
          `${at(level)} is ${describePathState(s)}, expected a directory`,
        );
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
    const put = (why: string): Step[] =>
      want.kind === 'file'
        ? want
            .puts(at(want.path))
            .map((p) => makeStep(`install:${p.kind}:${want.path}`, PHASE, p.argv, p.reason ?? why))
        : [makeStep(`install:link:${want.path}`, PHASE, command.link(want.target, at(want.path)), why)];
    const what = want.kind === 'file' ? want.what : `symlink to ${want.target}`;
    if (matchesEntry(s, want)) {
      if (mine === undefined || mine.kind === 'dir')
        warnings.push(`${want.path} already holds what install puts there; recording it as installed`);
      entries.set(want.path, entry);
      continue;
    }
    if (s.kind === 'missing') {
      work.push(...put(`${want.path} is missing: ${what}`));
      entries.set(want.path, entry);
      continue;
    }
    if (s.kind === 'dir' || s.kind === 'other') {
      conflicts.push(`${at(want.path)} is ${describePathState(s)}`);
      continue;
    }
    if (mine !== undefined && mine.kind !== 'dir') {
      if (matchesEntry(s, mine)) {
        work.push(...put(`${want.path} is an older install (${describePathState(s)}): replace with ${what}`));
        entries.set(want.path, entry);
      } else if (want.kind === 'file' && s.kind === 'file' && s.sha256 === want.halfSha256) {
        work.push(
          ...put(
            `${want.path} is the bundle before its #! line was rewritten (an install stopped half way): replace with ${what}`,
          ),
        );
        entries.set(want.path, entry);
      } else if (req.force) {
        work.push(
          ...put(
            `${want.path} changed since xenplan installed it (${describePathState(s)}); --force replaces it`,
          ),
        );
        entries.set(want.path, entry);
      } else
        conflicts.push(`${at(want.path)} changed since xenplan installed it (now ${describePathState(s)})`);
      continue;
    }
    // Not ours.
    const aside = `${want.path}${SAVED_SUFFIX}`;
    if (!req.force) {
      conflicts.push(`${at(want.path)} is not xenplan's (${describePathState(s)})`);
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
        `${want.path} is not xenplan's (${describePathState(s)}): --force moves it aside; uninstall puts it back`,
      ),
    );
    work.push(...put(`${want.path}: ${what} in place of the file moved aside`));
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
  const systemd = req.agent === undefined ? [] : agentServiceSteps(req, state, work);
  return { plan: makePlan([...mkdirs, ...manifestSteps, ...work, ...systemd], warnings), manifest };
}

/**
 * Where systemd runs: reload it when the unit changed, and (re)start the agent when it is not
 * running or when what it runs changed (a running agent keeps the code it started with).
 */
function agentServiceSteps(req: InstallRequest, state: InstalledState, work: readonly Step[]): Step[] {
  if (state.systemd === undefined || req.prefix !== '') return [];
  const touched = (path: string) => work.some((step) => step.id.endsWith(`:${path}`));
  const steps: Step[] = [];
  if (touched(AGENT_UNIT_PATH) || touched(AGENT_UNIT_WANTS_PATH))
    steps.push(
      makeStep(
        'install:systemd:daemon-reload',
        PHASE,
        command.systemctl('daemon-reload'),
        `${AGENT_UNIT_PATH} changed: systemd reads it again`,
      ),
    );
  const bundle = `${req.scriptsDir}/${AGENT_BUNDLE_NAME}`;
  const changed = [bundle, AGENT_UNIT_PATH].filter(touched);
  if (!state.systemd.agentActive || changed.length > 0)
    steps.push(
      makeStep(
        `install:systemd:restart:${AGENT_UNIT_NAME}`,
        PHASE,
        command.systemctl('restart', AGENT_UNIT_NAME),
        state.systemd.agentActive
          ? `the agent runs what ${changed.join(' and ')} held before: restart it`
          : `${AGENT_UNIT_NAME} is not running: start it`,
      ),
    );
  return steps;
}
