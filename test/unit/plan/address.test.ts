import { describe, expect, it } from 'vitest';
import type { Address, HostState } from '../../../src/model/host.ts';
import { planLinkLocalRetry } from '../../../src/plan/address.ts';

const v6 = (dev: string, local: string, scope: string, dadFailed?: boolean): Address => ({
  dev,
  family: 'inet6',
  local,
  prefixlen: 64,
  scope,
  ...(dadFailed ? { dadFailed } : {}),
});
const hostWith = (addresses: Address[]): HostState => ({ links: [], addresses, routes: [], sysctls: {} });

describe('planLinkLocalRetry', () => {
  it("deletes and adds again the holder's failed link-locals, only those", () => {
    const host = hostWith([
      v6('xenbr0', 'fe80::5054:ff:fe12:3456', 'link', true),
      v6('xenbr0', '2001:db8::10', 'global', true),
      v6('eth1', 'fe80::1', 'link', true),
      v6('xenbr0', 'fe80::2', 'link'),
    ]);
    expect(planLinkLocalRetry('xenbr0', host).map((s) => [s.id, s.phase, s.argv.join(' ')])).toEqual([
      [
        'address:xenbr0:fe80::5054:ff:fe12:3456/64:dad-del',
        'address',
        'ip address del fe80::5054:ff:fe12:3456/64 dev xenbr0',
      ],
      [
        'address:xenbr0:fe80::5054:ff:fe12:3456/64:dad-add',
        'address',
        'ip address add fe80::5054:ff:fe12:3456/64 dev xenbr0',
      ],
    ]);
  });

  it('plans nothing when detection passed', () => {
    expect(planLinkLocalRetry('xenbr0', hostWith([v6('xenbr0', 'fe80::2', 'link')]))).toEqual([]);
  });
});
