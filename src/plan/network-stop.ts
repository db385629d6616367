import { findLink, type HostState } from '../model/host.ts';
import { makePlan, type Plan, type Step } from '../model/plan.ts';
import type { StartRecord } from '../model/record.ts';
import { ip } from './command.ts';
import { hostAfterRelease, planLinkReleases, planNetworkRestores } from './network-restore.ts';
import { withRouteFamilies } from './route.ts';
import { planSettingRestores } from './setting.ts';
import { makeStep } from './step.ts';

/**
 * Undo a start record on the host as it is now: release what start enslaved, delete what it
 * created (bridge, bond, veth), put back the settings it changed on devices it did not create
 * (bond mode and options, bridge options, MTU, MAC), bring released NICs back up when they were
 * up, put addresses and routes back where they were, restore sysctls. Plans only what differs:
 * once undone, the plan is empty.
 */
export function planNetworkStop(record: StartRecord, observed: HostState): Plan {
  const host = withRouteFamilies(observed);
  const steps: Step[] = [];
  const warnings: string[] = [];
  const gone = new Set(record.created.filter((name) => findLink(host, name) !== undefined));
  // A device whose master start created goes free when that master is deleted.
  const { steps: releases, freed } = planLinkReleases(record, host, gone);
  steps.push(...releases);
  for (const name of [...record.created].reverse())
    if (gone.has(name))
      steps.push(
        makeStep(`link:${name}:delete`, 'link', ip.linkDel(name), `${name} was created by start`, true),
      );
  // Settings start changed on devices it did not create, on the host as the steps above leave it.
  const restore = planSettingRestores(
    record.settings.filter((c) => !record.created.includes(c.dev)),
    hostAfterRelease(record, host, gone),
  );
  steps.push(...restore.steps);
  warnings.push(...restore.warnings);
  // Released bond slaves are left down by the kernel; bridge ports keep their state.
  for (const e of record.enslaved) {
    if (!e.up || record.created.includes(e.dev)) continue;
    const link = findLink(host, e.dev);
    if (!link) continue;
    const releasedFromBond = freed.has(e.dev) && findLink(host, e.master)?.kind === 'bond';
    const id = `link:${e.dev}:up`;
    if ((!link.up || releasedFromBond) && !steps.some((s) => s.id === id))
      steps.push(makeStep(id, 'link', ip.linkUp(e.dev), `${e.dev} was up before start`));
  }
  steps.push(...planNetworkRestores(record, host, gone));
  return makePlan(steps, warnings);
}
