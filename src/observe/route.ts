import type { Family, Route } from '../model/host.ts';
import { asRecord, num, parseIpJson, str } from './json.ts';

/**
 * `ip -json route show table all` → Routes. Pure. `table all` lists both families and ip's
 * JSON does not say which: an address with a colon makes it IPv6, else `fallback`.
 */
export function parseRoutes(text: string, fallback: Family = 'inet'): Route[] {
  return parseIpJson(text, 'ip -json route show')
    .map(asRecord)
    .flatMap((entry) => {
      const dst = str(entry.dst);
      if (!dst) return [];
      const v6 = [dst, str(entry.gateway), str(entry.prefsrc)].some((v) => v?.includes(':'));
      const family: Family = v6 ? 'inet6' : fallback;
      const route: { -readonly [K in keyof Route]: Route[K] } = { dst, family, dev: str(entry.dev) };
      const gateway = str(entry.gateway);
      if (gateway) route.gateway = gateway;
      const table = str(entry.table);
      if (table && table !== 'main') route.table = table;
      const protocol = str(entry.protocol);
      if (protocol) route.protocol = protocol;
      const scope = str(entry.scope);
      if (scope) route.scope = scope;
      const metric = num(entry.metric);
      if (metric !== undefined) route.metric = metric;
      const prefsrc = str(entry.prefsrc);
      if (prefsrc) route.prefsrc = prefsrc;
      const type = str(entry.type);
      if (type && type !== 'unicast') route.type = type;
      return [route];
    });
}
