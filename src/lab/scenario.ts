/**
 * The lab's scenario: the admin's bonded bridge from examples/ (EXAMPLE_FILES), played end to end on a real
 * Xen 4.17 host in QEMU (src/lab/vm). Pure: the stages and the POSIX sh each one runs in dom0;
 * their output carries `@@` markers the host reads for progress and the summary.
 *
 * dom0's eth0 and eth1 are e1000 NICs on two switches joined upstream at the gateway
 * 192.0.2.1 (the host side of the VM). Addresses are documentation ones: the admin's
 * 192.168.1.11 becomes 192.0.2.11. Guests are PV domUs started by `xl create` whose vifs the
 * installed vif-xenplan attaches.
 */
import { EXAMPLE_FILES } from '../model/examples.ts';
import { renderGuestConfig } from './vm/guest.ts';

export interface Stage {
  readonly id: number;
  readonly title: string;
}

export const STAGES: readonly Stage[] = [
  { id: 1, title: 'Xen host: Xen 4.17 and dom0 boot in QEMU; eth0 and eth1 on two switches, a gateway' },
  { id: 2, title: "doctor: the admin's original configuration, then the recommended one" },
  { id: 3, title: 'network-script start: the recommended bond, dry-run first, then applied and verified' },
  { id: 4, title: 'two guests: xl create with vif-xenplan; each pings the gateway and the other' },
  { id: 5, title: "failover: eth0's cable is pulled; the guests keep pinging through eth1" },
  { id: 6, title: 'a guest whose bridge does not exist: xl create fails within seconds, saying why' },
  { id: 7, title: 'teardown: xl destroy, network-script stop; dom0 as before' },
];

/** The admin's ifcfg files (examples/ifcfg; the address already a documentation one). */
export const SEED_IFCFG: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(EXAMPLE_FILES)
    .filter(([path]) => path.startsWith('ifcfg/'))
    .map(([path, text]) => [path.slice('ifcfg/'.length), text]),
);

/** What the admin did by hand besides the ifcfg files, as doctor keys (examples/by-hand.conf). */
export const SEED_EXTRA_KEYS: readonly string[] = (EXAMPLE_FILES['by-hand.conf'] ?? '')
  .split('\n')
  .filter((line) => line !== '' && !line.startsWith('#'));

/** The recommended configuration: active-backup, eth0 preferred, STP off, forward delay 0. */
export const RECOMMENDED_KEYS = [
  'bridge=xenbr0',
  'bond=bond0',
  'slaves=eth0,eth1',
  'bond-mode=active-backup',
  'miimon=100',
  'bond.primary=eth0',
  'stp=off',
  'forward-delay=0',
];

export interface Guest {
  readonly name: string;
  readonly mac: string;
  readonly ip: string;
}

export const GUESTS: readonly Guest[] = [
  { name: 'guest1', mac: '00:16:3e:00:00:01', ip: '192.0.2.21' },
  { name: 'guest2', mac: '00:16:3e:00:00:02', ip: '192.0.2.22' },
];

function heredoc(path: string, text: string): string {
  return `cat > ${path} <<'XENPLAN_EOF'\n${text}XENPLAN_EOF`;
}

/** What every stage's script starts with. $BUNDLE is the xenplan bundle, $L the lab's dir. */
const PRELUDE = `set -u
L=/tmp/lab
mkdir -p "$L/bin" "$L/ifcfg"
for name in xenplan network-script; do ln -sf "$BUNDLE" "$L/bin/$name"; done
export PATH="$L/bin:$PATH"
say() { printf '%s\\n' "$*"; }
# Run a command, show it and its indented output, keep its status.
run() {
  say "\\$ $*" | sed "s|$L/bin/||g; s|$L/|./|g"
  "$@" > "$L/cmd.out" 2>&1; rc=$?
  sed "s/^/    /; s|$L/|./|g" "$L/cmd.out"
  return $rc
}
pings() { # address: three replies within 5 s
  ping -n -q -c 3 -w 5 -i 0.2 "$1" > "$L/ping.out" 2>&1; rc=$?
  say "    ping $1 from dom0: $(grep -o '[0-9]* received' "$L/ping.out" || echo 'no reply')"
  return $rc
}
fail() { say "@@fail $stage $*"; exit 1; }
# XENPLAN_LAB_FAIL_AT=N (xenplan lab --fail-at N) makes stage N fail, to show nothing is left behind.
injected() { [ "\${XENPLAN_LAB_FAIL_AT:-}" = "$stage" ] && fail "failure injected by --fail-at $stage"; return 0; }
# A guest's console log (xenconsoled keeps the guest's CR LF line ends; drop the CR).
console_of() { tr -d '\r' < "/var/log/xen/console/guest-$1.log" 2>/dev/null; }
# The last @@ping line of a guest's console for a target: "ok N" or "fail N".
last_ping() { console_of "$1" | awk -v t="$2" '$1 == "@@ping" && $2 == t { last = $3 " " $4 } END { print last }'; }
# Waits until guest $1 reports $3 consecutive good pings of $2 after round $4 (default 0).
guest_pings() {
  i=0
  while [ $i -lt 60 ]; do
    ok=$(console_of "$1" | awk -v t="$2" -v after="\${4:-0}" '$1 == "@@ping" && $2 == t && $4 > after { if ($3 == "ok") n++; else n = 0 } END { print n + 0 }')
    [ "$ok" -ge "$3" ] && { say "    $1 pings $2: $ok answered in a row"; return 0; }
    sleep 1; i=$((i + 1))
  done
  say "    $1 pings $2: no answer ($(last_ping "$1" "$2"))"
  return 1
}
`;

