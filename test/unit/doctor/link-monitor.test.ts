import { describe, expect, it } from 'vitest';
import { bridgedBond, run, withBond } from './host.ts';

describe('BOND007 no-link-monitor', () => {
  it('fires (error) for a live bond with miimon 0 and no ARP monitor', () => {
    const [f, ...rest] = run('BOND007', bridgedBond('active-backup', {}, 0).input());
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('error');
    expect(f?.message).toBe(
      'bond0 has no link monitoring (miimon=0, arp_interval=0): the bond cannot detect a failed slave and will keep sending into it',
    );
  });

  it('warns when the config leaves miimon out', () => {
    const findings = run('BOND007', { desired: withBond('active-backup', {}) });
    expect(findings.map((f) => f.severity)).toEqual(['warning']);
  });

  it('does not fire with the ARP monitor configured', () => {
    const desired = withBond('active-backup', {
      miimon: '0',
      arp_interval: '1000',
      arp_ip_target: '192.0.2.1',
    });
    expect(run('BOND007', { desired })).toEqual([]);
  });
});

describe('BOND008 miimon-and-arp-both', () => {
  it('fires when miimon and arp_interval are both set', () => {
    const desired = withBond('active-backup', {
      miimon: '100',
      arp_interval: '1000',
      arp_ip_target: '192.0.2.1',
    });
    const [f, ...rest] = run('BOND008', { desired });
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('error');
    expect(f?.message).toContain('bond0 sets both miimon=100 and arp_interval=1000');
  });

  it('does not fire with arp_interval 0', () => {
    expect(
      run('BOND008', { desired: withBond('active-backup', { miimon: '100', arp_interval: '0' }) }),
    ).toEqual([]);
  });
});

describe('BOND009 arp-monitor-misconfigured', () => {
  it('fires for the ARP monitor in 802.3ad', () => {
    const desired = withBond('802.3ad', { arp_interval: '1000', arp_ip_target: '192.0.2.1' });
    const [f, ...rest] = run('BOND009', { desired });
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('error');
    expect(f?.message).toBe(
      'bond0 sets arp_interval=1000 in mode 802.3ad: the ARP monitor is unavailable in this mode',
    );
  });

  it('fires for the ARP monitor with no targets (live, empty target list)', () => {
    const input = bridgedBond('active-backup', { arp_interval: '500', arp_ip_target: '' }, 0).input();
    expect(run('BOND009', input).map((f) => f.message)).toEqual([
      'bond0 sets arp_interval=500 with no arp_ip_target: the ARP monitor has no targets',
    ]);
  });

  it('does not fire for active-backup with a target', () => {
    const desired = withBond('active-backup', {
      arp_interval: '1000',
      arp_ip_target: '192.0.2.1,198.51.100.1',
    });
    expect(run('BOND009', { desired })).toEqual([]);
  });
});

describe('BOND010 multi-switch-miimon-only', () => {
  it('fires for active-backup across separate switches with only miimon', () => {
    const desired = withBond('active-backup', { miimon: '100' }, { topology: { switches: 'separate' } });
    const findings = run('BOND010', { desired });
    expect(findings.map((f) => [f.severity, f.objects])).toEqual([['info', ['bond0']]]);
  });

  it('does not fire on a single switch', () => {
    const desired = withBond('active-backup', { miimon: '100' }, { topology: { switches: 'single' } });
    expect(run('BOND010', { desired })).toEqual([]);
  });
});

describe('BOND011 delay-without-miimon', () => {
  it('fires for updelay without miimon', () => {
    const desired = withBond('active-backup', {
      miimon: '0',
      updelay: '200',
      arp_interval: '1000',
      arp_ip_target: '192.0.2.1',
    });
    const [f, ...rest] = run('BOND011', { desired });
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.message).toBe(
      'bond0 sets updelay=200 without miimon: up/downdelay only apply to the MII monitor',
    );
  });

  it('fires for a downdelay that is not a multiple of miimon', () => {
    const findings = run('BOND011', {
      desired: withBond('active-backup', { miimon: '100', downdelay: '250' }),
    });
    expect(findings.map((f) => [f.message, f.fix])).toEqual([
      [
        'bond0 sets downdelay=250, not a multiple of miimon=100: it is rounded down to 200',
        'bond.downdelay=300',
      ],
    ]);
  });

  it('does not fire for multiples of miimon', () => {
    const desired = withBond('active-backup', { miimon: '100', updelay: '30000', downdelay: '200' });
    expect(run('BOND011', { desired })).toEqual([]);
  });
});

describe('BOND012 updelay-shorter-than-switch-forwarding', () => {
  const topology = { 'updelay-needed-ms': '30000' };

  it('fires when updelay is shorter than the declared forwarding time', () => {
    const desired = withBond('active-backup', { miimon: '100', updelay: '200' }, { topology });
    const [f, ...rest] = run('BOND012', { desired });
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.message).toContain('bond0 has updelay=200 ms but the switch ports need 30000 ms to forward');
    expect(f?.fix).toContain('updelay=30000 on bond0');
  });

  it('does not fire when updelay covers it', () => {
    const desired = withBond('active-backup', { miimon: '100', updelay: '31000' }, { topology });
    expect(run('BOND012', { desired })).toEqual([]);
  });

  it('does not fire without a declared forwarding time', () => {
    expect(run('BOND012', { desired: withBond('active-backup', { miimon: '100' }) })).toEqual([]);
  });
});
