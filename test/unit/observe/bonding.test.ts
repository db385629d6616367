import { describe, expect, it } from 'vitest';
import { XenplanError } from '../../../src/model/error.ts';
import type { FileReader } from '../../../src/model/ports.ts';
import { observeBonding } from '../../../src/observe/host.ts';
import { planNetworkStart } from '../../../src/plan/network.ts';
import { bonded, host, link, MAC0 } from '../../support/host.ts';

/** A FileReader over a fixed set of files. */
function files(tree: Record<string, string>): FileReader {
  return {
    read: (path) => tree[path],
    list: () => undefined,
    readlink: () => undefined,
    exists: (path) => tree[path] !== undefined,
  };
}

const KERNEL = { '/proc/sys/kernel/osrelease': '6.1.0-40-amd64\n' };

describe('observeBonding', () => {
  it('loaded when /sys/class/net/bonding_masters exists', () => {
    expect(observeBonding(files({ '/sys/class/net/bonding_masters': '' }))).toEqual({ state: 'loaded' });
  });

  it("loadable when the running kernel's modules.dep lists bonding.ko", () => {
    const dep =
      'kernel/net/tls/tls.ko.xz:\nkernel/drivers/net/bonding/bonding.ko.xz: kernel/net/tls/tls.ko.xz\n';
    expect(observeBonding(files({ ...KERNEL, '/lib/modules/6.1.0-40-amd64/modules.dep': dep }))).toEqual({
      state: 'loadable',
      module: '/lib/modules/6.1.0-40-amd64/kernel/drivers/net/bonding/bonding.ko.xz',
    });
  });

  it('absent otherwise, saying what was looked at', () => {
    expect(observeBonding(files(KERNEL))).toEqual({
      state: 'absent',
      kernel: '6.1.0-40-amd64',
      looked: '/sys/class/net/bonding_masters and /lib/modules/6.1.0-40-amd64/modules.dep are missing',
    });
    expect(
      observeBonding(
        files({ ...KERNEL, '/lib/modules/6.1.0-40-amd64/modules.dep': 'kernel/net/tls/tls.ko:\n' }),
      ),
    ).toMatchObject({ state: 'absent' });
  });
});

describe('a bond on a kernel without bonding', () => {
  const nics = [link('eth0', { mac: MAC0 }), link('eth1')];
  const absent = { state: 'absent', kernel: '6.1.0-40-amd64', looked: 'X' } as const;

  it('is refused before any step (dry-run and apply alike), saying what to do', () => {
    let error: unknown;
    try {
      planNetworkStart(bonded(), { ...host(nics), bonding: absent });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(XenplanError);
    expect((error as XenplanError).kind).toBe('environment');
    expect((error as XenplanError).message).toBe(
      'bond=bond0: the running kernel 6.1.0-40-amd64 has no bonding driver (X); nothing was changed. Install the modules of the running kernel (Debian: linux-image-6.1.0-40-amd64) or boot one with bonding, then run start again; or give netdev=NIC for one NIC without a bond',
    );
  });

  it('is planned when the driver is loaded or loadable, or the bond exists already', () => {
    const loadable = { state: 'loadable', module: '/lib/modules/x/bonding.ko' } as const;
    expect(planNetworkStart(bonded(), { ...host(nics), bonding: loadable }).plan.steps[0]?.id).toBe(
      'bond:bond0:create',
    );
    expect(() => planNetworkStart(bonded(), { ...host(nics), bonding: { state: 'loaded' } })).not.toThrow();
    const existing = [...nics, link('bond0', { kind: 'bond', mac: MAC0 })];
    expect(() => planNetworkStart(bonded(), { ...host(existing), bonding: absent })).not.toThrow();
  });
});
