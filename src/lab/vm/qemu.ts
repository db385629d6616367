/**
 * The QEMU command line for the test bed (pure): Xen by multiboot with dom0's kernel and
 * initramfs as modules, two e1000 NICs on taps, the three 9p shares, the serial console to a
 * file and the monitor on a unix socket (to pull cables: `set_link nic0 off`).
 */
import { SHARE_TAGS } from './dom0-init.ts';

export interface Accel {
  readonly kind: 'kvm' | 'tcg';
  /** Why this one, for the progress line. */
  readonly why: string;
}

export interface QemuParams {
  readonly accel: Accel;
  readonly xen: string;
  readonly vmlinux: string;
  readonly initramfs: string;
  readonly hostRoot: string;
  readonly imageRoot: string;
  readonly share: string;
  readonly console: string;
  readonly monitor: string;
  /** Tap names, one NIC each: dom0 sees them as eth0, eth1, ... */
  readonly taps: readonly string[];
  readonly memMb: number;
  readonly dom0MemMb: number;
  readonly cpus: number;
}

/** dom0's MAC for NIC i: locally administered, stable, so tests can name it. */
export function nicMac(i: number): string {
  return `52:54:00:12:34:${(0x56 + i).toString(16).padStart(2, '0')}`;
}

/** Xen's options; under TCG the features the emulator lacks or makes slow are off. */
export function xenCommandLine(params: Pick<QemuParams, 'accel' | 'dom0MemMb'>): string {
  const mem = `${params.dom0MemMb}M`;
  const tcg = params.accel.kind === 'tcg' ? ' cet=0 smap=0 bootscrub=0 spec-ctrl=no' : '';
  return `console=com1 com1=115200,8n1 dom0_mem=${mem},max:${mem} loglvl=warning guest_loglvl=warning${tcg}`;
}

export function qemuArgs(p: QemuParams): string[] {
  // QEMU's -initrd splits modules on commas (a literal comma is ",,").
  const module = (file: string, args = '') => `${file}${args ? ` ${args}` : ''}`.replaceAll(',', ',,');
  const fs = (id: string, path: string, tag: string, readonly: boolean) => [
    '-fsdev',
    `local,id=${id},path=${path},security_model=passthrough,multidevs=remap${readonly ? ',readonly=on' : ''}`,
    '-device',
    `virtio-9p-pci,fsdev=${id},mount_tag=${tag}`,
  ];
  return [
    '-accel',
    p.accel.kind === 'kvm' ? 'kvm' : 'tcg,thread=multi',
    '-cpu',
    // Under TCG, not `max`: with it (AVX, AVX-512, AMX offered to Xen's PV dom0 and guests)
    // programs in dom0 were killed by SIGSEGV now and then, and a guest's kernel panicked at
    // boot; Nehalem (SSE4.2, no AVX) is all that glibc, node and Xen need, and stays stable.
    p.accel.kind === 'kvm' ? 'host' : 'Nehalem',
    '-smp',
    String(p.cpus),
    '-m',
    String(p.memMb),
    '-nodefaults',
    '-no-reboot',
    '-display',
    'none',
    '-kernel',
    p.xen,
    '-append',
    xenCommandLine(p),
    '-initrd',
    `${module(p.vmlinux, 'console=hvc0 earlyprintk=xen quiet rdinit=/init')},${module(p.initramfs)}`,
    ...fs('hostroot', p.hostRoot, SHARE_TAGS.host, true),
    ...fs('image', p.imageRoot, SHARE_TAGS.image, true),
    ...fs('run', p.share, SHARE_TAGS.run, false),
    ...p.taps.flatMap((tap, i) => [
      '-netdev',
      `tap,id=nic${i},ifname=${tap},script=no,downscript=no`,
      '-device',
      `e1000,netdev=nic${i},mac=${nicMac(i)}`,
    ]),
    '-chardev',
    `file,id=serial,path=${p.console}`,
    '-serial',
    'chardev:serial',
    '-monitor',
    `unix:${p.monitor},server=on,wait=off`,
  ];
}
