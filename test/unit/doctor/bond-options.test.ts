import { describe, expect, it } from 'vitest';
import { bridgedBond, host, run, withBond } from './host.ts';

describe('BOND013 option-ignored-for-mode', () => {
  it('fires for primary in balance-rr and lacp_rate outside 802.3ad', () => {
    const desired = withBond('balance-rr', { miimon: '100', primary: 'eth0', lacp_rate: 'fast' });
    const findings = run('BOND013', { desired });
    expect(findings.map((f) => [f.severity, f.message])).toEqual([
      [
        'warning',
        'bond0: option primary=eth0 has no effect in mode balance-rr (it acts only in active-backup, balance-tlb, balance-alb)',
      ],
      ['warning', 'bond0: option lacp_rate=fast has no effect in mode balance-rr (it acts only in 802.3ad)'],
    ]);
  });

  it('ignores the defaults the kernel reports for every option', () => {
    const input = bridgedBond('active-backup', {
      xmit_hash_policy: 'layer2',
      lacp_rate: 'slow',
      ad_select: 'stable',
      min_links: '0',
      packets_per_slave: '1',
      num_peer_notif: '1',
    }).input();
    expect(run('BOND013', input)).toEqual([]);
  });

  it('does not fire for primary in active-backup', () => {
    expect(
      run('BOND013', { desired: withBond('active-backup', { miimon: '100', primary: 'eth0' }) }),
    ).toEqual([]);
  });
});

describe('BOND014 primary-invalid-or-missing', () => {
  it('fires (error) when primary is not a slave', () => {
    const [f, ...rest] = run('BOND014', {
      desired: withBond('active-backup', { miimon: '100', primary: 'eth2' }),
    });
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('error');
    expect(f?.objects).toEqual(['bond0', 'eth2']);
    expect(f?.fix).toBe('bond.primary=eth0 (the NIC on the preferred switch)');
  });

  it('notes (info) a missing primary across separate switches', () => {
    const desired = withBond('active-backup', { miimon: '100' }, { topology: { switches: 'separate' } });
    expect(run('BOND014', { desired }).map((f) => f.severity)).toEqual(['info']);
  });

  it('does not fire for a primary that is a live slave', () => {
    const input = bridgedBond('active-backup', { primary: 'eth1' }).input();
    expect(run('BOND014', input)).toEqual([]);
  });
});

describe('BOND015 fail-over-mac-hazard', () => {
  it('warns for fail_over_mac=active on a bridged bond', () => {
    const [f, ...rest] = run('BOND015', bridgedBond('active-backup', { fail_over_mac: 'active' }).input());
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.objects).toEqual(['bond0', 'xenbr0']);
  });

  it('errors when the config wants another fail_over_mac than a live bond with slaves has', () => {
    const input = bridgedBond('active-backup', { fail_over_mac: 'none' })
      .desired(withBond('active-backup', { miimon: '100', fail_over_mac: '2' }))
      .input();
    const findings = run('BOND015', input);
    expect(findings.map((f) => [f.severity, f.message])).toEqual([
      [
        'error',
        'bond0: the config wants fail_over_mac=follow but the live bond has none and 2 slave(s): fail_over_mac can only change with no slaves',
      ],
    ]);
  });

  it('does not fire for fail_over_mac=active on a bond outside a bridge', () => {
    const input = host()
      .bond('bond0', { mode: 'active-backup', miimon: 100, options: { fail_over_mac: 'active' } })
      .slave('eth0', 'bond0')
      .input();
    expect(run('BOND015', input)).toEqual([]);
  });
});
