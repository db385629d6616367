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

/** Is `r` the main table's default route of `family`? (gateway= replaces it.) */
function isMainDefault(r: Route, family: Route['family']): boolean {
  return r.dst === 'default' && r.family === family && r.table === undefined;
}

/**
 * Steps that re-create on `target` every route that lived on the old holders, with the same
 * destination, gateway, metric, table, source and protocol (`ip route replace`), and the
 * default route via `gateway` when one was given. With gateway=, the old default route of that
 * family is not re-created: it is recorded (stop puts it back where it was) and replaced.
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
  const gatewayFamily = gateway === undefined ? undefined : gateway.includes(':') ? 'inet6' : 'inet';
  for (const r of host.routes) {
    if (r.dev === undefined || r.dev === target || !sources.includes(r.dev) || !isMovableRoute(r)) continue;
    const key = routeKey(r);
    if (seen.has(key)) continue;
    seen.add(key);
    moved.push({ to: target, route: r });
    if (gatewayFamily !== undefined && isMainDefault(r, gatewayFamily) && r.gateway !== gateway) continue;
    steps.push(routeStep(r, target, `${describeRoute(r)} lived on ${r.dev}; re-create it on ${target}`));
  }
  if (gateway !== undefined && gatewayFamily !== undefined) {
    const have = host.routes.some(
      (r) => isMainDefault(r, gatewayFamily) && r.dev === target && r.gateway === gateway,
    );
    const route: Route = { dst: 'default', family: gatewayFamily, dev: target, gateway };
    if (!have) {
      moved.push({ to: target, route });
      const replaced = host.routes.find(
        (r) => isMainDefault(r, gatewayFamily) && r.gateway !== gateway && r.dev !== undefined,
      );
      const was = replaced === undefined ? '' : ` (replaces ${describeRoute(replaced)} on ${replaced.dev})`;
      steps.push(
        routeStep(route, target, `default route via ${gateway} (gateway=) belongs on ${target}${was}`),
      );
    }
  }
  return { steps, moved };
}

/**
 * Routes an earlier start recorded for `target` that are missing from it: a start killed after
 * the kernel dropped the NIC's routes (with its addresses) finds nothing left to move, so it
 * re-creates them from the record. A route start added (gateway=) wins over a moved one with
 * the same key; routes whose key `skip` holds (planned already) are left alone.
 */
export function planRecordedRoutes(
  host: HostState,
  target: string,
  recorded: readonly MovedRoute[],
  skip: ReadonlySet<string>,
): Step[] {
  const byKey = new Map<string, Route>();
  for (const m of recorded) {
    if (m.to !== target || !isMovableRoute(m.route)) continue;
    const key = routeKey(m.route);
    const added = m.route.dev === undefined || m.route.dev === m.to;
    if (!byKey.has(key) || added) byKey.set(key, m.route);
  }
  const steps: Step[] = [];
  for (const [key, r] of byKey) {
    if (skip.has(key)) continue;
    const there = host.routes.some(
      (h) => routeKey(h) === key && h.dev === target && (h.gateway ?? '') === (r.gateway ?? ''),
    );
    if (!there)
      steps.push(
        routeStep(
          r,
          target,
          `${describeRoute(r)} was recorded by an earlier start and is missing on ${target}`,
        ),
      );
  }
  return steps;
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