const KEYS = RECOMMENDED_KEYS.join(' ');

function guestConfig(guest: Guest, peer: Guest, bridge: string, kernel: string, ramdisk: string): string {
  const vif = [`mac=${guest.mac}`, `bridge=${bridge}`, 'script=vif-xenplan'];
  const spec = {
    name: guest.name,
    vifs: [vif],
    ip: `${guest.ip}/24`,
    gateway: '192.0.2.1',
    ping: ['192.0.2.1', peer.ip],
  };
  return renderGuestConfig(spec, kernel, ramdisk);
}

export interface LabPaths {
  /** The guests' kernel and initramfs, as dom0 sees them. */
  readonly kernel: string;
  readonly ramdisk: string;
}

/** The shell script of a stage run in dom0 (stage 1 is the boot itself; 5 has two halves). */
export function renderStage(stage: number, paths: LabPaths, part = 0): string {
  const body = STAGE_BODIES[stage]?.(paths, part);
  if (body === undefined) throw new Error(`the lab has no script for stage ${stage} part ${part}`);
  return `${PRELUDE}stage=${stage}\n${part === 0 ? 'say "@@stage $stage"; injected\n' : ''}${body}\n`;
}

const STAGE_BODIES: Readonly<Record<number, (paths: LabPaths, part: number) => string | undefined>> = {
  1: () => `run ip -br link
ip address add 192.0.2.11/24 dev eth0 && ip link set eth0 up && ip route add default via 192.0.2.1 || fail "dom0 address"
pings 192.0.2.1 || fail "dom0 cannot reach the gateway before xenplan"
run xl list
say "@@ok 1"`,
  2: () => `${Object.entries(SEED_IFCFG)
    .map(([name, text]) => heredoc(`"$L/ifcfg/${name}"`, text))
    .join('\n')}
say "The admin's setup: ifcfg files (bond0 mode=0 of eth0+eth1 in xenbr0, netloop veth0), arp off on the ports, bridge netfilter off."
run xenplan doctor ifcfg="$L/ifcfg" ${SEED_EXTRA_KEYS.join(' ')} --config-only; rc=$?
[ $rc -eq 1 ] || fail "doctor should find errors in the original configuration (exit 1), got $rc"
grep -q BOND001 "$L/cmd.out" || fail "doctor did not flag balance-rr under the bridge (BOND001)"
say "The recommended setup: ${KEYS}"
run xenplan doctor ${KEYS} --config-only || fail "doctor found errors in the recommended configuration"
say "@@ok 2"`,
  3: () => `run network-script start ${KEYS} --dry-run || fail "dry-run"
run network-script start ${KEYS} || fail "start"
run network-script status ${KEYS} || fail "status reports drift after start"
[ "$(cat /sys/class/net/bond0/bonding/mode)" = "active-backup 1" ] || fail "bond0 is not active-backup"
[ "$(basename "$(readlink /sys/class/net/bond0/master)")" = xenbr0 ] || fail "bond0 is not in xenbr0"
ip -br address show dev xenbr0 | grep -q 192.0.2.11/24 || fail "dom0's address did not move to xenbr0"
pings 192.0.2.1 || fail "dom0 cannot reach the gateway through the bond"
network-script start ${KEYS} --dry-run --json > "$L/second.json" 2>&1
grep -q '"steps": \\[\\]' "$L/second.json" || fail "a second start would still change something"
say "    a second start plans 0 steps"
say "@@ok 3"`,
  4: (paths) => `run xenplan install || fail "xenplan install"
${GUESTS.map((g, i) => heredoc(`"$L/${g.name}.cfg"`, guestConfig(g, GUESTS[1 - i] ?? g, 'xenbr0', paths.kernel, paths.ramdisk))).join('\n')}
for g in ${GUESTS.map((g) => g.name).join(' ')}; do
  run xl create "$L/$g.cfg" || fail "xl create $g"
done
run xl list
for d in $(xl list | awk 'NR > 2 { print $2 }'); do
  say "    backend/vif/$d/0/hotplug-status = $(xenstore-read /local/domain/0/backend/vif/$d/0/hotplug-status)"
done
run sh -c "bridge link | sed 's/ state.*//'"
${GUESTS.map(
  (g, i) => `guest_pings ${g.name} 192.0.2.1 3 || fail "${g.name} cannot reach the gateway"
guest_pings ${g.name} ${GUESTS[1 - i]?.ip} 3 || fail "${g.name} cannot reach the other guest"`,
).join('\n')}
say "@@ok 4"`,
  5: (_paths, part) =>
    part === 0
      ? `i=0; while [ $i -lt 50 ] && [ "$(cat /sys/class/net/bond0/bonding/active_slave)" != eth0 ]; do sleep 0.2; i=$((i + 1)); done
say "    active slave before: $(cat /sys/class/net/bond0/bonding/active_slave)"
[ "$(cat /sys/class/net/bond0/bonding/active_slave)" = eth0 ] || fail "eth0 (the primary) is not the active slave"
# the guests' last ping rounds before the cable is pulled
for g in ${GUESTS.map((g) => g.name).join(' ')}; do say "@@round $g $(last_ping $g 192.0.2.1 | cut -d' ' -f2)"; done
say "    pulling eth0's cable"`
      : part === 1
        ? `i=0; while [ $i -lt 50 ] && [ "$(cat /sys/class/net/bond0/bonding/active_slave)" != eth1 ]; do sleep 0.2; i=$((i + 1)); done
say "    eth0 carrier: $(cat /sys/class/net/eth0/carrier); active slave after: $(cat /sys/class/net/bond0/bonding/active_slave)"
[ "$(cat /sys/class/net/bond0/bonding/active_slave)" = eth1 ] || fail "bond0 did not fail over to eth1"
${GUESTS.map((g, i) => `guest_pings ${g.name} 192.0.2.1 3 "$ROUND_${i}" || fail "${g.name} lost the gateway after failover"`).join('\n')}
pings 192.0.2.1 || fail "dom0 lost the gateway after failover"
say "    (eth0's cable goes back in after this stage)"
say "@@ok 5"`
        : undefined,
  6: (
    paths,
  ) => `${heredoc('"$L/lost.cfg"', guestConfig({ name: 'lost', mac: '00:16:3e:00:00:09', ip: '192.0.2.29' }, GUESTS[0]!, 'xenbr9', paths.kernel, paths.ramdisk))}
t0=$(date +%s)
run xl create "$L/lost.cfg"; rc=$?
t1=$(date +%s)
[ $rc -ne 0 ] || fail "xl create of a guest on a missing bridge succeeded"
grep -q 'xenbr9' "$L/cmd.out" || fail "xl's message does not carry xenplan's reason"
say "    xl create failed after $((t1 - t0)) s, with vif-xenplan's reason"
xl list | grep -q '^lost ' && fail "the failed guest is still there"
say "@@ok 6"`,
  7: () => `for g in ${GUESTS.map((g) => g.name).join(' ')}; do run xl destroy $g || fail "xl destroy $g"; done
ls /sys/class/net | grep -q '^vif' && fail "a guest's vif is still there"
run network-script stop ${KEYS} || fail "stop"
[ -e /sys/class/net/bond0 ] && fail "bond0 still exists after stop"
[ -e /sys/class/net/xenbr0 ] && fail "xenbr0 still exists after stop"
ip -br address show dev eth0 | grep -q 192.0.2.11/24 || fail "eth0 did not get dom0's address back"
run ip -br address
pings 192.0.2.1 || fail "dom0 lost the gateway after stop"
run xenplan uninstall || fail "xenplan uninstall"
say "@@ok 7"`,
};
