import { describe, expect, it } from 'vitest';
import { validateBackend } from '../../../src/xen/backend.ts';
import { asksPerson, commandWord, parseBackendPath, parseHotplugRequest } from '../../../src/xen/hotplug.ts';

const libxl = { XENBUS_PATH: 'backend/vif/5/0', XENBUS_TYPE: 'vif', vif: 'vif5.0' };

describe('parseHotplugRequest', () => {
  it('reads libxl: online type_if=vif', () => {
    expect(parseHotplugRequest(['online', 'type_if=vif'], libxl)).toEqual({
      command: 'online',
      typeIf: 'vif',
      args: { type_if: 'vif' },
      backend: 'backend/vif/5/0',
      domid: 5,
      devid: 0,
      dev: 'vif5.0',
      dryRun: false,
      json: false,
      ignored: false,
    });
  });

  it('reads xend/udev: no type_if means vif, key=value words in any position', () => {
    const r = parseHotplugRequest(['bridge=xenbr1', 'online', 'extra=1'], libxl);
    expect([r.command, r.typeIf, r.args]).toEqual(['online', 'vif', { bridge: 'xenbr1', extra: '1' }]);
  });

  it('takes an absolute backend path and derives the vif name when the env has none', () => {
    const r = parseHotplugRequest(['offline'], { XENBUS_PATH: '/local/domain/0/backend/vif/12/3' });
    expect([r.backend, r.domid, r.devid, r.dev]).toEqual([
      '/local/domain/0/backend/vif/12/3',
      12,
      3,
      'vif12.3',
    ]);
  });

  it('ignores what Xen ignores: add/remove for a vif, online/offline for a tap', () => {
    expect(parseHotplugRequest(['add'], libxl).ignored).toBe(true);
    expect(parseHotplugRequest(['online', 'type_if=tap'], { INTERFACE: 'vif5.0-emu' }).ignored).toBe(true);
  });

  it('finds a tap by INTERFACE, new and old names, with a relative backend path', () => {
    const emu = parseHotplugRequest(['add', 'type_if=tap'], { INTERFACE: 'vif7.1-emu' });
    expect([emu.dev, emu.backend, emu.domid, emu.devid]).toEqual(['vif7.1-emu', 'backend/vif/7/1', 7, 1]);
    const old = parseHotplugRequest(['remove', 'type_if=tap'], { INTERFACE: 'tap7.1' });
    expect([old.dev, old.backend]).toEqual(['tap7.1', 'backend/vif/7/1']);
  });

  it('turns on dry-run from --dry-run or XENPLAN_DRY_RUN=1', () => {
    expect(parseHotplugRequest(['online', '--dry-run', '--json'], libxl)).toMatchObject({
      dryRun: true,
      json: true,
    });
    expect(parseHotplugRequest(['online'], { ...libxl, XENPLAN_DRY_RUN: '1' }).dryRun).toBe(true);
  });

  it.each([
    [['start'], libxl, 'usage', 'invalid command "start"; expected online, offline, add or remove'],
    [[], libxl, 'usage', 'no command; expected online, offline, add or remove'],
    [['online', 'type_if=pci'], libxl, 'usage', 'type_if="pci": expected vif or tap'],
    [['online', '--force'], libxl, 'usage', 'unknown option "--force"; expected --dry-run or --json'],
    [
      ['online'],
      {},
      'environment',
      'XENBUS_PATH is not set; vif-script must be run by the Xen toolstack or udev',
    ],
    [
      ['online'],
      { XENBUS_PATH: 'backend/vbd/5/0' },
      'config',
      'XENBUS_PATH "backend/vbd/5/0" is not a vif backend path; expected backend/vif/<domid>/<devid> (or /local/domain/<n>/backend/vif/<domid>/<devid>)',
    ],
    [
      ['online'],
      { ...libxl, vif: 'eth0;reboot' },
      'config',
      'device "eth0;reboot" is not a valid interface name',
    ],
    [
      ['online'],
      { ...libxl, vif: 'eth0' },
      'config',
      'device "eth0" is not a vif device name (vif<domid>.<devid>)',
    ],
    [
      ['add', 'type_if=tap'],
      {},
      'environment',
      'INTERFACE is not set; a tap event names its device in INTERFACE',
    ],
    [['add', 'type_if=tap'], { INTERFACE: 'tun0' }, 'config', 'device "tun0" is not a tap device name'],
  ] as const)('refuses %j %j with a %s error', (argv, env, kind, message) => {
    expect(() => parseHotplugRequest(argv, env)).toThrow(
      expect.objectContaining({ kind, message: expect.stringContaining(message) }),
    );
  });
});

