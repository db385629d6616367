/**
 * The VM's image: Debian's Xen 4.17 and Linux 6.1 packages, downloaded once with
 * `apt-get download`, unpacked with `dpkg -x` (nothing is installed on the host) and turned
 * into what QEMU boots, in one fixed cache directory that later runs reuse:
 *
 *   <cache>/debs/*.deb           the downloads (~75 MB)
 *   <cache>/image-vN/xen         the hypervisor, gunzipped (QEMU's multiboot loader wants ELF)
 *   <cache>/image-vN/vmlinux     the kernel as a plain ELF, for dom0 and the guests: Xen (and
 *                                libxl) unpacking the xz bzImage under TCG takes minutes
 *   <cache>/image-vN/vmlinuz     the same kernel as Debian ships it (a bzImage)
 *   <cache>/image-vN/busybox     static busybox for the initramfs images
 *   <cache>/image-vN/root/       the packages' files with /lib, /bin, /sbin folded into /usr
 *                                (merged-/usr, like the host's root it is layered over), and
 *                                the modules' depmod index: the upper read-only layer of
 *                                dom0's root
 *   <cache>/image-vN/image.json  versions and sizes; written last, so its presence means done
 *
 * A half-built image (interrupted, two builders at once) never becomes `image-vN/`: each build
 * happens in its own temporary directory that is renamed into place when complete.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { XenplanError } from '../../model/error.ts';

/** The fixed place on the machine; XENPLAN_VM_CACHE moves it. */
export const DEFAULT_VM_CACHE = '/var/cache/xenplan/vm';

/** The hypervisor, the toolstack and what they link against, the kernel, busybox. */
export const VM_PACKAGES: readonly string[] = [
  'xen-hypervisor-4.17-amd64',
  'xen-utils-4.17',
  'xen-utils-common',
  'xenstore-utils',
  'libxenstore4',
  'libxencall1',
  'libxenevtchn1',
  'libxenforeignmemory1',
  'libxengnttab1',
  'libxenmisc4.17',
  'libxentoollog1',
  'libxenhypfs1',
  'libxendevicemodel1',
  'libxentoolcore1',
  'libyajl2',
  'linux-image-amd64',
  'busybox-static',
  // Open vSwitch for the vif-xenplan-ovs kernel test: the daemons and ovs-vsctl, and the one
  // library of theirs a Debian host does not already have (the rest come from the host's /).
  'openvswitch-switch',
  'openvswitch-common',
  'libxdp1',
];

/**
 * Bumped when the image's layout or package set changes. Each version builds into a directory
 * of its own (`image-v2`), so a new version rebuilds while an older checkout sharing the cache
 * keeps its image (renaming over a full `image/` would fail).
 */
const LAYOUT = 2;
const IMAGE_DIR = `image-v${LAYOUT}`;

export interface VmImage {
  readonly dir: string;
  readonly xen: string;
  readonly vmlinux: string;
  readonly vmlinuz: string;
  readonly busybox: string;
  readonly root: string;
  /** `uname -r` of the kernel, e.g. 6.1.0-57-amd64. */
  readonly kernel: string;
  /** `<root>/usr/lib/modules/<kernel>`. */
  readonly modules: string;
  readonly packages: Readonly<Record<string, string>>;
}

interface ImageInfo {
  readonly layout: number;
  readonly kernel: string;
  readonly packages: Record<string, string>;
  readonly downloadBytes: number;
}

function run(file: string, args: readonly string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error)
        reject(
          new XenplanError(
            'environment',
            `${file} ${args.join(' ')} failed: ${(stderr || error.message).trim()}`,
          ),
        );
      else resolve(stdout);
    });
  });
}

export function vmCacheDir(env: NodeJS.ProcessEnv): string {
  return env.XENPLAN_VM_CACHE || DEFAULT_VM_CACHE;
}

function imageOf(dir: string): VmImage | undefined {
  let info: ImageInfo;
  try {
    info = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as ImageInfo;
  } catch {
    return undefined;
  }
  if (info.layout !== LAYOUT) return undefined;
  const root = join(dir, 'root');
  return {
    dir,
    xen: join(dir, 'xen'),
    vmlinux: join(dir, 'vmlinux'),
    vmlinuz: join(dir, 'vmlinuz'),
    busybox: join(dir, 'busybox'),
    root,
    kernel: info.kernel,
    modules: join(root, 'usr/lib/modules', info.kernel),
    packages: info.packages,
  };
}

/** The cached image, or undefined when it has not been built yet. */
export function cachedVmImage(cache: string): VmImage | undefined {
  return imageOf(join(cache, IMAGE_DIR));
}

