import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAddresses } from '../../../src/observe/address.ts';
import { parseLinks } from '../../../src/observe/link.ts';
import { parseRoutes } from '../../../src/observe/route.ts';

// Captured under User-mode Linux 6.1 (the host kernel here has no bonding): bond0 of eth0 and
// eth1, active-backup, miimon 100, updelay 200, primary eth0, in xenbr0 holding 192.0.2.10/24.
const fixture = (name: string) => readFileSync(`test/fixtures/ip/bond-bridge-uml/${name}`, 'utf8');

describe('parsers on a bond in a bridge', () => {
  const links = parseLinks(fixture('link.json'));
  const byName = new Map(links.map((l) => [l.name, l]));

  it('reads the bond with its mode, monitor, active slave and every option ip reports', () => {
    const bond = byName.get('bond0');
    expect(bond).toMatchObject({ kind: 'bond', master: 'xenbr0', up: true });
    expect(bond?.bond).toMatchObject({ mode: 'active-backup', miimon: 100, activeSlave: 'eth0' });
    expect(bond?.bond?.options).toMatchObject({
      mode: 'active-backup',
      miimon: '100',
      updelay: '200',
      downdelay: '0',
      primary: 'eth0',
      fail_over_mac: 'none',
      xmit_hash_policy: 'layer2',
    });
  });

  it('reads the slaves as enslaved to the bond, and the bond as the bridge port', () => {
    expect(['eth0', 'eth1'].map((n) => byName.get(n)?.master)).toEqual(['bond0', 'bond0']);
    expect(byName.get('xenbr0')).toMatchObject({ kind: 'bridge', bridge: { stp: false, forwardDelay: 0 } });
  });

  it('finds dom0 on the bridge and the default route through it', () => {
    expect(parseAddresses(fixture('address.json')).filter((a) => a.scope === 'global')).toEqual([
      { dev: 'xenbr0', family: 'inet', local: '192.0.2.10', prefixlen: 24, scope: 'global' },
    ]);
    expect(parseRoutes(fixture('route.json')).find((r) => r.dst === 'default')).toEqual({
      dst: 'default',
      family: 'inet',
      dev: 'xenbr0',
      gateway: '192.0.2.1',
    });
  });
});
