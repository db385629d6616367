import type { Family, Route } from '../model/host.ts';
import { asRecord, num, parseIpJson, str } from './json.ts';

/** `ip -json route show table all` → Routes. Pure. */
export function parseRoutes(text: string, family: Family): Route[] {
  return parseIpJson(text, 'ip -json route show')
    .map(asRecord)
    .flatMap((entry) => {
      const dst = str(entry.dst);
      if (!dst) return [];
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
