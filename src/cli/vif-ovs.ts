import { applyAndVerify, checkConverged } from '../apply/converge.ts';
import { XenplanError } from '../model/error.ts';
import { findLink } from '../model/host.ts';
import { makePlan, type Plan } from '../model/plan.ts';
import type { OvsDesired } from '../model/vif-mode.ts';
import { observeOvs } from '../observe/ovs.ts';
import { observeLinks } from '../observe/sysfs.ts';
import { ip } from '../plan/command.ts';
import { parseOvsBridge, planOvsOffline, planOvsOnline } from '../plan/ovs-port.ts';
import { makeStep } from '../plan/step.ts';
import type { BridgeRequest } from '../plan/vif.ts';
import { offlineDevice, planRename, planVifOffline } from '../plan/vif.ts';

import { applyWithMark, filtered, unfiltered } from './vif-antispoof.ts';
import type { ModeEvent } from './vif-routed.ts';

/** online / add on Open vSwitch (vif-xenplan-ovs, Xen's vif-openvswitch). */
export async function attachOvs(
  event: ModeEvent,
  ids: Record<string, string | undefined>,
  requested: BridgeRequest,
): Promise<string> {
  const { ctx, request, who, backend } = event;
  if (requested.value === undefined)
    throw new XenplanError(
      'config',
      'no Open vSwitch bridge was given; set bridge= in the vif config (BR, BR.TAG or BR:TRUNK:TRUNK)',
    );
  const spec = parseOvsBridge(requested.value, requested.source);
  const externalIds = Object.fromEntries(
    Object.entries(ids).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const want: OvsDesired = { name: who.name, ...spec, externalIds };
  const plan = async () => {
    const host = observeLinks(ctx.files, [who.dev, who.name, spec.bridge]);
    const { steps, link } = planRename(who, host);
    // MTU as for a Linux bridge: the backend's, else the bridge's own (its internal port).
    const mtu = backend.mtu ?? findLink(host, spec.bridge)?.mtu ?? 1500;
    if (link.mtu !== mtu)
      steps.push(
        makeStep(
          `vif:${who.name}:mtu`,
          'vif',
          ip.linkMtu(who.name, mtu),
          `${who.name} mtu: want ${mtu}, have ${link.mtu}`,
        ),
      );
    if (!link.up)
      steps.push(makeStep(`vif:${who.name}:up`, 'vif', ip.linkUp(who.name), `${who.name} is down`));
    const port = planOvsOnline(want, await observeOvs(ctx.runner, who.name), steps, event.writes);
    // A trunk's tagged frames are past what the rules read: a filtered trunk is refused.
    return filtered(event, host, port, spec.trunks);
  };
  const { plan: first, filter, mark } = await plan();
  const what = `${who.name} on Open vSwitch ${requested.value}`;
  if (request.dryRun) {
    event.show(first, what);
    return 'dry-run';
  }
  await applyWithMark(ctx, first, filter, mark);
  checkConverged(first.steps.length, (await plan()).plan);
  return `${what}: ${first.steps.length} step(s)${request.typeIf === 'vif' ? ', connected' : ''}`;
}

/** offline / remove: the port out of OVS, the device down. */
export async function detachOvs(event: Omit<ModeEvent, 'writes' | 'antispoof'>): Promise<string> {
  const { ctx, request, who } = event;
  const { name, note } = offlineDevice(who, observeLinks(ctx.files, [who.name, who.dev]));
  if (note) ctx.err(`vif-script: ${note}\n`);
  const plan = async (): Promise<Plan> => {
    const host = observeLinks(ctx.files, [name]);
    const ovs = await observeOvs(ctx.runner, name);
    const link = planVifOffline(name, host).steps.filter((s) => s.id.endsWith(':down'));
    return makePlan([...planOvsOffline(name, ovs), ...link]);
  };
  const first = await plan();
  const { filter, mark } = unfiltered(ctx, name);
  if (request.dryRun) {
    event.show(makePlan([...first.steps, ...filter.steps], first.warnings), name);
    return 'dry-run';
  }
  await applyAndVerify(ctx.runner, first, plan);
  // Its rules go once it is out of OVS and down, so no frame of it ever passes unfiltered.
  await applyWithMark(ctx, makePlan(filter.steps), filter, mark);
  return `${name} detached (Open vSwitch): ${first.steps.length + filter.steps.length} step(s)`;
}
