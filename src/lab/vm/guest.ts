/**
 * The guests: PV domUs that run the image's kernel with a busybox initramfs, and the xl
 * configuration that starts them. Pure.
 *
 * A guest takes its settings from its kernel command line (xl's `extra=`): `xp.ip=ADDR/LEN`,
 * `xp.gw=ADDR`, `xp.ping=A,B,...`. It brings eth0 (netfront) up with them, says
 * `@@guest up MAC mtu N` on its console, then pings every target once a second forever,
 * printing `@@ping TARGET ok|fail N`. xenconsoled writes the console to
 * /var/log/xen/console/guest-NAME.log in dom0.
 */
import { BUSYBOX_INIT_PRELUDE } from './shell.ts';

export const GUEST_MODULES: readonly string[] = ['xen-netfront'];

export function renderGuestInit(modules: readonly string[]): string {
  return `${BUSYBOX_INIT_PRELUDE}exec > /dev/hvc0 2>&1
for m in ${modules.join(' ')}; do insmod "/modules/$m.ko"; done
IP=; GW=; PING=
for word in $(cat /proc/cmdline); do
  case "$word" in
    xp.ip=*) IP=\${word#xp.ip=} ;;
    xp.gw=*) GW=\${word#xp.gw=} ;;
    xp.ping=*) PING=$(echo "\${word#xp.ping=}" | tr , ' ') ;;
  esac
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
ip link set lo up
ip link set eth0 up
[ -n "$IP" ] && ip address add "$IP" dev eth0
[ -n "$GW" ] && ip route add default via "$GW"
echo "@@guest up $(cat /sys/class/net/eth0/address) mtu $(cat /sys/class/net/eth0/mtu)"
n=0
while :; do
  n=$((n + 1))
  for t in $PING; do
    if ping -c 1 -W 1 "$t" > /dev/null 2>&1; then echo "@@ping $t ok $n"; else echo "@@ping $t fail $n"; fi
  done
  sleep 1
done
`;
}

export interface GuestSpec {
  readonly name: string;
  /** The xl `vif` entries, each a list of `key=value` settings. */
  readonly vifs: readonly (readonly string[])[];
  readonly ip?: string;
  readonly gateway?: string;
  readonly ping?: readonly string[];
  readonly memoryMb?: number;
}

/** An xl domain configuration for a PV guest booting `kernel` with `ramdisk`. */
export function renderGuestConfig(spec: GuestSpec, kernel: string, ramdisk: string): string {
  const extra = [
    'console=hvc0',
    'quiet',
    ...(spec.ip ? [`xp.ip=${spec.ip}`] : []),
    ...(spec.gateway ? [`xp.gw=${spec.gateway}`] : []),
    ...(spec.ping?.length ? [`xp.ping=${spec.ping.join(',')}`] : []),
  ].join(' ');
  const str = (value: string) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  return [
    `name = ${str(spec.name)}`,
    'type = "pv"',
    `kernel = ${str(kernel)}`,
    `ramdisk = ${str(ramdisk)}`,
    `extra = ${str(extra)}`,
    `memory = ${spec.memoryMb ?? 96}`,
    'vcpus = 1',
    `vif = [ ${spec.vifs.map((v) => str(v.join(','))).join(', ')} ]`,
    'on_crash = "destroy"',
    '',
  ].join('\n');
}