/** The cached image, building it first (download, unpack, extract) when missing. */
export async function ensureVmImage(
  cache: string,
  say: (line: string) => void = () => undefined,
): Promise<VmImage> {
  const ready = cachedVmImage(cache);
  if (ready) return ready;
  const debs = join(cache, 'debs');
  mkdirSync(debs, { recursive: true });
  const build = mkdtempSync(join(cache, '.build-'));
  try {
    const files = await download(debs, say);
    say(`unpacking ${files.length} packages`);
    const unpacked = join(build, 'unpacked');
    for (const file of files) await run('dpkg-deb', ['-x', join(debs, file), unpacked]);
    const boot = join(unpacked, 'boot');
    const kernel = readdirSync(join(unpacked, 'lib/modules'))[0];
    if (kernel === undefined) throw new XenplanError('environment', 'the kernel package holds no modules');
    writeFileSync(join(build, 'xen'), gunzipSync(readFileSync(join(boot, 'xen-4.17-amd64.gz'))));
    const vmlinuz = join(boot, `vmlinuz-${kernel}`);
    renameSync(vmlinuz, join(build, 'vmlinuz'));
    await extractVmlinux(join(build, 'vmlinuz'), join(build, 'vmlinux'));
    renameSync(join(unpacked, 'bin/busybox'), join(build, 'busybox'));
    rmSync(boot, { recursive: true });
    await mergeUsr(unpacked);
    renameSync(unpacked, join(build, 'root'));
    await run('depmod', ['-b', join(build, 'root/usr'), kernel]);
    const packages: Record<string, string> = {};
    let downloadBytes = 0;
    for (const file of files) {
      const [name, version] = file.replace(/\.deb$/, '').split('_');
      if (name && version) packages[name] = decodeURIComponent(version);
      downloadBytes += statSync(join(debs, file)).size;
    }
    const info: ImageInfo = { layout: LAYOUT, kernel, packages, downloadBytes };
    writeFileSync(join(build, 'image.json'), `${JSON.stringify(info, null, 2)}\n`);
    try {
      renameSync(build, join(cache, IMAGE_DIR));
    } catch {
      // another builder finished first; its image is as good as ours
    }
    const image = cachedVmImage(cache);
    if (!image) throw new XenplanError('environment', `the VM image in ${cache}/${IMAGE_DIR} is unreadable`);
    return image;
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

/** apt-get download of every package (the kernel metapackage resolved to its real package). */
async function download(debs: string, say: (line: string) => void): Promise<string[]> {
  const have = () => readdirSync(debs).filter((f) => f.endsWith('.deb'));
  const missing = VM_PACKAGES.filter((p) => !have().some((f) => f.startsWith(`${p}_`)));
  if (missing.length > 0) {
    say(`downloading ${missing.length} Debian packages (about 75 MB, once; cached in ${debs})`);
    // A machine whose package lists were never fetched knows no package: fetch them once.
    await run('apt-get', ['download', '-q', ...missing], debs).catch(async () => {
      await run('apt-get', ['update', '-qq']);
      await run('apt-get', ['download', '-q', ...missing], debs);
    });
  }
  const meta = have().find((f) => f.startsWith('linux-image-amd64_'));
  if (!meta) throw new XenplanError('environment', 'apt-get download gave no linux-image-amd64');
  const depends = (await run('dpkg-deb', ['-f', join(debs, meta), 'Depends'])).trim();
  const real = /^(linux-image-[0-9][^ ,]*)/.exec(depends)?.[1];
  if (!real)
    throw new XenplanError(
      'environment',
      `linux-image-amd64 depends on ${JSON.stringify(depends)}: expected linux-image-<version>`,
    );
  if (!have().some((f) => f.startsWith(`${real}_`))) await run('apt-get', ['download', '-q', real], debs);
  return have().filter(
    (f) =>
      !f.startsWith('linux-image-amd64_') &&
      (VM_PACKAGES.some((p) => f.startsWith(`${p}_`)) || f.startsWith(`${real}_`)),
  );
}

/** The ELF inside a bzImage: the xz stream after the setup code, decompressed by xz. */
async function extractVmlinux(bzImage: string, out: string): Promise<void> {
  const data = readFileSync(bzImage);
  const at = data.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (at < 0)
    throw new XenplanError('environment', `${bzImage} holds no xz stream: expected an xz-compressed kernel`);
  const stream = `${out}.xz`;
  writeFileSync(stream, data.subarray(at));
  // xz stops with an error at the padding after the stream; the kernel before it is whole.
  await run('sh', ['-c', 'xz -dc -- "$1" > "$2" 2>/dev/null; test -s "$2"', 'sh', stream, out]).catch(() => {
    throw new XenplanError(
      'environment',
      `could not decompress the kernel in ${bzImage} (is xz-utils installed?)`,
    );
  });
  rmSync(stream);
  if (readFileSync(out).subarray(0, 4).toString('latin1') !== '\x7fELF')
    throw new XenplanError('environment', `the kernel unpacked from ${bzImage} is not an ELF file`);
}

/** Moves /bin, /sbin, /lib, /lib64 into /usr: over a merged-/usr root they would hide its links. */
async function mergeUsr(root: string): Promise<void> {
  for (const dir of ['bin', 'sbin', 'lib', 'lib64']) {
    const from = join(root, dir);
    if (!existsSync(from)) continue;
    mkdirSync(join(root, 'usr', dir), { recursive: true });
    await run('cp', ['-a', `${from}/.`, join(root, 'usr', dir)]);
    rmSync(from, { recursive: true });
  }
}
