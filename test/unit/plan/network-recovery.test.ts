import { describe, expect, it } from 'vitest';
import { XenplanError } from '../../../src/model/error.ts';
import type { HostState } from '../../../src/model/host.ts';
import { planBridgePortUndo } from '../../../src/plan/bridge-port.ts';
import { planNetworkStart } from '../../../src/plan/network.ts';
import { planNetworkStop } from '../../../src/plan/network-stop.ts';
import { settleBudget } from '../../../src/plan/settle.ts';
import { bonded, bondState, bridge, host, link, MAC0, route, rows, single, v4 } from '../../support/host.ts';

/** dom0 on eth0: 192.0.2.10/24, default via .1, a static route. */
function onEth0(): HostState {
  return host(
    [link('eth0', { mac: MAC0 })],
    [v4('eth0', '192.0.2.10/24')],
    [
      route('default', 'eth0', { gateway: '192.0.2.1' }),
      route('198.51.100.0/24', 'eth0', { gateway: '192.0.2.1', metric: 50 }),
    ],
  );
}

/** Killed after the address left eth0: on xenbr0, but the kernel dropped every route with it. */
function killedAfterDelete(): HostState {
  return host(
    [link('eth0', { mac: MAC0, master: 'xenbr0' }), bridge('xenbr0', MAC0)],
    [v4('xenbr0', '192.0.2.10/24')],
    [route('192.0.2.0/24', 'xenbr0', { protocol: 'kernel', scope: 'link' })],
  );
}

describe('start after a kill: recorded routes are re-planned', () => {
  it('re-creates the default and static routes the record holds, and nothing else', () => {
    const first = planNetworkStart(single(), onEth0());
    const again = planNetworkStart(single(), killedAfterDelete(), first.record);
    expect(rows(again.plan.steps)).toEqual([
      ['route:inet:main:default:', 'route', 'ip route replace default via 192.0.2.1 dev xenbr0', false],
      [
        'route:inet:main:198.51.100.0/24:50',
        'route',
        'ip route replace 198.51.100.0/24 via 192.0.2.1 dev xenbr0 metric 50',
        false,
      ],
    ]);
    expect(again.plan.steps.map((s) => s.reason)).toEqual([
      'default via 192.0.2.1 was recorded by an earlier start and is missing on xenbr0',
      '198.51.100.0/24 via 192.0.2.1 metric 50 was recorded by an earlier start and is missing on xenbr0',
    ]);
  });

  it('plans nothing once the routes are back (a converged host plans 0 steps)', () => {
    const first = planNetworkStart(single(), onEth0());
    const done = host(
      [...killedAfterDelete().links],
      [...killedAfterDelete().addresses],
      [
        ...killedAfterDelete().routes,
        route('default', 'xenbr0', { gateway: '192.0.2.1' }),
        route('198.51.100.0/24', 'xenbr0', { gateway: '192.0.2.1', metric: 50 }),
      ],
    );
    expect(planNetworkStart(single(), done, first.record).plan.steps).toEqual([]);
  });
});

describe('gateway= on the first start', () => {
  it('replaces the default route instead of moving the old one, and records both for stop', () => {
    const { plan, record } = planNetworkStart(single({ gateway: '192.0.2.254' }), onEth0());
    expect(rows(plan.steps.filter((s) => s.phase === 'route'))).toEqual([
      [
        'route:inet:main:198.51.100.0/24:50',
        'route',
        'ip route replace 198.51.100.0/24 via 192.0.2.1 dev xenbr0 metric 50',
        false,
      ],
      ['route:inet:main:default:', 'route', 'ip route replace default via 192.0.2.254 dev xenbr0', false],
    ]);
    expect(plan.steps.at(-1)?.reason).toBe(
      'default route via 192.0.2.254 (gateway=) belongs on xenbr0 (replaces default via 192.0.2.1 on eth0)',
    );
    // Stop (bridge still there): the added route goes first, then the old default goes back on eth0.
    const started = host(
      [link('eth0', { mac: MAC0, master: 'xenbr0' }), bridge('xenbr0', MAC0)],
      [v4('xenbr0', '192.0.2.10/24')],
      [
        route('default', 'xenbr0', { gateway: '192.0.2.254' }),
        route('198.51.100.0/24', 'xenbr0', { gateway: '192.0.2.1', metric: 50 }),
      ],
    );
    const kept = { ...record, created: [] };
    expect(
      rows(planNetworkStop(kept, started).steps.filter((s) => s.phase === 'route')).map((r) => r[2]),
    ).toEqual([
      'ip route del default via 192.0.2.254 dev xenbr0',
      'ip route replace default via 192.0.2.1 dev eth0',
      'ip route replace 198.51.100.0/24 via 192.0.2.1 dev eth0 metric 50',
    ]);
  });
});

describe('dynamic addresses', () => {
  const leased = () =>
    host(
      [link('eth0', { mac: MAC0 })],
      [v4('eth0', '192.0.2.10/24', { validLft: 600, preferredLft: 300 })],
      [route('default', 'eth0', { gateway: '192.0.2.1' })],
    );

  it('refuses a lease by default, naming it and what to do', () => {
    expect(() => planNetworkStart(single(), leased())).toThrow(XenplanError);
    expect(() => planNetworkStart(single(), leased())).toThrow(
      /^192\.0\.2\.10\/24 on eth0 is dynamic \(a DHCP lease or SLAAC address, valid 600 s more\): start would make it permanent on xenbr0; .*dhcp=move.*; nothing was changed$/,
    );
  });

  it('dhcp=move moves it with its remaining lifetimes', () => {
    const { plan } = planNetworkStart(single({ dhcp: 'move' }), leased());
    expect(plan.steps.find((s) => s.id === 'address:xenbr0:192.0.2.10/24')?.argv.join(' ')).toBe(
      'ip address add 192.0.2.10/24 valid_lft 600 preferred_lft 300 dev xenbr0',
    );
  });
});

describe('settleBudget', () => {
  it('is 5 s for a NIC, plus the bond timers and twice the forward delay with STP', () => {
    expect(settleBudget(single(), onEth0())).toEqual({ ms: 5000, parts: ['5 s for NICs to renegotiate'] });
    const bond = host([
      link('bond0', {
        kind: 'bond',
        bond: bondState('active-backup', { updelay: '200', arp_interval: '1000', miimon: '0' }),
      }),
    ]);
    const want = bonded('active-backup', { bridge: { name: 'xenbr0', stp: true, forwardDelay: 200 } });
    expect(settleBudget(want, bond)).toEqual({
      ms: 5000 + 200 + 3000 + 4000,
      parts: [
        '5 s for NICs to renegotiate',
        'updelay 200 ms',
        '3 x arp_interval 1000 ms',
        '2 x forward delay 2 s',
      ],
    });
  });
});

describe('planBridgePortUndo', () => {
  it('deletes the bridge it created and takes the port down again if it was down', () => {
    const before = host([link('eth0', { up: false })]);
    const now = host([link('eth0', { master: 'xenbr9' }), bridge('xenbr9', MAC0)]);
    const want = { name: 'xenbr9', stp: false, forwardDelay: 0 };
    expect(rows(planBridgePortUndo(want, 'eth0', before, now).steps)).toEqual([
      ['link:xenbr9:delete', 'link', 'ip link del dev xenbr9', true],
      ['link:eth0:down', 'link', 'ip link set dev eth0 down', false],
    ]);
  });
});
