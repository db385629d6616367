import { describe, expect, it } from 'vitest';
import type { Link } from '../../../src/model/host.ts';
import { planBridgePort } from '../../../src/plan/bridge-port.ts';
import { link as anyLink, host as hostOf } from '../../support/host.ts';

/** Links start down here, as a NIC does before anything brings it up. */
const link = (name: string, extra: Partial<Link> = {}) =>
  anyLink(name, { up: false, carrier: false, operstate: 'DOWN', ...extra });
const host = (...links: Link[]) => hostOf(links);

const bridgeState = { stp: false, forwardDelay: 0, helloTime: 200, maxAge: 2000 };
const want = { name: 'xenbr0', stp: false, forwardDelay: 0 };

describe('planBridgePort', () => {
  it('creates the bridge, enslaves the port and brings both up on a bare host', () => {
    expect(planBridgePort(want, 'eth0', host(link('eth0'))).steps).toEqual([
      {
        id: 'bridge:xenbr0:create',
        phase: 'bridge',
        argv: [
          'ip',
          'link',
          'add',
          'name',
          'xenbr0',
          'type',
          'bridge',
          'stp_state',
          '0',
          'forward_delay',
          '0',
        ],
        reason: 'xenbr0 does not exist; create it (stp off, forward delay 0s)',
        disruptive: false,
      },
      {
        id: 'port:eth0:master',
        phase: 'port',
        argv: ['ip', 'link', 'set', 'dev', 'eth0', 'master', 'xenbr0'],
        reason: 'eth0: want in xenbr0, have not in a bridge',
        disruptive: true,
      },
      {
        id: 'link:eth0:up',
        phase: 'port',
        argv: ['ip', 'link', 'set', 'dev', 'eth0', 'up'],
        reason: 'eth0 is down',
        disruptive: false,
      },
      {
        id: 'bridge:xenbr0:up',
        phase: 'bridge',
        argv: ['ip', 'link', 'set', 'dev', 'xenbr0', 'up'],
        reason: 'xenbr0 is new and down',
        disruptive: false,
      },
    ]);
  });

  it('plans nothing on a converged host', () => {
    const converged = host(
      link('xenbr0', { kind: 'bridge', up: true, bridge: bridgeState }),
      link('eth0', { master: 'xenbr0', up: true }),
    );
    expect(planBridgePort(want, 'eth0', converged).steps).toEqual([]);
  });

  it('fixes only the options that differ, STP first, and moves a port from another bridge', () => {
    const drifted = host(
      link('xenbr0', { kind: 'bridge', up: true, bridge: { ...bridgeState, stp: true, forwardDelay: 1500 } }),
      link('eth0', { master: 'other', up: true }),
    );
    expect(planBridgePort(want, 'eth0', drifted).steps.map((s) => [s.argv.join(' '), s.reason])).toEqual([
      [
        'ip link set dev xenbr0 type bridge stp_state 0 forward_delay 0',
        'xenbr0 options: want stp off (have on), forward delay 0s (have 15s)',
      ],
      ['ip link set dev eth0 master xenbr0', 'eth0: want in xenbr0, have in other'],
    ]);
  });

  it('refuses a port that does not exist and a bridge name held by another kind', () => {
    expect(() => planBridgePort(want, 'eth9', host())).toThrow(
      'port eth9 does not exist; expected an existing interface to put in xenbr0',
    );
    expect(() => planBridgePort(want, 'eth0', host(link('xenbr0', { kind: 'veth' }), link('eth0')))).toThrow(
      'xenbr0 exists but is a veth device, not a bridge',
    );
  });
});