describe('validateBackend', () => {
  it('accepts what a toolstack writes', () => {
    expect(
      validateBackend({
        bridge: 'xenbr0',
        mac: '00:16:3E:00:00:05',
        ip: '192.0.2.5 2001:db8::5/64',
        mtu: '9000',
        vifname: 'web1',
        frontend: '/local/domain/5/device/vif/0',
      }),
    ).toEqual({
      bridge: 'xenbr0',
      mac: '00:16:3e:00:00:05',
      ips: ['192.0.2.5', '2001:db8::5/64'],
      mtu: 9000,
      vifname: 'web1',
      frontend: '/local/domain/5/device/vif/0',
    });
  });

  it("takes Open vSwitch's BR.TAG:TRUNK:TRUNK bridge key on an OVS vif, not on a Linux bridge's", () => {
    // Xen's vif-openvswitch syntax (bridge=ovsbr0:100:200 is a trunk); vif-xenplan-ovs parses it.
    expect(validateBackend({ bridge: 'ovsbr0.10:100:200' }, 'ovs')).toEqual({
      bridge: 'ovsbr0.10:100:200',
      ips: [],
    });
    expect(() => validateBackend({ bridge: 'ovsbr0:100:200' })).toThrow(/not a valid interface name/);
  });

  it('treats absent and empty keys alike', () => {
    expect(validateBackend({ bridge: '', ip: ' ' })).toEqual({ ips: [] });
  });

  it('reports every bad value at once, naming key and value', () => {
    expect(() =>
      validateBackend({ bridge: 'x y', mac: 'zz', mtu: '65536', frontend: '/local/domain/5/device/vbd/0' }),
    ).toThrow(
      'bridge "x y" is not a valid interface name; expected letters, digits and . _ + - (starting with a letter or digit); ' +
        'mac "zz" is not a MAC address; expected six hex pairs like 00:16:3e:12:34:56; ' +
        'mtu "65536" is not a valid MTU; expected a whole number from 68 to 65535; ' +
        'frontend "/local/domain/5/device/vbd/0" is not a vif frontend path; expected /local/domain/<domid>/device/vif/<devid>',
    );
  });
});

describe('backend paths: canonical or refused', () => {
  it.each([
    ['backend/vif/5/0', { domid: 5, devid: 0 }],
    ['/local/domain/0/backend/vif/12/3', { domid: 12, devid: 3 }],
    ['backend/vif/0/0', { domid: 0, devid: 0 }],
    ['backend/vif/32751/0', { domid: 32751, devid: 0 }],
  ])('%s is a vif backend path', (path, ids) => {
    expect(parseBackendPath(path)).toEqual(ids);
  });

  it.each([
    'backend/vif/05/0',
    'backend/vif/5/00',
    '/local/domain/00/backend/vif/5/0',
    'x/../backend/vif/5/0',
    '/local/domain/0/x/backend/vif/5/0',
    'backend/vif/5/0/',
    'backend/vif/32752/0',
    'backend/vif/5/99999999999',
  ])('%s is refused, by the parser and the early reporter alike', (path) => {
    expect(parseBackendPath(path)).toBeUndefined();
    expect(() => parseHotplugRequest(['online'], { XENBUS_PATH: path })).toThrow(
      `XENBUS_PATH ${JSON.stringify(path)} is not a vif backend path`,
    );
  });

  it("refuses a vif or INTERFACE that is not the backend's device", () => {
    expect(() => parseHotplugRequest(['online'], { XENBUS_PATH: 'backend/vif/5/0', vif: 'vif7.0' })).toThrow(
      'vif "vif7.0" does not belong to XENBUS_PATH "backend/vif/5/0"; expected vif5.0',
    );
    expect(() =>
      parseHotplugRequest(['add', 'type_if=tap'], {
        XENBUS_PATH: 'backend/vif/5/0',
        INTERFACE: 'vif05.0-emu',
      }),
    ).toThrow('INTERFACE "vif05.0-emu" does not belong to XENBUS_PATH "backend/vif/5/0"');
  });
});

describe("options meant for a person, among Xen's words", () => {
  it.each(['-h', '--help', '-V', '--version'])('%s with a command is a usage error', (option) => {
    expect(() => parseHotplugRequest(['online', option], libxl)).toThrow(
      `option "${option}" is for a person running vif-script alone`,
    );
    expect(asksPerson(['online', option], [option])).toBe(false);
    expect(asksPerson([option], [option])).toBe(true);
  });

  it('the command is the first word that is neither an option nor key=value', () => {
    expect(commandWord(['-V', 'bridge=x', 'online', 'offline'])).toBe('online');
    expect(commandWord(['--help'])).toBeUndefined();
  });
});
