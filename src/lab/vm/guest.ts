/**
 * The guests: PV domUs that run the image's kernel with a busybox initramfs, and the xl
 * configuration that starts them. Pure.
 *
 * A guest takes its settings from its kernel command line (xl's `extra=`): `xp.ip=ADDR/LEN`,
 * `xp.gw=ADDR`, `xp.ping=A,B,...`. It brings eth0 (netfront) up with them, says
 * `@@guest up MAC mtu N` on its console, then pings every target once a second forever,
 * printing `@@ping TARGET ok|fail N`. xenconsoled writes the console to
 * /var/log/xen/console/guest-NAME.log in dom0.
 *
 * For the antispoofing tests a guest can also lie: `xp.mac=MAC` sets eth0's MAC before it
 * comes up (the backend's `mac` key still names the real one), and `xp.spoof=ADDR` adds a
 * second address that is not in the vif's `ip` key and pings every target from it too
 * (`ping -I ADDR`), printing `@@spoof TARGET ok|fail N`. ARP then always speaks from the
 * first address (arp_announce=2), so only the spoofed IPv4 packets differ.
 *
 * A gateway outside the guest's subnet (a routed guest with a /32, whose next hop is dom0's
 * address on the vif) gets a device route first, as `onlink` would.
 */
import { BUSYBOX_INIT_PRELUDE } from './shell.ts';

export const GUEST_MODULES: readonly string[] = ['xen-netfront'];

export function renderGuestInit(modules: readonly string[]): string {
  return `${BUSYBOX_INIT_PRELUDE}exec > /dev/hvc0 2>&1
for m in ${modules.join(' ')}; do insmod "/modules/$m.ko"; done
IP=; GW=; PING=; MAC=; SPOOF=
for word in $(cat /proc/cmdline); do
  case "$word" in
    xp.ip=*) IP=\${word#xp.ip=} ;;
    xp.gw=*) GW=\${word#xp.gw=} ;;
    xp.ping=*) PING=$(echo "\${word#xp.ping=}" | tr , ' ') ;;
    xp.mac=*) MAC=\${word#xp.mac=} ;;
    xp.spoof=*) SPOOF=\${word#xp.spoof=} ;;
  esac
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
ip link set lo up
[ -n "$MAC" ] && ip link set eth0 address "$MAC"
ip link set eth0 up
[ -n "$IP" ] && ip address add "$IP" dev eth0
if [ -n "$SPOOF" ]; then
  echo 2 > /proc/sys/net/ipv4/conf/eth0/arp_announce
  ip address add "$SPOOF/32" dev eth0
fi
if [ -n "$GW" ]; then
  ip route add default via "$GW" 2> /dev/null || { ip route add "$GW" dev eth0; ip route add default via "$GW"; }
fi
echo "@@guest up $(cat /sys/class/net/eth0/address) mtu $(cat /sys/class/net/eth0/mtu)"
n=0
while :; do
  n=$((n + 1))
  for t in $PING; do
    if ping -c 1 -W 1 "$t" > /dev/null 2>&1; then echo "@@ping $t ok $n"; else echo "@@ping $t fail $n"; fi
    [ -z "$SPOOF" ] && continue
    if ping -c 1 -W 1 -I "$SPOOF" "$t" > /dev/null 2>&1; then echo "@@spoof $t ok $n"; else echo "@@spoof $t fail $n"; fi
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
  /** A MAC the guest sets on eth0 instead of the one the backend gives it (antispoof tests). */
  readonly mac?: string;
  /** A second address, not in the vif's ip key, the guest also pings from (antispoof tests). */
  readonly spoof?: string;
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
    ...(spec.mac ? [`xp.mac=${spec.mac}`] : []),
    ...(spec.spoof ? [`xp.spoof=${spec.spoof}`] : []),
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
