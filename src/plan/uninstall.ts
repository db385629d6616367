/**
 * `xenplan uninstall` as a plan: undo what the manifest says install put there (install.ts).
 * Pure, like install: paths are the host's, only Step argvs carry the prefix.
 */
import {
  type InstalledState,
  MANIFEST_PATH,
  type ManifestEntry,
  renderManifest,
  SAVED_SUFFIX,
  underPrefix,
} from '../model/install.ts';
import type { Phase, Plan, Step } from '../model/plan.ts';
import { makePlan } from '../model/plan.ts';
import { AGENT_UNIT_NAME, AGENT_UNIT_PATH } from './agent-unit.ts';
import { command } from './install-command.ts';
import { basenameOf, describePathState, dirnameOf, matchesEntry, stateOf } from './install-path.ts';
import { makeStep } from './step.ts';

const PHASE: Phase = 'install';

export interface UninstallRequest {
  readonly prefix: string;
  /** Remove files that changed since install too. */
  readonly force: boolean;
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
      if (matchesEntry(s, e) || (req.force && (s.kind === 'file' || s.kind === 'link'))) {
        steps.push(
          makeStep(
            `uninstall:${e.kind}:${e.path}`,
            PHASE,
            command.remove(at(e.path)),
            matchesEntry(s, e)
              ? `${e.path} was installed by xenplan`
              : `${e.path} changed since install; --force removes it`,
          ),
        );
        gone.add(e.path);
        removed = true;
      } else {
        warnings.push(
          `kept ${at(e.path)}: it changed since install (now ${describePathState(s)}); --force removes it`,
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
  // The agent stops before its files go, and systemd forgets its unit after.
  const agentUnit = state.manifest.entries.some((e) => e.path === AGENT_UNIT_PATH);
  const systemd = req.prefix === '' && agentUnit ? state.systemd : undefined;
  const stop =
    systemd?.agentActive === true
      ? [
          makeStep(
            `uninstall:systemd:stop:${AGENT_UNIT_NAME}`,
            PHASE,
            command.systemctl('stop', AGENT_UNIT_NAME),
            'the agent runs the files uninstall removes',
          ),
        ]
      : [];
  const reload =
    systemd !== undefined && gone.has(AGENT_UNIT_PATH)
      ? [
          makeStep(
            'uninstall:systemd:daemon-reload',
            PHASE,
            command.systemctl('daemon-reload'),
            `${AGENT_UNIT_PATH} is gone: systemd forgets it`,
          ),
        ]
      : [];
  if (gone.has(MANIFEST_PATH)) return makePlan([...stop, ...steps, ...rmdirs, ...reload], warnings);
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
  return makePlan([...stop, ...steps, ...rmdirs, ...reload], warnings);
}
