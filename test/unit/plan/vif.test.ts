import { describe, expect, it } from 'vitest';
import type { HostState, Link } from '../../../src/model/host.ts';
import type { VifDesired } from '../../../src/model/vif.ts';
import {
  chooseBridge,
  guestDevice,
  offlineDevice,
  planVifOffline,
  planVifOnline,
} from '../../../src/plan/vif.ts';
import { link as anyLink, host as hostOf } from '../../support/host.ts';

/** A vif as netback makes it: down, with the guest's MAC. */
const link = (name: string, extra: Partial<Link> = {}) =>
  anyLink(name, { mac: '00:16:3e:00:00:05', up: false, carrier: false, operstate: 'DOWN', ...extra });
const host = (...links: Link[]): HostState => hostOf(links);

const bridge = link('xenbr0', { kind: 'bridge', up: true, mtu: 9000, mac: '00:16:3e:aa:bb:cc' });
const want: VifDesired = { kind: 'vif', dev: 'vif5.0', name: 'vif5.0', bridge: 'xenbr0', mtu: 9000 };
const rows = (host: HostState, w: VifDesired = want) =>
  planVifOnline(w, host).steps.map((s) => [s.id, s.argv.join(' '), s.reason, s.disruptive]);

describe('planVifOnline', () => {
  it('a new vif: port MAC, MTU before enslaving, enslave, up', () => {
    expect(rows(host(bridge, link('vif5.0')))).toEqual([
      [
        'vif:vif5.0:mac',
        'ip link set dev vif5.0 address fe:ff:ff:ff:ff:ff',
        'vif5.0 MAC: want fe:ff:ff:ff:ff:ff so xenbr0 never adopts it, have 00:16:3e:00:00:05',
        false,
      ],
      ['vif:vif5.0:mtu', 'ip link set dev vif5.0 mtu 9000', 'vif5.0 mtu: want 9000, have 1500', false],
      [
        'vif:vif5.0:master',
        'ip link set dev vif5.0 master xenbr0',
        'vif5.0: want in xenbr0, have not in a bridge',
        false,
      ],
      ['vif:vif5.0:up', 'ip link set dev vif5.0 up', 'vif5.0 is down', false],
    ]);
  });

  it('a converged vif plans nothing', () => {
    const done = link('vif5.0', { mac: 'fe:ff:ff:ff:ff:ff', mtu: 9000, master: 'xenbr0', up: true });
    expect(rows(host(bridge, done))).toEqual([]);
  });

  it('vifname: down, rename, then the rest on the new name', () => {
    const w = { ...want, name: 'web1' };
    expect(rows(host(bridge, link('vif5.0', { up: true })), w).map(([id, argv]) => [id, argv])).toEqual([
      ['vif:vif5.0:mark', 'ip link set dev vif5.0 alias xenplan:vif5.0'],
      ['vif:vif5.0:down', 'ip link set dev vif5.0 down'],
      ['vif:vif5.0:rename', 'ip link set dev vif5.0 name web1'],
      ['vif:web1:mac', 'ip link set dev web1 address fe:ff:ff:ff:ff:ff'],
      ['vif:web1:mtu', 'ip link set dev web1 mtu 9000'],
      ['vif:web1:master', 'ip link set dev web1 master xenbr0'],
      ['vif:web1:up', 'ip link set dev web1 up'],
    ]);
  });

  it('converges after an interruption: renamed (and marked) but not attached yet', () => {
    const w = { ...want, name: 'web1' };
    const renamed = link('web1', { mac: 'fe:ff:ff:ff:ff:ff', alias: 'xenplan:vif5.0' });
    expect(rows(host(bridge, renamed), w).map(([id]) => id)).toEqual([
      'vif:web1:mtu',
      'vif:web1:master',
      'vif:web1:up',
    ]);
  });

  it('refuses a vifname another device has, a missing device and a missing bridge', () => {
    const w = { ...want, name: 'web1' };
    expect(() => planVifOnline(w, host(bridge, link('vif5.0'), link('web1')))).toThrow(
      'vifname web1 is already taken by another device; cannot rename vif5.0',
    );
    expect(() => planVifOnline(want, host(bridge))).toThrow(
      'vif device vif5.0 does not exist; has the backend created it?',
    );
    expect(() => planVifOnline(want, host(link('vif5.0')))).toThrow(
      'bridge xenbr0 does not exist (or is not a bridge)',
    );
  });

  it('warns when the vif MTU will lower the bridge', () => {
    const plan = planVifOnline({ ...want, mtu: 1500 }, host(bridge, link('vif5.0')));
    expect(plan.warnings).toEqual([
      "vif5.0 mtu 1500 is below xenbr0's 9000: the kernel lowers xenbr0's MTU to 1500 for every port",
    ]);
  });

  it('passes the xenstore writes through, to be made after the steps', () => {
    const writes = [{ path: 'backend/vif/5/0/hotplug-status', value: 'connected', reason: 'r' }];
    expect(planVifOnline(want, host(bridge, link('vif5.0')), writes).xenstore).toEqual(writes);
  });
});

