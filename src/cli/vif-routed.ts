import { applyAndVerify, checkConverged } from '../apply/converge.ts';
import type { AntispoofPolicy } from '../model/antispoof.ts';
import { XenplanError } from '../model/error.ts';
import type { Address, Family, HostState } from '../model/host.ts';
import { checkInterfaceName } from '../model/names.ts';
import { makePlan, type Plan, type Step, type XenstoreWrite } from '../model/plan.ts';
import type { VifIdentity } from '../model/vif.ts';
import type { GuestRoute, LocalAddress, RoutedDesired } from '../model/vif-mode.ts';
import { observeNat, observeRouted } from '../observe/routed.ts';
import { natAddresses, planNatOffline, planNatOnline } from '../plan/nat-vif.ts';
import {
  FORWARDING_KEYS,
  ipv4ConfKey,
  planRoutedOffline,
  planRoutedOnline,
  routeDst,
} from '../plan/routed-vif.ts';
import { offlineDevice } from '../plan/vif.ts';
import type { BackendValues } from '../xen/backend.ts';
import type { HotplugRequest } from '../xen/hotplug.ts';
import type { Context } from './context.ts';
import { applyWithMark, filtered, unfiltered } from './vif-antispoof.ts';

/** Xen's vif-route metrics: a tap's route wins over the PV vif's while both exist (HVM boot). */
const METRIC = { tap: 1, vif: 2 } as const;

/** What cli/vif.ts hands a mode: the event, the validated backend, the guest's identity. */
export interface ModeEvent {
  readonly ctx: Context;
  readonly request: HotplugRequest;
  readonly backend: BackendValues;
  readonly who: VifIdentity;
  readonly writes: readonly XenstoreWrite[];
  readonly show: (plan: Plan, what: string) => void;
  /** The host's vif-antispoof setting (online / add). */
  readonly antispoof: AntispoofPolicy;
}

/** The device holding dom0's address: netdev= / gatewaydev= words, libxl's $netdev, else eth0 as Xen. */
export function gatewayDevice(request: HotplugRequest, env: Context['env']): string {
  const value = request.args.gatewaydev ?? request.args.netdev ?? (env.netdev || 'eth0');
  const problem = checkInterfaceName(value, 'gatewaydev (netdev)');
  if (problem) throw new XenplanError('config', problem);
  return value;
}

function familyOf(cidr: string): Family {
  return cidr.includes(':') ? 'inet6' : 'inet';
}

/** dom0's first global address of `family` on the gateway device (Xen: the primary IPv4 one). */
function dom0Address(host: HostState, gateway: string, family: Family): string {
  const found = host.addresses.find(
    (a: Address) => a.dev === gateway && a.family === family && a.scope === 'global',
  );
  if (found) return found.local;
  const known = host.links.some((l) => l.name === gateway);
  throw new XenplanError(
    'config',
    known
      ? `gateway device ${gateway} has no global ${family === 'inet' ? 'IPv4' : 'IPv6'} address for the guest's next hop; set gatewaydev= in the vif config to the device that has one`
      : `gateway device ${gateway} does not exist; set gatewaydev= in the vif config (libxl passes it as netdev)`,
  );
}

function routedDesired(event: ModeEvent, host: HostState, gateway: string): RoutedDesired {
  const { backend, who, request } = event;
  if (backend.ips.length === 0)
    throw new XenplanError(
      'config',
      `a routed guest needs its addresses in the vif's ip key (ip=192.0.2.10 in the vif config); without one nothing routes to ${who.name}`,
    );
  const local: LocalAddress[] = [];
  const routes: GuestRoute[] = [];
  for (const ip of backend.ips) {
    const family = familyOf(ip);
    const src = dom0Address(host, gateway, family);
    if (!local.some((l) => l.family === family)) local.push({ family, address: src });
    routes.push({ family, dst: routeDst(ip), src, metric: METRIC[request.typeIf] });
  }
  return { ...who, local, routes, ...(backend.mtu === undefined ? {} : { mtu: backend.mtu }) };
}

