import type { HostState } from '../model/host.ts';
import type { Runner } from '../model/ports.ts';

/**
 * The gateway start checks: gateway= when given, else the main table's IPv4 default route's,
 * else its IPv6 one's (a link-local IPv6 gateway cannot be named without its device: none).
 */
export function defaultGateway(host: HostState, explicit?: string): string | undefined {
  if (explicit !== undefined) return explicit;
  const defaults = host.routes.filter(
    (r) => r.dst === 'default' && r.table === undefined && r.gateway !== undefined,
  );
  const v4 = defaults.find((r) => r.family === 'inet');
  if (v4) return v4.gateway;
  return defaults.find((r) => r.family === 'inet6' && !r.gateway!.toLowerCase().startsWith('fe80:'))?.gateway;
}

/** One bounded probe: does `address` answer a ping within `deadlineSeconds`? */
export async function probeGateway(runner: Runner, address: string, deadlineSeconds = 2): Promise<boolean> {
  const argv = ['ping', '-n', '-q', '-c', '1', '-W', '1', '-w', String(deadlineSeconds), address];
  const result = await runner.run(argv);
  return result.exitCode === 0;
}
