import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireNetns } from '../support/env.ts';
import { cable, Netns } from '../support/netns.ts';
import { expectReport } from '../support/schema.ts';
import { libxlEnv, udevEnv, XenHost } from '../support/xen.ts';

// vif-script as both toolstacks run it: the built bundle under the name vif-script, in a
// dom0 namespace, against the xenstore stand-in over its socket.
const can = requireNetns();

describe.runIf(can.ok)('vif-script', () => {
  const scripts = new Scripts();
  const xen = new XenHost();
  let dom0: Netns;
  let upstream: Netns;
  const guests: Netns[] = [];

  /** A guest: its vif in dom0, the frontend end in its own namespace with an address. */
  function guest(domid: number, address?: string, devid = 0): Netns {
    const ns = new Netns(`g${domid}`);
    guests.push(ns);
    dom0.ip('link', 'add', `vif${domid}.${devid}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
    if (address) {
      ns.ip('address', 'add', address, 'dev', 'eth0');
      ns.ip('link', 'set', 'eth0', 'up');
    }
    return ns;
  }

  const vif = (args: string[], env: Record<string, string>) =>
    scripts.run('vif-script', args, { ns: dom0, env: { ...xen.env(), ...env } });
  const vifEnv = (domid: number) => ({ ...xen.env(), ...libxlEnv(domid, 0) });

  beforeAll(async () => {
    await xen.start();
    dom0 = new Netns('vif-dom0');
    upstream = new Netns('vif-up');
    dom0.ip('link', 'add', 'xenbr0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    cable(dom0, 'eth0', upstream, 'gw0');
    dom0.ip('link', 'set', 'eth0', 'mtu', '9000');
    upstream.ip('link', 'set', 'gw0', 'mtu', '9000');
    dom0.ip('link', 'set', 'eth0', 'master', 'xenbr0');
    dom0.ip('link', 'set', 'xenbr0', 'mtu', '9000');
    dom0.ip('link', 'set', 'eth0', 'up');
    dom0.ip('link', 'set', 'xenbr0', 'up');
    upstream.ip('address', 'add', '192.0.2.1/24', 'dev', 'gw0');
    upstream.ip('link', 'set', 'gw0', 'up');
  });

  afterAll(async () => {
    for (const ns of [dom0, upstream, ...guests]) ns?.delete();
    scripts.remove();
    await xen.stop();
  });

  describe('libxl (xl, Xen 4.2+)', () => {
    it('online attaches vif5.0 to xenbr0 with the bridge MTU and writes connected', async () => {
      const g = guest(5, '192.0.2.5/24');
      xen.addVif(5, 0, { bridge: 'xenbr0' });
      expect(g.ping('192.0.2.1', 1, 1)).toBe(false);
      const run = vif(['online', 'type_if=vif'], libxlEnv(5, 0));
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const link = dom0.link('vif5.0');
      expect(link.master).toBe('xenbr0');
      expect(link.mtu).toBe(9000);
      expect(link.flags).toContain('UP');
      expect(link.address).toBe('fe:ff:ff:ff:ff:ff');
      expect(dom0.link('xenbr0').mtu).toBe(9000);
      expect(xen.read('backend/vif/5/0/hotplug-status')).toBe('connected');
      expect(xen.read('/local/domain/5/device/vif/0/mtu')).toBe('9000');
      expect(g.ping('192.0.2.1')).toBe(true);
    });

    it('online again changes nothing, and its dry-run plans zero steps', () => {
      const before = dom0.snapshot();
      expect(vif(['online', 'type_if=vif'], libxlEnv(5, 0)).status).toBe(0);
      expect(JSON.parse(dom0.snapshot())).toEqual(JSON.parse(before));
      const dry = vif(['online', 'type_if=vif', '--dry-run', '--json'], libxlEnv(5, 0));
      expect(dry.status).toBe(0);
      const plan = expectReport(dry.stdout);
      expect(plan.steps).toEqual([]);
      expect(plan.xenstore.map((w: { path: string; value: string }) => [w.path, w.value])).toEqual([
        ['/local/domain/5/device/vif/0/mtu', '9000'],
        ['backend/vif/5/0/hotplug-status', 'connected'],
      ]);
    });

    it('offline detaches and writes no hotplug-status', async () => {
      xen.rm('backend/vif/5/0/hotplug-status');
      const run = vif(['offline', 'type_if=vif'], libxlEnv(5, 0));
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const link = dom0.link('vif5.0');
      expect(link.master).toBeUndefined();
      expect(link.flags).not.toContain('UP');
      expect(xen.read('backend/vif/5/0/hotplug-status')).toBeUndefined();
    });

    it('offline of a vif that is gone, with its backend directory gone too, exits 0', async () => {
      dom0.ip('link', 'del', 'vif5.0');
      xen.rm('backend/vif/5');
      const run = vif(['offline', 'type_if=vif'], libxlEnv(5, 0));
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(xen.read('backend/vif/5/0/hotplug-status')).toBeUndefined();
    });

    it('offline with xenstore gone (dom0 shutting down) still detaches the vif by its name', () => {
      guest(14);
      xen.addVif(14, 0, { bridge: 'xenbr0' });
      expect(vif(['online', 'type_if=vif'], libxlEnv(14, 0)).status).toBe(0);
      const run = vif(['offline', 'type_if=vif'], {
        ...libxlEnv(14, 0),
        XENSTORED_PATH: `${xen.dir}/gone.sock`,
      });
      expect(run.status).toBe(0);
      expect(run.stderr).toContain(`cannot reach xenstore: ${xen.dir}/gone.sock: ENOENT`);
      expect(run.stderr).toContain('detaching vif14.0 by its own name');
      expect(dom0.link('vif14.0').master).toBeUndefined();
    });

    it('a backend mtu key wins over the bridge MTU, with a warning when it lowers the bridge', async () => {
      guest(6);
      xen.addVif(6, 0, { bridge: 'xenbr0', mtu: '1500' });
      const dry = vif(['online', 'type_if=vif', '--dry-run'], libxlEnv(6, 0));
      expect(dry.stdout).toContain(
        "# warning: vif6.0 mtu 1500 is below xenbr0's 9000: the kernel lowers xenbr0's MTU to 1500 for every port\n",
      );
      expect(vif(['online', 'type_if=vif'], libxlEnv(6, 0)).status).toBe(0);
      expect(dom0.link('vif6.0').mtu).toBe(1500);
      expect(xen.read('/local/domain/6/device/vif/0/mtu')).toBe('1500');
      expect(dom0.link('xenbr0').mtu).toBe(1500);
      // Put the bridge back for the tests that follow.
      dom0.ip('link', 'del', 'vif6.0');
      dom0.ip('link', 'set', 'xenbr0', 'mtu', '9000');
    });
  });

  describe('xend + udev (Xen 3.x-4.4)', () => {
    it('online with no type_if and the bridge as an argument word works', async () => {
      const g = guest(7, '192.0.2.7/24');
      xen.addVif(7, 0, {});
      const run = vif(['bridge=xenbr0', 'online'], udevEnv(7, 0, 'online'));
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(dom0.link('vif7.0').master).toBe('xenbr0');
      expect(xen.read('backend/vif/7/0/hotplug-status')).toBe('connected');
      expect(g.ping('192.0.2.1')).toBe(true);
      const off = vif(['bridge=xenbr0', 'offline'], udevEnv(7, 0, 'offline'));
      expect(off.status).toBe(0);
      expect(dom0.link('vif7.0').master).toBeUndefined();
    });
  });

  describe('every failure of online reports itself and changes nothing', () => {
    const cases: [string, Record<string, string>, string[], RegExp][] = [
      ['a missing bridge', { bridge: 'xenbr9' }, [], /^bridge xenbr9 does not exist; bridges here: xenbr0$/],
      [
        'a hostile bridge value',
        { bridge: 'xenbr0;reboot' },
        [],
        /^bridge "xenbr0;reboot" is not a valid interface name/,
      ],
      [
        'a command in the bridge value',
        { bridge: '$(reboot)' },
        [],
        /^bridge "\$\(reboot\)" is not a valid interface name/,
      ],
      [
        'a malformed MAC',
        { bridge: 'xenbr0', mac: '00:16:3e:zz' },
        [],
        /^mac "00:16:3e:zz" is not a MAC address/,
      ],
      ['a bad mtu', { bridge: 'xenbr0', mtu: '9000;x' }, [], /^mtu "9000;x" is not a valid MTU/],
      [
        'a path in vifname',
        { bridge: 'xenbr0', vifname: '../eth0' },
        [],
        /^vifname "..\/eth0" is not a valid interface name/,
      ],
      [
        'an over-long vifname',
        { bridge: 'xenbr0', vifname: 'a-very-long-vifname' },
        [],
        /is 19 bytes long; the kernel allows at most 15/,
      ],
      ['a bad ip list', { bridge: 'xenbr0', ip: '192.0.2.9 `id`' }, [], /^ip "`id`" is not an IP address/],
    ];
    let domid = 20;
    it.each(cases)('%s', async (_what, keys, args, message) => {
      domid += 1;
      guest(domid);
      xen.addVif(domid, 0, keys);
      const before = dom0.snapshot();
      const run = vif(['online', 'type_if=vif', ...args], libxlEnv(domid, 0));
      expect(run.status).toBe(1);
      expect(xen.read(`backend/vif/${domid}/0/hotplug-status`)).toBe('error');
      expect(xen.read(`backend/vif/${domid}/0/hotplug-error`)).toMatch(message);
      expect(run.stderr).toContain('vif-script: ');
      expect(dom0.snapshot()).toBe(before);
    });

    it('a command failing halfway', async () => {
      guest(40);
      xen.addVif(40, 0, { bridge: 'xenbr0' });
      // A PATH whose ip refuses what it is asked, as a kernel would (e.g. no permission).
      const fake = `${xen.dir}/fakebin`;
      const { mkdirSync, writeFileSync } = await import('node:fs');
      mkdirSync(fake, { recursive: true });
      writeFileSync(
        `${fake}/ip`,
        '#!/bin/sh\necho "RTNETLINK answers: Operation not permitted" >&2\necho "Command failed -:1" >&2\nexit 2\n',
        {
          mode: 0o755,
        },
      );
      const run = vif(['online', 'type_if=vif'], { ...libxlEnv(40, 0), PATH: `${fake}:${process.env.PATH}` });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('vif-script: step vif:vif40.0:mac failed');
      expect(xen.read('backend/vif/40/0/hotplug-status')).toBe('error');
      expect(xen.read('backend/vif/40/0/hotplug-error')).toBe(
        'step vif:vif40.0:mac failed: ip link set dev vif40.0 address fe:ff:ff:ff:ff:ff: RTNETLINK answers: Operation not permitted',
      );
    });

    it('a vif device that does not exist', async () => {
      xen.addVif(41, 0, { bridge: 'xenbr0' });
      const run = vif(['online', 'type_if=vif'], libxlEnv(41, 0));
      expect(run.status).toBe(1);
      expect(xen.read('backend/vif/41/0/hotplug-error')).toBe(
        'vif device vif41.0 does not exist; has the backend created it?',
      );
    });

    it('a config file that was named ($XENPLAN_CONFIG) but cannot be read fails online, naming it, as network-script does', () => {
      guest(42);
      xen.addVif(42, 0, { bridge: 'xenbr0' });
      const missing = `${xen.dir}/no-such.conf`;
      const before = dom0.snapshot();
      const run = vif(['online', 'type_if=vif'], { ...libxlEnv(42, 0), XENPLAN_CONFIG: missing });
      expect(run.status).toBe(1);
      expect(xen.read('backend/vif/42/0/hotplug-error')).toBe(
        `XENPLAN_CONFIG=${missing}: cannot read it; expected a readable settings file`,
      );
      expect(dom0.snapshot()).toBe(before);
    });

    it('an unreachable xenstore: exit 1, naming the paths tried', () => {
      const run = vif(['online', 'type_if=vif'], {
        ...libxlEnv(42, 0),
        XENSTORED_PATH: `${xen.dir}/nowhere.sock`,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        `cannot reach xenstore: ${xen.dir}/nowhere.sock: ENOENT; /dev/xen/xenbus: ENOENT`,
      );
    });

    it('an unknown command prints usage and exits 1', () => {
      const run = vif(['start'], libxlEnv(43, 0));
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('Usage: vif-script online|offline');
      expect(run.stderr).toContain('invalid command "start"; expected online, offline, add or remove');
    });
  });

  describe('HVM tap devices (add/remove type_if=tap)', () => {
    it('add attaches vif8.0-emu, remove detaches it; no hotplug-status either way', async () => {
      xen.addVif(8, 0, { bridge: 'xenbr0' });
      dom0.ip('tuntap', 'add', 'dev', 'vif8.0-emu', 'mode', 'tap');
      const env = { ...libxlEnv(8, 0), INTERFACE: 'vif8.0-emu' };
      const add = vif(['add', 'type_if=tap'], env);
      expect(add.stderr).toBe('');
      expect(add.status).toBe(0);
      const tap = dom0.link('vif8.0-emu');
      expect(tap.master).toBe('xenbr0');
      expect(tap.address).toBe('fe:ff:ff:ff:ff:ff');
      expect(tap.mtu).toBe(9000);
      expect(xen.read('backend/vif/8/0/hotplug-status')).toBeUndefined();
      // The PV pass ignores tap commands and vice versa, as Xen's scripts do.
      expect(vif(['online', 'type_if=tap'], env).status).toBe(0);
      const remove = vif(['remove', 'type_if=tap'], env);
      expect(remove.status).toBe(0);
      expect(dom0.link('vif8.0-emu').master).toBeUndefined();
      expect(xen.read('backend/vif/8/0/hotplug-status')).toBeUndefined();
    });
  });

  describe('vifname', () => {
    it('renames the vif and attaches it; offline finds it by its new name', async () => {
      guest(9);
      xen.addVif(9, 0, { bridge: 'xenbr0', vifname: 'web1' });
      const run = vif(['online', 'type_if=vif'], libxlEnv(9, 0));
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(dom0.hasLink('vif9.0')).toBe(false);
      expect(dom0.link('web1').master).toBe('xenbr0');
      expect(vif(['online', 'type_if=vif', '--dry-run', '--json'], libxlEnv(9, 0)).stdout).toContain(
        '"steps": []',
      );
      expect(vif(['offline', 'type_if=vif'], libxlEnv(9, 0)).status).toBe(0);
      expect(dom0.link('web1').master).toBeUndefined();
    });

    it('refuses a name another device already has', async () => {
      guest(10);
      dom0.ip('link', 'add', 'web2', 'type', 'veth', 'peer', 'name', 'web2p');
      xen.addVif(10, 0, { bridge: 'xenbr0', vifname: 'web2' });
      const run = vif(['online', 'type_if=vif'], libxlEnv(10, 0));
      expect(run.status).toBe(1);
      expect(xen.read('backend/vif/10/0/hotplug-error')).toBe(
        'vifname web2 is already taken by another device; cannot rename vif10.0',
      );
      expect(dom0.hasLink('vif10.0')).toBe(true);
    });
  });

  describe("vifname never takes over a device that is not the guest's", () => {
    /** What a device looks like to a test: enough to see that nothing touched it. */
    const record = (name: string) => {
      const l = dom0.link(name);
      return { master: l.master, mtu: l.mtu, flags: l.flags, address: l.address };
    };
    beforeAll(() => {
      // Another guest's vif, as the kernel named it, and another guest's renamed vif.
      guest(96);
      xen.addVif(96, 0, { bridge: 'xenbr0' });
      expect(vif(['online', 'type_if=vif'], libxlEnv(96, 0)).status).toBe(0);
      guest(97);
      xen.addVif(97, 0, { bridge: 'xenbr0', vifname: 'web97' });
      expect(vif(['online', 'type_if=vif'], libxlEnv(97, 0)).status).toBe(0);
    });
    const hostile: [string, RegExp][] = [
      ['eth0', /^vifname "eth0" names eth0, which is not this guest's vif5\d\.0/],
      ['lo', /^vifname "lo" names lo, which is not this guest's vif5\d\.0: lo is the loopback device/],
      ['xenbr0', /^vifname "xenbr0" names xenbr0, which is not this guest's vif5\d\.0: xenbr0 is a bridge/],
      ['vif96.0', /^vifname "vif96.0" is the kernel's name for another guest's device/],
      [
        'web97',
        /^vifname "web97" names web97, which is not this guest's vif5\d\.0: it was renamed from vif97.0/,
      ],
    ];
    let domid = 50;
    it.each(hostile)(
      'online with vifname=%s and the vif absent is refused, changing nothing',
      (name, message) => {
        domid += 1;
        xen.addVif(domid, 0, { bridge: 'xenbr0', vifname: name });
        const before = dom0.snapshot();
        const run = vif(['online', 'type_if=vif'], libxlEnv(domid, 0));
        expect(run.status).toBe(1);
        expect(xen.read(`backend/vif/${domid}/0/hotplug-status`)).toBe('error');
        expect(xen.read(`backend/vif/${domid}/0/hotplug-error`)).toMatch(message);
        expect(dom0.snapshot()).toBe(before);
      },
    );

    it.each(hostile)("offline with vifname=%s detaches only the guest's own vif", (name) => {
      domid += 1;
      guest(domid);
      xen.addVif(domid, 0, { bridge: 'xenbr0' });
      expect(vif(['online', 'type_if=vif'], libxlEnv(domid, 0)).status).toBe(0);
      xen.write({ [`backend/vif/${domid}/0/vifname`]: name });
      const before = record(name);
      const run = vif(['offline', 'type_if=vif'], libxlEnv(domid, 0));
      expect(run.status).toBe(0);
      expect(record(name)).toEqual(before);
      const own = dom0.link(`vif${domid}.0`);
      expect(own.master).toBeUndefined();
      expect(own.flags).not.toContain('UP');
    });

    it('a legitimate rename still works after an interruption, and again changes nothing', () => {
      guest(79);
      xen.addVif(79, 0, { bridge: 'xenbr0', vifname: 'web79' });
      expect(vif(['online', 'type_if=vif'], libxlEnv(79, 0)).status).toBe(0);
      // As if the first run died after the rename: down and out of the bridge.
      dom0.ip('link', 'set', 'web79', 'nomaster');
      dom0.ip('link', 'set', 'web79', 'down');
      expect(vif(['online', 'type_if=vif'], libxlEnv(79, 0)).status).toBe(0);
      expect(dom0.link('web79').master).toBe('xenbr0');
      const before = dom0.snapshot();
      expect(vif(['online', 'type_if=vif'], libxlEnv(79, 0)).status).toBe(0);
      expect(dom0.snapshot()).toBe(before);
      expect(vif(['offline', 'type_if=vif'], libxlEnv(79, 0)).status).toBe(0);
      expect(dom0.link('web79').master).toBeUndefined();
    });
  });

  describe("Xen's words: options meant for a person", () => {
    it.each([['-V'], ['--version'], ['-h'], ['--help']])(
      'online with %s among its words is reported as an error, changing nothing',
      (option) => {
        const id = 80 + ['-V', '--version', '-h', '--help'].indexOf(option);
        guest(id);
        xen.addVif(id, 0, { bridge: 'xenbr0' });
        const before = dom0.snapshot();
        const run = vif(['online', option, 'type_if=vif'], libxlEnv(id, 0));
        expect(run.status).toBe(1);
        expect(xen.read(`backend/vif/${id}/0/hotplug-status`)).toBe('error');
        expect(xen.read(`backend/vif/${id}/0/hotplug-error`)).toContain(`option "${option}"`);
        expect(dom0.snapshot()).toBe(before);
      },
    );

    it('alone, --help and --version answer a person', () => {
      expect(vif(['--help'], {}).stdout).toContain('Usage: vif-script online|offline');
      expect(vif(['-V'], {}).stdout).toMatch(/^\d+\.\d+\.\d+/);
    });
  });

  describe('backend paths', () => {
    it('a non-canonical domid (backend/vif/085/0) is refused, changing nothing anywhere', () => {
      guest(85);
      xen.addVif(85, 0, { bridge: 'xenbr0' });
      const before = dom0.snapshot();
      const run = vif(['online', 'type_if=vif'], libxlEnv(85, 0, { XENBUS_PATH: 'backend/vif/085/0' }));
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('XENBUS_PATH "backend/vif/085/0" is not a vif backend path');
      expect(xen.read('backend/vif/085/0/hotplug-status')).toBeUndefined();
      expect(xen.read('backend/vif/85/0/hotplug-status')).toBeUndefined();
      expect(dom0.snapshot()).toBe(before);
    });

    it.each([
      ['a path the parser refuses', '/local/domain/0/x/backend/vif/86/0', ['online', 'type_if=vif']],
      ['a non-canonical path with a usage error', 'backend/vif/086/0', ['online', 'type_if=bogus']],
    ])('the early reporter refuses %s the same way: nothing is written', (_what, path, args) => {
      xen.addVif(86, 0, { bridge: 'xenbr0' });
      const run = vif(args, libxlEnv(86, 0, { XENBUS_PATH: path }));
      expect(run.status).toBe(1);
      expect(xen.read(`${path}/hotplug-status`)).toBeUndefined();
      expect(xen.read(`${path}/hotplug-error`)).toBeUndefined();
      expect(xen.read('backend/vif/86/0/hotplug-status')).toBeUndefined();
      const log = readFileSync(`${xen.env().XENPLAN_LOG_DIR}/xen-hotplug.log`, 'utf8');
      expect(log).toContain(`XENBUS_PATH ${JSON.stringify(path)}`);
    });
  });

  describe('over-long values', () => {
    it('six 700-byte backend values still get their failure reported, in a capped sentence', () => {
      guest(87);
      const long = (c: string) => c.repeat(700);
      xen.addVif(87, 0, {
        bridge: long('b'),
        mac: long('m'),
        ip: long('i'),
        mtu: long('9'),
        vifname: long('v'),
        frontend: long('f'),
      });
      const run = vif(['online', 'type_if=vif'], libxlEnv(87, 0));
      expect(run.status).toBe(1);
      expect(xen.read('backend/vif/87/0/hotplug-status')).toBe('error');
      const sentence = xen.read('backend/vif/87/0/hotplug-error') ?? '';
      expect(sentence).toMatch(/^bridge "b{20,}/);
      expect(sentence).toContain('(700 bytes)');
      expect(Buffer.byteLength(sentence)).toBeLessThanOrEqual(1024);
    });
  });

  describe('cost and logs', () => {
    it('one online starts at most 2 child processes (strace), and logs one line', () => {
      guest(12);
      xen.addVif(12, 0, { bridge: 'xenbr0' });
      const trace = `${xen.dir}/online.strace`;
      const run = scripts.run('vif-script', ['online', 'type_if=vif'], {
        ns: dom0,
        env: { ...xen.env(), ...libxlEnv(12, 0) },
        tracer: ['strace', '-f', '-qq', '-e', 'trace=execve', '-o', trace],
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const execs = readFileSync(trace, 'utf8')
        .split('\n')
        .filter((line) => /execve\(/.test(line) && / = 0$/.test(line))
        .map((line) => /execve\("([^"]+)"/.exec(line)?.[1] ?? '');
      // The script itself (the kernel runs its #! line: env) and env's exec of node, then the children.
      const children = execs.slice(2);
      console.log(`vif-script online: children ${JSON.stringify(children)}`);
      expect(execs.slice(0, 2).map((p) => p.split('/').pop())).toEqual(['vif-script', 'node']);
      expect(children.length).toBeLessThanOrEqual(2);
      expect(children.map((p) => p.split('/').pop())).toEqual(['ip']);
      const log = readFileSync(`${xen.env().XENPLAN_LOG_DIR}/xen-hotplug.log`, 'utf8');
      expect(log).toMatch(
        /Z vif-script online vif12\.0 backend\/vif\/12\/0: vif12\.0 in xenbr0, mtu 9000: 4 step\(s\), connected \(\d+ ms\)\n/,
      );
    });

    it('a failure is logged with its detail', () => {
      xen.addVif(44, 0, { bridge: 'xenbr0' });
      expect(vif(['online', 'type_if=vif'], libxlEnv(44, 0)).status).toBe(1);
      const log = readFileSync(`${xen.env().XENPLAN_LOG_DIR}/xen-hotplug.log`, 'utf8');
      expect(log).toContain(
        'vif-script failed for backend/vif/44/0: vif device vif44.0 does not exist; has the backend created it?\n',
      );
    });
  });

  describe('dry-run', () => {
    it('XENPLAN_DRY_RUN=1 prints the plan with its xenstore writes and changes nothing, xenstore included', async () => {
      guest(11);
      xen.addVif(11, 0, { bridge: 'xenbr0' });
      const before = dom0.snapshot();
      const run = vif(['online', 'type_if=vif'], { ...libxlEnv(11, 0), XENPLAN_DRY_RUN: '1' });
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('ip link set dev vif11.0 master xenbr0\n');
      expect(run.stdout).toContain(
        '# then xenstore: xenstore-write backend/vif/11/0/hotplug-status connected',
      );
      expect(dom0.snapshot()).toBe(before);
      expect(xen.read('backend/vif/11/0/hotplug-status')).toBeUndefined();
    });
  });

  describe('network-script lock', () => {
    it('online waits while a live network-script holds its lock, then attaches', async () => {
      guest(13);
      xen.addVif(13, 0, { bridge: 'xenbr0' });
      const { spawn } = await import('node:child_process');
      const { mkdirSync, statSync, writeFileSync } = await import('node:fs');
      // A process standing in for network-script, holding the lock (flock(2), as it does).
      const runDir = xen.env().XENPLAN_RUN_DIR!;
      mkdirSync(runDir, { recursive: true });
      const lock = `${runDir}/network.lock`;
      writeFileSync(lock, '');
      const holder = spawn('flock', ['-x', '-o', lock, 'sleep', '30'], { stdio: 'ignore' });
      const held = () => readFileSync('/proc/locks', 'utf8').includes(`:${statSync(lock).ino} `);
      for (const deadline = Date.now() + 10_000; !held() && Date.now() < deadline; )
        await new Promise((r) => setTimeout(r, 20));
      expect(held()).toBe(true);
      const online = new Promise<number>((resolve) => {
        const child = spawn(
          'ip',
          ['netns', 'exec', dom0.name, scripts.path('vif-script'), 'online', 'type_if=vif'],
          {
            env: { PATH: process.env.PATH, ...xen.env(), ...libxlEnv(13, 0) },
            stdio: 'ignore',
          },
        );
        child.on('exit', (code) => resolve(code ?? -1));
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(xen.read('backend/vif/13/0/hotplug-status')).toBeUndefined();
      expect(dom0.link('vif13.0').master).toBeUndefined();
      holder.kill('SIGKILL');
      expect(await online).toBe(0);
      expect(xen.read('backend/vif/13/0/hotplug-status')).toBe('connected');
      expect(dom0.link('vif13.0').master).toBe('xenbr0');
    });

    it('online does not wait for a lock file naming a live, unrelated pid (the kernel holds no lock)', async () => {
      guest(15);
      xen.addVif(15, 0, { bridge: 'xenbr0' });
      const { spawn } = await import('node:child_process');
      const { mkdirSync, writeFileSync } = await import('node:fs');
      const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
      try {
        const runDir = xen.env().XENPLAN_RUN_DIR!;
        mkdirSync(runDir, { recursive: true });
        writeFileSync(`${runDir}/network.lock`, `${sleeper.pid}\n`);
        const run = vif(['online', 'type_if=vif'], libxlEnv(15, 0));
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        expect(dom0.link('vif15.0').master).toBe('xenbr0');
      } finally {
        sleeper.kill('SIGKILL');
      }
    }, 60_000);
  });

  describe('concurrency', () => {
    it('100 concurrent onlines against a backlog-1 xenstored all end connected, all in the bridge', async () => {
      const ids = Array.from({ length: 100 }, (_, i) => 100 + i);
      for (const id of ids) dom0.ip('link', 'add', `vif${id}.0`, 'type', 'veth', 'peer', 'name', `g${id}`);
      for (const id of ids) xen.addVif(id, 0, { bridge: 'xenbr0' });
      const started = Date.now();
      // A boot storm meets a busy xenstored: for its first 3 s it accepts nobody, so its
      // backlog of 1 is full and every other connect() fails with EAGAIN at once.
      const thawed = xen.freeze(3000);
      const runs = await Promise.all(
        ids.map((id) =>
          scripts.start('vif-script', ['online', 'type_if=vif'], { ns: dom0, env: vifEnv(id) }),
        ),
      );
      await thawed;
      const wall = Date.now() - started;
      console.log(
        `100 concurrent onlines: ${wall} ms wall, slowest ${Math.max(...runs.map((r) => r.ms))} ms`,
      );
      expect(runs.filter((r) => r.status !== 0).map((r) => r.stderr)).toEqual([]);
      expect(ids.map((id) => xen.read(`backend/vif/${id}/0/hotplug-status`))).toEqual(
        ids.map(() => 'connected'),
      );
      expect(ids.filter((id) => dom0.link(`vif${id}.0`).master !== 'xenbr0')).toEqual([]);
    }, 180_000);
  });
});
