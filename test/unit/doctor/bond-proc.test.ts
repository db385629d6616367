import { describe, expect, it } from 'vitest';
import { parseBondProc } from '../../../src/doctor/bond-proc.ts';
import { lacpProc } from './proc.ts';

describe('parseBondProc', () => {
  it('reads the mode and per-slave aggregator and partner MAC', () => {
    const proc = parseBondProc(
      lacpProc([
        { name: 'eth0', aggregator: 1, partner: '00:00:5E:00:01:01' },
        { name: 'eth1', aggregator: 2, partner: '00:00:00:00:00:00' },
      ]),
    );
    expect(proc).toEqual({
      mode: '802.3ad',
      slaves: [
        { name: 'eth0', aggregatorId: '1', partnerMac: '00:00:5e:00:01:01' },
        { name: 'eth1', aggregatorId: '2', partnerMac: '00:00:00:00:00:00' },
      ],
    });
  });

  it('reads an old balance-rr file', () => {
    const text = [
      'Ethernet Channel Bonding Driver: v3.4.0 (October 7, 2008)',
      '',
      'Bonding Mode: load balancing (round-robin)',
      'MII Status: up',
      '',
      'Slave Interface: eth0',
      'MII Status: up',
      'Permanent HW addr: 00:1e:c9:bb:3b:de',
    ].join('\n');
    expect(parseBondProc(text)).toEqual({ mode: 'balance-rr', slaves: [{ name: 'eth0' }] });
  });
});
