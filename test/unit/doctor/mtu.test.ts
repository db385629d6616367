import { describe, expect, it } from 'vitest';
import { bridgedBond, run } from './host.ts';

describe('MTU001 mtu-mismatch', () => {
  it('fires when a slave and a vif differ from the rest', () => {
    const input = bridgedBond('active-backup')
      .mtu('eth0', 9000)
      .mtu('eth1', 9000)
      .mtu('bond0', 9000)
      .port('vif1.0', 'xenbr0')
      .input();
    const [f, ...rest] = run('MTU001', input);
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.message).toMatch(
      /^MTUs differ around bridge xenbr0 \(eth0 9000, eth1 9000, bond0 9000, xenbr0 1500, vif1.0 1500\): /,
    );
    expect(f?.fix).toBe(
      'ip link set xenbr0 mtu 9000; ip link set vif1.0 mtu 9000 (slaves → bond → bridge, then each vif)',
    );
  });

  it('does not fire when all MTUs agree', () => {
    expect(run('MTU001', bridgedBond('active-backup').port('vif1.0', 'xenbr0').input())).toEqual([]);
  });
});