function natDesired(event: ModeEvent): RoutedDesired {
  const { backend, who, request } = event;
  const { guest, router } = natAddresses(request.domid, request.devid, backend.ips);
  return {
    ...who,
    local: [{ family: 'inet', address: router }],
    routes: [{ family: 'inet', dst: guest, src: router }],
    masquerade: guest,
    ...(backend.mtu === undefined ? {} : { mtu: backend.mtu }),
  };
}

function keysFor(name: string): string[] {
  return [
    ipv4ConfKey(name, 'proxy_arp'),
    ipv4ConfKey(name, 'forwarding'),
    FORWARDING_KEYS.inet,
    FORWARDING_KEYS.inet6,
  ];
}

/** online / add of a routed (vif-xenplan-route) or NAT (vif-xenplan-nat) guest. */
export async function attachRouted(event: ModeEvent, mode: 'route' | 'nat'): Promise<string> {
  const { ctx, request, who } = event;
  const gateway = mode === 'route' ? gatewayDevice(request, ctx.env) : undefined;
  const names = [who.dev, who.name, ...(gateway ? [gateway] : [])];
  const observe = () => observeRouted(ctx.runner, ctx.files, names, keysFor(who.name));
  const plan = async (host: HostState) => {
    const want = mode === 'route' ? routedDesired(event, host, gateway!) : natDesired(event);
    const extra: Step[] = want.masquerade
      ? planNatOnline(want.masquerade, who.name, await observeNat(ctx.runner))
      : [];
    return filtered(event, host, planRoutedOnline(want, host, extra, event.writes));
  };
  const { plan: first, filter, mark } = await plan(await observe());
  const what = `${who.name} ${mode === 'route' ? `routed via ${gateway}` : 'NAT'}`;
  if (request.dryRun) {
    event.show(first, what);
    return 'dry-run';
  }
  await applyWithMark(ctx, first, filter, mark);
  checkConverged(first.steps.length, (await plan(await observe())).plan);
  for (const warning of first.warnings) ctx.err(`vif-script: ${warning}\n`);
  return `${what}: ${first.steps.length} step(s)${request.typeIf === 'vif' ? ', connected' : ''}`;
}

/** offline / remove: routes, dom0's addresses, down; a NAT guest's element out of the set. */
export async function detachRouted(
  event: Omit<ModeEvent, 'writes' | 'antispoof'>,
  mode: 'route' | 'nat',
): Promise<string> {
  const { ctx, request, who, backend } = event;
  const observe = (names: readonly string[]) => observeRouted(ctx.runner, ctx.files, names, []);
  const { name, note } = offlineDevice(who, await observe([who.name, who.dev]));
  if (note) ctx.err(`vif-script: ${note}\n`);
  const plan = async (): Promise<Plan> => {
    const host = await observe([name]);
    if (mode === 'route') return planRoutedOffline(name, host);
    // The guest's address from the backend (or Xen's scheme), and any IPv4 host route to it.
    const guests = host.routes
      .filter((r) => r.dev === name && r.family === 'inet' && !r.dst.includes('/') && r.protocol !== 'kernel')
      .map((r) => r.dst);
    try {
      guests.push(natAddresses(request.domid, request.devid, backend.ips).guest);
    } catch {
      // An address Xen's scheme refuses was never masqueraded.
    }
    return planRoutedOffline(name, host, planNatOffline(guests, name, await observeNat(ctx.runner)));
  };
  const first = await plan();
  const { filter, mark } = unfiltered(ctx, name);
  if (request.dryRun) {
    event.show(makePlan([...first.steps, ...filter.steps], first.warnings), name);
    return 'dry-run';
  }
  try {
    await applyAndVerify(ctx.runner, first, plan);
  } catch (error) {
    // The device may vanish under us (netback frees it as the guest goes): that is success.
    const left = await plan();
    if (left.steps.length > 0) throw error;
  }
  // Its rules go once it is down, so no frame of it ever passes unfiltered.
  await applyWithMark(ctx, makePlan(filter.steps), filter, mark);
  return `${name} detached (${mode}): ${first.steps.length + filter.steps.length} step(s)`;
}
