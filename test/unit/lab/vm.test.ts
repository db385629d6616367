/** The pure parts of the VM test bed: cpio, module order, QEMU's command line, guest config. */
import { describe, expect, it } from 'vitest';
import { buildCpio } from '../../../src/lab/vm/cpio.ts';
import { renderGuestConfig, renderGuestInit } from '../../../src/lab/vm/guest.ts';
import { moduleLoadOrder } from '../../../src/lab/vm/modules.ts';
import { nicMac, qemuArgs, xenCommandLine } from '../../../src/lab/vm/qemu.ts';

/** Reads a newc archive back: [name, mode, data] per entry, trailer included. */
function readCpio(bytes: Uint8Array): [string, number, string][] {
  const text = new TextDecoder('latin1').decode(bytes);
  const out: [string, number, string][] = [];
  let at = 0;
  const align = (n: number) => (n + 3) & ~3;
  while (at < text.length) {
    expect(text.slice(at, at + 6)).toBe('070701');
    const field = (i: number) => Number.parseInt(text.slice(at + 6 + i * 8, at + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = text.slice(at + 110, at + 110 + nameSize - 1);
    const dataAt = align(at + 110 + nameSize);
    out.push([name, mode, text.slice(dataAt, dataAt + size)]);
    at = align(dataAt + size);
    if (name === 'TRAILER!!!') break;
  }
  return out;
}

describe('buildCpio (newc)', () => {
  it('writes directories, files, symlinks and devices, 4-byte aligned, ending with the trailer', () => {
    const bytes = buildCpio([
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: 'init', data: '#!/bin/sh\n', mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
      { kind: 'char', path: 'dev/console', major: 5, minor: 1 },
    ]);
    expect(bytes.length % 4).toBe(0);
    expect(readCpio(bytes)).toEqual([
      ['bin', 0o040755, ''],
      ['init', 0o100755, '#!/bin/sh\n'],
      ['bin/sh', 0o120777, 'busybox'],
      ['dev/console', 0o020600, ''],
      ['TRAILER!!!', 0, ''],
    ]);
  });

  it('refuses absolute paths and ..', () => {
    expect(() => buildCpio([{ kind: 'dir', path: '/etc' }])).toThrow(
      'cpio path "/etc": expected a relative path',
    );
    expect(() => buildCpio([{ kind: 'file', path: 'a/../b', data: '' }])).toThrow('cpio path "a/../b"');
  });
});

describe('moduleLoadOrder', () => {
  const DEP = [
    'kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko',
    'kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
    'kernel/net/9p/9pnet.ko:',
    'kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko',
    'kernel/fs/netfs/netfs.ko:',
    'kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko',
    'kernel/drivers/virtio/virtio_ring.ko:',
    'kernel/drivers/xen/xen-evtchn.ko:',
  ].join('\n');

  it('puts every dependency before its dependents, each module once', () => {
    expect(moduleLoadOrder(DEP, ['9pnet_virtio', '9p']).map((m) => m.name)).toEqual([
      'virtio_ring',
      'virtio',
      '9pnet',
      '9pnet_virtio',
      'netfs',
      'fscache',
      '9p',
    ]);
  });

  it('takes - and _ as the same, and names what is missing and who needed it', () => {
    expect(moduleLoadOrder(DEP, ['xen_evtchn'])).toEqual([
      { name: 'xen-evtchn', path: 'kernel/drivers/xen/xen-evtchn.ko' },
    ]);
    expect(() => moduleLoadOrder('kernel/a.ko: kernel/b.ko\n', ['a'])).toThrow(
      'module b is not in modules.dep (needed by a)',
    );
  });
});

describe('QEMU command line', () => {
  const base = {
    xen: '/c/xen',
    vmlinux: '/c/vmlinux',
    initramfs: '/w/dom0.cpio',
    hostRoot: '/',
    imageRoot: '/c/root',
    share: '/w/share',
    console: '/w/console.log',
    monitor: '/w/monitor.sock',
    taps: ['xp0', 'xp1'],
    memMb: 3072,
    dom0MemMb: 1024,
    cpus: 2,
  };

  it('under TCG: multi-threaded TCG, a Nehalem CPU, and Xen told to skip what the emulator lacks', () => {
    const args = qemuArgs({ ...base, accel: { kind: 'tcg', why: 'test' } });
    expect(args.slice(0, 4)).toEqual(['-accel', 'tcg,thread=multi', '-cpu', 'Nehalem']);
    expect(args[args.indexOf('-append') + 1]).toBe(
      'console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M loglvl=warning guest_loglvl=warning cet=0 smap=0 bootscrub=0 spec-ctrl=no',
    );
    expect(args[args.indexOf('-initrd') + 1]).toBe(
      '/c/vmlinux console=hvc0 earlyprintk=xen quiet rdinit=/init,/w/dom0.cpio',
    );
    expect(args.join(' ')).toContain(`-device e1000,netdev=nic1,mac=${nicMac(1)}`);
    expect(args.join(' ')).toContain('-netdev tap,id=nic0,ifname=xp0,script=no,downscript=no');
    expect(args.join(' ')).toContain(
      'local,id=hostroot,path=/,security_model=passthrough,multidevs=remap,readonly=on',
    );
    expect(args.join(' ')).toContain(
      'local,id=run,path=/w/share,security_model=passthrough,multidevs=remap -device',
    );
  });

  it('doubles commas inside a multiboot module, as QEMU splits modules on them', () => {
    const args = qemuArgs({ ...base, vmlinux: '/c/a,b', accel: { kind: 'kvm', why: 'test' } });
    expect(args[args.indexOf('-initrd') + 1]).toBe(
      '/c/a,,b console=hvc0 earlyprintk=xen quiet rdinit=/init,/w/dom0.cpio',
    );
    expect(xenCommandLine({ accel: { kind: 'kvm', why: '' }, dom0MemMb: 768 })).not.toContain('cet=0');
  });
});

describe('renderGuestConfig', () => {
  it('a PV guest with its settings on the kernel command line and xl-quoted vif entries', () => {
    expect(
      renderGuestConfig(
        {
          name: 'g1',
          vifs: [['mac=00:16:3e:00:00:01', 'bridge=xenbr0', 'script=vif-xenplan']],
          ip: '192.0.2.21/24',
          gateway: '192.0.2.1',
          ping: ['192.0.2.1', '192.0.2.22'],
        },
        '/c/vmlinux',
        '/s/guest.cpio',
      ),
    ).toBe(
      [
        'name = "g1"',
        'type = "pv"',
        'kernel = "/c/vmlinux"',
        'ramdisk = "/s/guest.cpio"',
        'extra = "console=hvc0 quiet xp.ip=192.0.2.21/24 xp.gw=192.0.2.1 xp.ping=192.0.2.1,192.0.2.22"',
        'memory = 96',
        'vcpus = 1',
        'vif = [ "mac=00:16:3e:00:00:01,bridge=xenbr0,script=vif-xenplan" ]',
        'on_crash = "destroy"',
        '',
      ].join('\n'),
    );
  });

  it('a lying guest: its fake MAC and its spoofed address go on the command line', () => {
    const config = renderGuestConfig(
      {
        name: 'liar',
        vifs: [['bridge=xenbr0']],
        ip: '192.0.2.21/24',
        mac: '00:16:3e:00:00:99',
        spoof: '192.0.2.121',
      },
      '/k',
      '/r',
    );
    expect(config).toContain(
      'extra = "console=hvc0 quiet xp.ip=192.0.2.21/24 xp.mac=00:16:3e:00:00:99 xp.spoof=192.0.2.121"',
    );
  });
});

describe('renderGuestInit', () => {
  const init = renderGuestInit(['xen-netfront']);

  it('sets the fake MAC before eth0 comes up, and the spoofed address as a /32 with ARP from the first address', () => {
    const lines = init.split('\n');
    const at = (line: string) => lines.indexOf(line);
    expect(at('[ -n "$MAC" ] && ip link set eth0 address "$MAC"')).toBeGreaterThan(-1);
    expect(at('[ -n "$MAC" ] && ip link set eth0 address "$MAC"')).toBeLessThan(at('ip link set eth0 up'));
    expect(init).toContain(
      '  echo 2 > /proc/sys/net/ipv4/conf/eth0/arp_announce\n  ip address add "$SPOOF/32" dev eth0\n',
    );
  });

  it('pings every target from the spoofed address too, saying @@spoof', () => {
    expect(init).toContain(
      'if ping -c 1 -W 1 -I "$SPOOF" "$t" > /dev/null 2>&1; then echo "@@spoof $t ok $n"; else echo "@@spoof $t fail $n"; fi',
    );
  });

  it('reaches a gateway outside its subnet (a routed /32 guest) through a device route', () => {
    expect(init).toContain(
      'ip route add default via "$GW" 2> /dev/null || { ip route add "$GW" dev eth0; ip route add default via "$GW"; }',
    );
  });
});
