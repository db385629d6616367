/** The two initramfs images a run boots: dom0's (stage 1) and the guests'. Built per run (cheap). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCpio, type CpioEntry } from './cpio.ts';
import { renderStage1 } from './dom0-init.ts';
import { GUEST_MODULES, renderGuestInit } from './guest.ts';
import type { VmImage } from './image.ts';
import { moduleLoadOrder } from './modules.ts';

/** What stage 1 needs to reach the shares: virtio PCI, 9p over virtio, overlay. */
export const STAGE1_MODULES: readonly string[] = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

function base(
  image: VmImage,
  wanted: readonly string[],
  init: (order: string[]) => string,
  dirs: readonly string[],
): Uint8Array {
  const order = moduleLoadOrder(readFileSync(join(image.modules, 'modules.dep'), 'utf8'), wanted);
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'modules', ...dirs].map((path): CpioEntry => ({ kind: 'dir', path })),
    { kind: 'char', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: readFileSync(image.busybox), mode: 0o755 },
    ...order.map(
      (m): CpioEntry => ({
        kind: 'file',
        path: `modules/${m.name}.ko`,
        data: readFileSync(join(image.modules, m.path)),
      }),
    ),
    { kind: 'file', path: 'init', data: init(order.map((m) => m.name)), mode: 0o755 },
  ];
  return buildCpio(entries);
}

export function buildDom0Initramfs(image: VmImage): Uint8Array {
  return base(image, STAGE1_MODULES, renderStage1, ['host', 'image', 'rw', 'root']);
}

export function buildGuestInitramfs(image: VmImage): Uint8Array {
  return base(image, GUEST_MODULES, renderGuestInit, []);
}
