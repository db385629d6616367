/**
 * dom0's two init stages, as POSIX sh text (pure).
 *
 * Stage 1 is the initramfs's /init (busybox): it loads the modules that reach the 9p shares,
 * mounts the host's `/` and the image's root read-only and layers them under a tmpfs
 * (overlay: the image's root over the host's), mounts the run's share, and switch_roots.
 * So dom0 runs the host's node, ip and the built bundle, Xen's tools from the image, and
 * nothing it writes reaches the host except in the share.
 *
 * Stage 2 (the host's /bin/sh in the new root) does what systemd and Xen's init scripts would:
 * fresh /run and /tmp-independent state dirs, the Xen and network modules, xenfs, C xenstored,
 * xen-init-dom0, xenconsoled; then it serves jobs: the host writes `jobs/N.sh` into the share,
 * dom0 runs it and writes `jobs/N.out` (stdout and stderr, as it goes) and `jobs/N.rc`.
 */
import { BUSYBOX_INIT_PRELUDE, quoteShell } from './shell.ts';

/** Where the run's share is mounted inside dom0. */
export const VM_SHARE = '/xenplan-vm';

/** The 9p tags QEMU exports and stage 1 mounts. */
export const SHARE_TAGS = { host: 'hostroot', image: 'xenimage', run: 'xenplanvm' } as const;

/** Modules dom0 needs and loads by name; the optional ones may be missing without harm. */
export const DOM0_MODULES = {
  xen: ['xenfs', 'xen-evtchn', 'xen-gntdev', 'xen-gntalloc', 'xen-privcmd', 'xen-netback'],
  // bonding and dummy with no default devices: a bond0 nobody asked for would fake a host state.
  net: [
    'e1000',
    'bridge',
    'bonding max_bonds=0',
    '8021q',
    'veth',
    'tun',
    'dummy numdummies=0',
    'br_netfilter',
  ],
  optional: ['openvswitch', 'nf_tables', 'nft_chain_nat'],
} as const;

/** The PATH in dom0: Xen's tool directory first, since Debian's wrappers need /sys/hypervisor. */
export const DOM0_PATH = '/usr/lib/xen-4.17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function renderStage1(modules: readonly string[]): string {
  return `${BUSYBOX_INIT_PRELUDE}say() { up=; read -r up _ < /proc/uptime; echo "xenplan-vm \${up}s: $*" > /dev/console; }
die() { say "init failed: $*"; sleep 1; poweroff -f; }
say "initramfs"
for m in ${modules.join(' ')}; do insmod "/modules/$m.ko" || die "insmod $m"; done
ro9p='trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro'
mount -t 9p -o "$ro9p" ${SHARE_TAGS.host} /host || die "mount the host's root (9p)"
mount -t 9p -o "$ro9p" ${SHARE_TAGS.image} /image || die "mount the image's root (9p)"
mount -t tmpfs -o size=1g,mode=755 tmpfs /rw || die "tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/image:/host,upperdir=/rw/upper,workdir=/rw/work overlay /root || die "overlay"
mkdir -p /root${VM_SHARE}
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ${SHARE_TAGS.run} /root${VM_SHARE} || die "mount the run's share (9p)"
say "root ready"
for fs in proc sys dev; do mount --move /$fs /root/$fs; done
exec switch_root /root /bin/sh ${VM_SHARE}/stage2.sh
`;
}

export function renderStage2(): string {
  const S = VM_SHARE;
  return `#!/bin/sh
# dom0, stage 2: Xen's services by hand (no systemd, no udev: libxl runs vif scripts itself),
# then the job loop.
export PATH=${quoteShell(DOM0_PATH)} HOME=/root LANG=C
say() { up=; read -r up _ < /proc/uptime; echo "xenplan-vm \${up}s: $*" > /dev/console; }
die() { say "dom0 setup failed: $*"; echo "$*" > ${S}/failed; sleep 1; echo o > /proc/sysrq-trigger; poweroff -f; }
mount -t tmpfs -o mode=755 tmpfs /run || die "tmpfs /run"
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mkdir -p /run/xen /run/xenstored /run/xen-hotplug /var/lib/xen /var/lib/xenstored /var/log/xen/console /var/run
for m in ${DOM0_MODULES.xen.join(' ')}; do modprobe "$m" || die "modprobe $m"; done
${DOM0_MODULES.net.map((m) => `modprobe ${m} || die "modprobe ${m.split(' ')[0]}"`).join('\n')}
for m in ${DOM0_MODULES.optional.join(' ')}; do modprobe -q "$m" 2>/dev/null; done
mount -t xenfs xenfs /proc/xen || die "mount xenfs"
ip link set lo up
xenstored --pid-file /run/xenstored.pid || die "xenstored"
xen-init-dom0 > /var/log/xen/xen-init-dom0.log 2>&1 || die "xen-init-dom0"
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console || die "xenconsoled"
say "dom0 ready"
: > ${S}/ready
n=1
while :; do
  if [ -f ${S}/jobs/$n.sh ]; then
    (cd / && exec sh ${S}/jobs/$n.sh > ${S}/jobs/$n.out 2>&1 < /dev/null)
    echo $? > ${S}/jobs/$n.rc.tmp && mv ${S}/jobs/$n.rc.tmp ${S}/jobs/$n.rc
    n=$((n + 1))
  else
    sleep 0.1
  fi
done
`;
}
