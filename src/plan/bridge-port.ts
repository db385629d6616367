import { findLink, type HostState } from '../model/host.ts';
import type { BridgeDesired } from '../model/network.ts';
import { makePlan, type Plan } from '../model/plan.ts';
import type { StartRecord } from '../model/record.ts';
import { listBridgeChanges, planBridge, planPort, planUp } from './bridge.ts';
import { ip } from './command.ts';
import { planNetworkStop } from './network-stop.ts';
import { makeStep } from './step.ts';

/** `xenplan bridge-port`: bridge exists with its options and is up; port is in it and up. */
export function planBridgePort(bridge: BridgeDesired, port: string, host: HostState): Plan {
  return makePlan([
    ...planBridge(bridge, host),
    ...planPort(bridge.name, port, host),
    ...planUp(bridge.name, host, 'bridge', `bridge:${bridge.name}:up`),
  ]);
}

/**
 * What planBridgePort changes, as a start record, so that a failed apply or verification is
 * rolled back with network-script stop's planner: the bridge if it is created, the port's
 * master, the bridge options it changes.
 */
function recordBridgePort(bridge: BridgeDesired, port: string, host: HostState): StartRecord {
  const link = findLink(host, port);
  const created = findLink(host, bridge.name) === undefined ? [bridge.name] : [];
  const enslaved =
    link === undefined || link.master === bridge.name
      ? []
      : [{ dev: port, master: bridge.name, up: link.up, ...(link.master ? { before: link.master } : {}) }];
  return {
    version: 1,
    bridge: bridge.name,
    created,
    enslaved,
    addresses: [],
    routes: [],
    sysctls: [],
    settings: listBridgeChanges(bridge, host),
  };
}

/**
 * The rollback of a failed bridge-port: from the host `before` it ran to the host `now`, delete
 * the bridge it created, release the port, put back the bridge options, and take the port down
 * again if it was down.
 */
export function planBridgePortUndo(
  bridge: BridgeDesired,
  port: string,
  before: HostState,
  now: HostState,
): Plan {
  const undo = planNetworkStop(recordBridgePort(bridge, port, before), now);
  const was = findLink(before, port);
  const steps = [...undo.steps];
  if (was !== undefined && !was.up && findLink(now, port)?.up)
    steps.push(makeStep(`link:${port}:down`, 'link', ip.linkDown(port), `${port} was down before`));
  return makePlan(steps, undo.warnings);
}
