import type { HostState } from '../model/host.ts';
import type { BridgeDesired } from '../model/network.ts';
import { makePlan, type Plan } from '../model/plan.ts';
import { planBridge, planPort, planUp } from './bridge.ts';

/** `xenplan bridge-port`: bridge exists with its options and is up; port is in it and up. */
export function planBridgePort(bridge: BridgeDesired, port: string, host: HostState): Plan {
  return makePlan([
    ...planBridge(bridge, host),
    ...planPort(bridge.name, port, host),
    ...planUp(bridge.name, host, 'bridge', `bridge:${bridge.name}:up`),
  ]);
}
