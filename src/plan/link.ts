import { findLink, type HostState } from '../model/host.ts';
import type { Step } from '../model/plan.ts';
import { ip } from './command.ts';
import { makeStep } from './step.ts';

/** `up` unless it already is; `force` when an earlier step takes it down. */
export function planLinkUp(name: string, host: HostState, force = false): Step[] {
  const link = findLink(host, name);
  if (link?.up && !force) return [];
  const why = !link ? `${name} is new and down` : force ? `${name} was taken down above` : `${name} is down`;
  return [makeStep(`link:${name}:up`, 'link', ip.linkUp(name), why)];
}