describe('planVifOffline', () => {
  it('down, then out of the bridge', () => {
    const attached = link('vif5.0', { master: 'xenbr0', up: true });
    expect(
      planVifOffline('vif5.0', host(bridge, attached)).steps.map((s) => [s.argv.join(' '), s.disruptive]),
    ).toEqual([
      ['ip link set dev vif5.0 down', true],
      ['ip link set dev vif5.0 nomaster', false],
    ]);
  });

  it('a device already gone plans nothing', () => {
    expect(planVifOffline('vif5.0', host(bridge))).toEqual({
      steps: [],
      warnings: ['vif5.0 is already gone'],
      xenstore: [],
    });
  });
});

describe("guestDevice: a vifname is only ever the guest's own device", () => {
  const pv = { kind: 'vif' as const, dev: 'vif5.0', name: 'web1', vifname: 'web1', xenbusId: 'vif-5-0' };
  const named = (extra: Partial<Link>) => host(bridge, link('web1', extra));

  it("accepts the renamed device by netback's parent, or by xenplan's mark where there is no parent", () => {
    expect(guestDevice(pv, named({ parent: 'vif-5-0' }))?.name).toBe('web1');
    expect(guestDevice(pv, named({ alias: 'xenplan:vif5.0' }))?.name).toBe('web1');
    expect(guestDevice({ ...pv, name: 'vif5.0' }, host(bridge, link('vif5.0')))?.name).toBe('vif5.0');
  });

  it.each<[string, Partial<Link>, string]>([
    ['a NIC', { parent: '0000:00:03.0' }, 'it is the network device of 0000:00:03.0'],
    ["another guest's vif", { parent: 'vif-7-0' }, "it is netback's device vif-7-0, not vif-5-0"],
    ["netback's parent outranks a copied mark", { parent: 'vif-7-0', alias: 'xenplan:vif5.0' }, 'vif-7-0'],
    ['the loopback device', { loopback: true, alias: 'xenplan:vif5.0' }, 'web1 is the loopback device'],
    ['a bridge', { kind: 'bridge', alias: 'xenplan:vif5.0' }, 'web1 is a bridge'],
    ['a bond', { kind: 'bond' }, 'web1 is a bond'],
    ['a bond slave', { bondSlave: true, master: 'bond0' }, 'web1 is enslaved to bond bond0'],
    ["another guest's renamed vif", { alias: 'xenplan:vif7.0' }, 'it was renamed from vif7.0'],
    [
      'a device with no record',
      {},
      'nothing shows it was vif5.0 (no netback parent vif-5-0, no ifalias xenplan:vif5.0)',
    ],
  ])('refuses %s, and offline leaves it alone', (_what, extra, why) => {
    expect(() => guestDevice(pv, named(extra))).toThrow(
      `vifname "web1" names web1, which is not this guest's vif5.0: `,
    );
    expect(() => guestDevice(pv, named(extra))).toThrow(why);
    expect(() => planVifOnline({ ...want, ...pv }, named(extra))).toThrow(why);
    expect(offlineDevice(pv, named(extra))).toEqual({
      name: 'vif5.0',
      note: expect.stringContaining('left alone, detaching only vif5.0'),
    });
  });

  it("refuses a vifname that is another guest's kernel name, present or not", () => {
    for (const other of ['vif7.0', 'vif7.0-emu', 'tap7.0'])
      expect(() => guestDevice({ ...pv, name: other, vifname: other }, host(bridge))).toThrow(
        `vifname "${other}" is the kernel's name for another guest's device`,
      );
  });

  it("offline detaches the renamed device when it is provably the guest's, else the kernel's name", () => {
    expect(offlineDevice(pv, named({ alias: 'xenplan:vif5.0' }))).toEqual({ name: 'web1' });
    expect(offlineDevice(pv, host(bridge, link('vif5.0')))).toEqual({ name: 'vif5.0' });
    expect(offlineDevice(pv, host(bridge))).toEqual({ name: 'vif5.0' });
  });
});

describe('chooseBridge', () => {
  it('takes the one asked for, else the only bridge', () => {
    expect(chooseBridge({ value: 'xenbr1', source: 'xenstore' }, ['xenbr0', 'xenbr1'])).toBe('xenbr1');
    expect(chooseBridge({ value: undefined, source: 'nowhere' }, ['xenbr0'])).toBe('xenbr0');
  });

  it("keeps Xen's rule: a missing xenbrN means ethN when that is a bridge", () => {
    expect(chooseBridge({ value: 'xenbr0', source: 'xenstore' }, ['eth0'])).toBe('eth0');
  });

  it('names the bridges there are when it cannot choose', () => {
    expect(() => chooseBridge({ value: 'xenbr9', source: 'xenstore' }, ['xenbr0', 'xenbr1'])).toThrow(
      'bridge xenbr9 does not exist; bridges here: xenbr0, xenbr1',
    );
    expect(() => chooseBridge({ value: undefined, source: 'nowhere' }, ['a', 'b'])).toThrow(
      "no bridge was given and this host has several (a, b); set bridge= in the guest's vif config",
    );
    expect(() => chooseBridge({ value: undefined, source: 'nowhere' }, [])).toThrow(
      'no bridge was given (xenstore bridge, bridge= argument or environment) and this host has none',
    );
    expect(() => chooseBridge({ value: 'br;x', source: 'the bridge= argument' }, ['xenbr0'])).toThrow(
      'bridge (from the bridge= argument) "br;x" is not a valid interface name',
    );
  });
});
