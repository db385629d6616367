import type { HostState, Route } from '../model/host.ts';
import type { Step } from '../model/plan.ts';
import type { MovedRoute } from '../model/record.ts';
import { ip, type RouteSpec, routeWords } from './command.ts';
import { makeStep } from './step.ts';

/** Routes an admin or a daemon made (not the kernel's own, not the local table), unicast. */
export function isMovableRoute(r: Route): boolean {
  return r.table !== 'local' && r.protocol !== 'kernel' && r.type === undefined;
}

export function routeSpec(r: Route, dev: string): RouteSpec {
  return {
    family: r.family,
    dst: r.dst,
    dev,
    ...(r.gateway === undefined ? {} : { gateway: r.gateway }),
    ...(r.table === undefined ? {} : { table: r.table }),
    ...(r.metric === undefined ? {} : { metric: r.metric }),
    ...(r.prefsrc === undefined ? {} : { prefsrc: r.prefsrc }),
    ...(r.protocol === undefined || r.protocol === 'boot' ? {} : { protocol: r.protocol }),
    ...(r.scope === undefined || r.scope === 'global' || r.scope === 'universe' ? {} : { scope: r.scope }),
  };
}

/** The key the kernel replaces a route by: family, table, destination, metric. */
export function routeKey(r: Pick<Route, 'family' | 'dst' | 'table' | 'metric'>): string {
  return `${r.family}:${r.table ?? 'main'}:${r.dst}:${r.metric ?? ''}`;
}

export function describeRoute(r: Route): string {
  const via = r.gateway === undefined ? '' : ` via ${r.gateway}`;
  const table = r.table === undefined ? '' : ` table ${r.table}`;
  const metric = r.metric === undefined ? '' : ` metric ${r.metric}`;
  return `${r.dst}${via}${table}${metric}`;
}

export function routeStep(r: Route, dev: string, reason: string): Step {
  return makeStep(`route:${routeKey(r)}`, 'route', ip.routeReplace(routeWords(routeSpec(r, dev))), reason);
}

/**
 * Steps that re-create on `target` every route that lived on the old holders, with the same
 * destination, gateway, metric, table, source and protocol (`ip route replace`), and the
 * default route via `gateway` when one was given.
 */
export function planRoutes(
  host: HostState,
  target: string,
  sources: readonly string[],
  gateway?: string,
): { steps: Step[]; moved: MovedRoute[] } {
  const steps: Step[] = [];
  const moved: MovedRoute[] = [];
  const seen = new Set<string>();
  for (const r of host.routes) {
    if (r.dev === undefined || r.dev === target || !sources.includes(r.dev) || !isMovableRoute(r)) continue;
    const key = routeKey(r);
    if (seen.has(key)) continue;
    seen.add(key);
    moved.push({ to: target, route: r });
    steps.push(routeStep(r, target, `${describeRoute(r)} lived on ${r.dev}; re-create it on ${target}`));
  }
  if (gateway !== undefined) {
    const family = gateway.includes(':') ? 'inet6' : 'inet';
    const have = host.routes.some(
      (r) =>
        r.dst === 'default' &&
        r.family === family &&
        r.table === undefined &&
        r.dev === target &&
        r.gateway === gateway,
    );
    const route: Route = { dst: 'default', family, dev: target, gateway };
    if (!have && !seen.has(routeKey(route))) {
      moved.push({ to: target, route });
      steps.push(routeStep(route, target, `default route via ${gateway} (gateway=) belongs on ${target}`));
    }
  }
  return { steps, moved };
}

/**
 * Routes with their family read from their addresses, each once. `ip -batch` lists IPv6 routes
 * in its "route show table all" too, where the observer labels them inet.
 */
export function withRouteFamilies(host: HostState): HostState {
  const seen = new Set<string>();
  const routes: Route[] = [];
  for (const r of host.routes) {
    const v6 =
      r.dst.includes(':') || (r.gateway?.includes(':') ?? false) || (r.prefsrc?.includes(':') ?? false);
    const route: Route = v6 && r.family === 'inet' ? { ...r, family: 'inet6' } : r;
    const key = `${routeKey(route)}:${route.dev ?? ''}:${route.gateway ?? ''}:${route.type ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    routes.push(route);
  }
  return { ...host, routes };
}
