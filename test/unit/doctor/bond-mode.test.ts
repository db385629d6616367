import { describe, expect, it } from 'vitest';
import { bridgedBond, host, network, run, withBond } from './host.ts';
import { lacpProc } from './proc.ts';

describe('BOND001 rr-under-bridge', () => {
  it('fires for a live balance-rr bond in a bridge', () => {
    const [f, ...rest] = run('BOND001', bridgedBond('balance-rr').input());
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('error');
    expect(f?.objects).toEqual(['bond0', 'xenbr0']);
    expect(f?.message).toMatch(/^bond0 is in mode balance-rr under bridge xenbr0: /);
    expect(f?.fix).toContain(
      "bond-mode=active-backup miimon=100 bond.primary=eth0 (ifcfg: BONDING_OPTS='mode=active-backup miimon=100 primary=eth0')",
    );
  });

  it('fires from the config alone (mode 0 by number)', () => {
    const findings = run('BOND001', { desired: withBond('0', { miimon: '100' }) });
    expect(findings.map((f) => f.objects)).toEqual([['bond0', 'xenbr0']]);
  });

  it('does not fire for balance-rr not in a bridge', () => {
    const input = host().bond('bond0', { mode: 'balance-rr', miimon: 100 }).slave('eth0', 'bond0').input();
    expect(run('BOND001', input)).toEqual([]);
  });

  it('takes the live mode from /proc/net/bonding over the config', () => {
    const proc = 'Bonding Mode: load balancing (round-robin)\n\nSlave Interface: eth0\n';
    const findings = run('BOND001', {
      desired: withBond('active-backup', { miimon: '100' }),
      bondProc: { bond0: proc },
    });
    expect(findings.map((f) => f.id)).toEqual(['BOND001']);
  });

  it('prefers the live mode over the configured one', () => {
    const input = bridgedBond('active-backup')
      .desired(withBond('balance-rr', { miimon: '100' }))
      .input();
    expect(run('BOND001', input)).toEqual([]);
  });
});

describe('BOND002 multi-switch-unsafe-mode', () => {
  const separate = { topology: { switches: 'separate' } };

  it('fires for balance-rr with switches=separate declared', () => {
    const [f, ...rest] = run('BOND002', { desired: withBond('balance-rr', { miimon: '100' }, separate) });
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('error');
    expect(f?.objects).toEqual(['bond0', 'eth0', 'eth1']);
    expect(f?.message).toContain('slaves eth0 and eth1 terminate on independent switches');
  });

  it('does not fire for active-backup across separate switches', () => {
    expect(run('BOND002', { desired: withBond('active-backup', { miimon: '100' }, separate) })).toEqual([]);
  });

  it('does not fire without a declared topology', () => {
    expect(run('BOND002', { desired: withBond('balance-rr', { miimon: '100' }) })).toEqual([]);
  });

  it('fires when 802.3ad partners differ even with lacp=mlag declared', () => {
    const proc = lacpProc([
      { name: 'eth0', aggregator: 1, partner: '00:00:5e:00:01:01' },
      { name: 'eth1', aggregator: 1, partner: '00:00:5e:00:01:02' },
    ]);
    const input = bridgedBond('802.3ad')
      .desired(network({ topology: { lacp: 'mlag' } }))
      .with({ bondProc: { bond0: proc } })
      .input();
    const findings = run('BOND002', input);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toContain(
      'different 802.3ad partners (00:00:5e:00:01:01 and 00:00:5e:00:01:02)',
    );
  });

  it('does not fire for 802.3ad with lacp=mlag and one partner', () => {
    const proc = lacpProc([
      { name: 'eth0', aggregator: 1, partner: '00:00:5e:00:01:01' },
      { name: 'eth1', aggregator: 1, partner: '00:00:5e:00:01:01' },
    ]);
    const input = bridgedBond('802.3ad')
      .desired(network({ topology: { switches: 'separate', lacp: 'mlag' } }))
      .with({ bondProc: { bond0: proc } })
      .input();
    expect(run('BOND002', input)).toEqual([]);
  });
});

describe('BOND003 lacp-split-aggregator', () => {
  it('fires when slaves are in different aggregators', () => {
    const proc = lacpProc([
      { name: 'eth0', aggregator: 1, partner: '00:00:5e:00:01:01' },
      { name: 'eth1', aggregator: 2, partner: '00:00:5e:00:01:01' },
    ]);
    const [f, ...rest] = run(
      'BOND003',
      bridgedBond('802.3ad')
        .with({ bondProc: { bond0: proc } })
        .input(),
    );
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('error');
    expect(f?.objects).toEqual(['bond0', 'eth0', 'eth1']);
    expect(f?.message).toContain('slaves are in aggregators eth0:1, eth1:2');
  });

  it('fires when a slave sees no partner', () => {
    const proc = lacpProc([
      { name: 'eth0', aggregator: 1, partner: '00:00:5e:00:01:01' },
      { name: 'eth1', aggregator: 1, partner: '00:00:00:00:00:00' },
    ]);
    const [f] = run(
      'BOND003',
      bridgedBond('802.3ad')
        .with({ bondProc: { bond0: proc } })
        .input(),
    );
    expect(f?.message).toContain('eth1 see no LACP partner (00:00:00:00:00:00)');
  });

  it('does not fire for one aggregator with one partner', () => {
    const proc = lacpProc([
      { name: 'eth0', aggregator: 1, partner: '00:00:5e:00:01:01' },
      { name: 'eth1', aggregator: 1, partner: '00:00:5e:00:01:01' },
    ]);
    expect(
      run(
        'BOND003',
        bridgedBond('802.3ad')
          .with({ bondProc: { bond0: proc } })
          .input(),
      ),
    ).toEqual([]);
  });
});

describe('BOND004 tlb-alb-under-bridge', () => {
  it('fires for balance-alb in a bridge', () => {
    const [f, ...rest] = run('BOND004', bridgedBond('balance-alb').input());
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.message).toMatch(/^bond0 is in mode balance-alb under bridge xenbr0: /);
  });

  it('does not fire for balance-tlb outside a bridge', () => {
    const input = host().bond('bond0', { mode: 'balance-tlb', miimon: 100 }).slave('eth0', 'bond0').input();
    expect(run('BOND004', input)).toEqual([]);
  });
});

describe('BOND005 broadcast-under-bridge', () => {
  it('fires for broadcast in a bridge', () => {
    const findings = run('BOND005', { desired: withBond('3', { miimon: '100' }) });
    expect(findings.map((f) => [f.severity, f.objects])).toEqual([['warning', ['bond0', 'xenbr0']]]);
  });

  it('does not fire for active-backup in a bridge', () => {
    expect(run('BOND005', bridgedBond('active-backup').input())).toEqual([]);
  });
});

describe('BOND006 static-lag-without-switch-group', () => {
  it('fires for balance-xor with no declared port group', () => {
    const [f, ...rest] = run('BOND006', { desired: withBond('balance-xor', { miimon: '100' }) });
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.message).toContain('switch ports of eth0 and eth1 grouped as a static EtherChannel');
  });

  it('does not fire when port-group=static is declared', () => {
    const desired = withBond('balance-rr', { miimon: '100' }, { topology: { 'port-group': 'static' } });
    expect(run('BOND006', { desired })).toEqual([]);
  });

  it('does not fire for balance-xor vlan+srcmac with SLB filtering', () => {
    const desired = withBond(
      'balance-xor',
      { miimon: '100', xmit_hash_policy: 'vlan+srcmac' },
      { topology: { slb: 'filtered' } },
    );
    expect(run('BOND006', { desired })).toEqual([]);
  });
});
