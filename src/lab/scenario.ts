/**
 * The lab's scenario: the admin's bonded bridge from shared/seed, played end to end inside a
 * throwaway kernel. Pure: returns the POSIX sh script that runs inside User-mode Linux; its
 * output carries `@@` markers the host reads for progress and the summary.
 *
 * Inside, the UML kernel's own namespace is dom0. eth0 and eth1 are cabled to two switch
 * namespaces (swa, swb), both switches to an upstream gateway namespace (gw, 192.0.2.1).
 * Addresses are documentation ones: the admin's 192.168.1.11 becomes 192.0.2.11.
 */

export interface Stage {
  readonly id: number;
  readonly title: string;
}

export const STAGES: readonly Stage[] = [
  { id: 1, title: 'sandbox: dom0 with eth0 and eth1, two switches, an upstream gateway' },
  { id: 2, title: "doctor: the admin's original configuration, then the recommended one" },
  { id: 3, title: 'network-script start: the recommended bond, dry-run first, then applied and verified' },
  { id: 4, title: 'two guests: vif-script online as libxl runs it, each guest pings the gateway' },
  { id: 5, title: "failover: eth0's switch port goes down, the guests keep pinging through eth1" },
  { id: 6, title: 'teardown: vif-script offline, network-script stop' },
];

/** The admin's ifcfg files (shared/seed/ifcfg), with the address rewritten to a documentation one. */
export const SEED_IFCFG: Readonly<Record<string, string>> = {
  'ifcfg-eth0':
    'DEVICE=eth0\nUSERCTL=no\nBOOTPROTO=none\nMACADDR=00:1E:C9:BB:3B:DE\nONBOOT=yes\nMASTER=bond0\nSLAVE=yes\n',
  'ifcfg-eth1':
    'DEVICE=eth1\nUSERCTL=no\nBOOTPROTO=none\nMACADDR=00:1E:C9:BB:3B:DF\nONBOOT=yes\nMASTER=bond0\nSLAVE=yes\n',
  'ifcfg-bond0':
    "DEVICE=bond0\nBOOTPROTO=none\nONBOOT=yes\nTYPE=Ethernet\nBONDING_OPTS='mode=0 miimon=100'\nBRIDGE=xenbr0\n",
  'ifcfg-xenbr0':
    'DEVICE=xenbr0\nBOOTPROTO=none\nONBOOT=yes\nTYPE=Bridge\nSTP=OFF\nFD=9\nHELLO=2\nMAXAGE=12\n',
  'ifcfg-veth0':
    'DEVICE=veth0\nBOOTPROTO=none\nONBOOT=yes\nIPADDR=192.0.2.11\nNETMASK=255.255.255.0\nGATEWAY=192.0.2.1\n# Our Dom0 will be needing a HW address\nMACADDR=00:16:3E:00:01:00\n',
  'ifcfg-vif0.0': 'DEVICE=vif0.0\nBOOTPROTO=none\nONBOOT=yes\nBRIDGE=xenbr0\n',
};

/** What the admin did by hand besides the ifcfg files, as doctor keys. */
export const SEED_EXTRA_KEYS = [
  'noarp=eth0,eth1,bond0,vif0.0,vif1.0',
  'sysctl.net.bridge.bridge-nf-call-iptables=0',
  'sysctl.net.bridge.bridge-nf-call-ip6tables=0',
  'sysctl.net.bridge.bridge-nf-call-arptables=0',
];

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

function heredoc(path: string, text: string): string {
  return `cat > ${path} <<'XENPLAN_EOF'\n${text}XENPLAN_EOF`;
}

/** The scenario script. `keep` opens a shell on the sandbox console after the failover stage. */
export function renderLabScenario(options: { keep: boolean }): string {
  const ifcfg = Object.entries(SEED_IFCFG)
    .map(([name, text]) => heredoc(`"$W/ifcfg/${name}"`, text))
    .join('\n');
  return `#!/bin/sh
# xenplan lab scenario (generated). Runs as root inside User-mode Linux; $W is the work dir,
# $BUNDLE the xenplan bundle. Never run it on a real host: it rewires the network.
set -u
W=\${XENPLAN_UML_WORK:?}
mkdir -p "$W/bin" "$W/ifcfg" "$W/log" "$W/run"
for name in xenplan network-script vif-script; do ln -sf "$BUNDLE" "$W/bin/$name"; done
export XENPLAN_LOG_DIR="$W/log" XENPLAN_RUN_DIR="$W/run" XENSTORED_PATH="$W/xenstored.sock"
${ifcfg}

say() { printf '%s\\n' "$*"; }
# Run a command, show it and its indented output (paths shortened), keep its status.
run() {
  say "\\$ $*" | sed "s|$W/bin/||g; s|$W/|./|g"
  "$@" > "$W/cmd.out" 2>&1; rc=$?
  sed "s/^/    /; s|$W/|./|g" "$W/cmd.out"
  return $rc
}
pings() { # ns|-, address: three replies within 5 s
  if [ "$1" = - ]; then ping -n -q -c 3 -w 5 -i 0.2 "$2" > "$W/ping.out" 2>&1
  else ip netns exec "$1" ping -n -q -c 3 -w 5 -i 0.2 "$2" > "$W/ping.out" 2>&1; fi
  rc=$?; from=$1; [ "$from" = - ] && from=dom0; say "    ping $2 from $from: $(grep -o '[0-9]* received' "$W/ping.out" || echo 'no reply')"
  return $rc
}
fail() { say "@@fail $stage $*"; exit 1; }
# XENPLAN_LAB_FAIL_AT=N (xenplan lab --fail-at N) makes stage N fail, to show nothing is left behind.
injected() { [ "\${XENPLAN_LAB_FAIL_AT:-}" = "$stage" ] && fail "failure injected by --fail-at $stage"; return 0; }

stage=1; say "@@stage 1"; injected
for ns in swa swb gw g1 g2; do ip netns add $ns || fail "netns $ns"; done
ip link add eth0 type veth peer name dom0 netns swa || fail cabling
ip link add eth1 type veth peer name dom0 netns swb || fail cabling
ip -n swa link add trunk type veth peer name gwa netns gw && ip -n swb link add trunk type veth peer name gwb netns gw || fail cabling
for sw in swa swb; do
  ip -n $sw link add sw type bridge && ip -n $sw link set dom0 master sw && ip -n $sw link set trunk master sw &&
  ip -n $sw link set dom0 up && ip -n $sw link set trunk up && ip -n $sw link set sw up || fail "switch $sw"
done
ip -n gw link add lan type bridge && ip -n gw link set gwa master lan && ip -n gw link set gwb master lan &&
  ip -n gw link set gwa up && ip -n gw link set gwb up && ip -n gw link set lan up &&
  ip -n gw address add 192.0.2.1/24 dev lan || fail gateway
ip link set eth0 up && ip link set eth1 up && ip address add 192.0.2.11/24 dev eth0 &&
  ip route add default via 192.0.2.1 || fail "dom0 address"
pings - 192.0.2.1 || fail "dom0 cannot reach the gateway before xenplan"
run ip -br link || true
say "@@ok 1"

stage=2; say "@@stage 2"; injected
say "The admin's setup: ifcfg files (bond0 mode=0 of eth0+eth1 in xenbr0, netloop veth0), arp off on the ports, bridge netfilter off."
run "$W/bin/xenplan" doctor ifcfg="$W/ifcfg" ${SEED_EXTRA_KEYS.join(' ')} --config-only; rc=$?
[ $rc -eq 1 ] || fail "doctor should find errors in the original configuration (exit 1), got $rc"
grep -q BOND001 "$W/cmd.out" || fail "doctor did not flag balance-rr under the bridge (BOND001)"
say "The recommended setup: ${RECOMMENDED_KEYS.join(' ')}"
run "$W/bin/xenplan" doctor ${RECOMMENDED_KEYS.join(' ')} --config-only || fail "doctor found errors in the recommended configuration"
say "@@ok 2"

stage=3; say "@@stage 3"; injected
run "$W/bin/network-script" start ${RECOMMENDED_KEYS.join(' ')} --dry-run || fail "dry-run"
run "$W/bin/network-script" start ${RECOMMENDED_KEYS.join(' ')} || fail "start"
run "$W/bin/network-script" status ${RECOMMENDED_KEYS.join(' ')} || fail "status reports drift after start"
[ "$(cat /sys/class/net/bond0/bonding/mode)" = "active-backup 1" ] || fail "bond0 is not active-backup"
[ "$(cat /sys/class/net/bond0/master/uevent 2>/dev/null | grep -c INTERFACE=xenbr0)" = 1 ] || fail "bond0 is not in xenbr0"
ip -br address show dev xenbr0 | grep -q 192.0.2.11/24 || fail "dom0's address did not move to xenbr0"
pings - 192.0.2.1 || fail "dom0 cannot reach the gateway through the bond"
run "$W/bin/network-script" start ${RECOMMENDED_KEYS.join(' ')} --dry-run --json > /dev/null
grep -q '"steps": \\[\\]' "$W/cmd.out" || fail "a second start would still change something"
say "    a second start plans 0 steps"
say "@@ok 3"

stage=4; say "@@stage 4"; injected
"$W/bin/xenplan" xenstored --socket "$XENSTORED_PATH" > "$W/xenstored.out" 2>&1 &
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do grep -q ready "$W/xenstored.out" 2>/dev/null && break; sleep 0.5; done
grep -q ready "$W/xenstored.out" || fail "xenstore stand-in did not start"
for d in 1 2; do
  ip link add vif$d.0 type veth peer name eth0 netns g$d || fail "vif$d.0"
  ip -n g$d address add 192.0.2.2$d/24 dev eth0 && ip -n g$d link set eth0 up && ip -n g$d route add default via 192.0.2.1
  xenstore-write backend/vif/$d/0/bridge xenbr0 backend/vif/$d/0/mac 00:16:3e:00:00:0$d \\
    backend/vif/$d/0/frontend /local/domain/$d/device/vif/0 backend/vif/$d/0/script /etc/xen/scripts/vif-script || fail "xenstore"
  run env XENBUS_PATH=backend/vif/$d/0 XENBUS_TYPE=vif XENBUS_BASE_PATH=backend vif=vif$d.0 netdev= \\
    script=/etc/xen/scripts/vif-script "$W/bin/vif-script" online type_if=vif || fail "vif-script online for guest $d"
  say "    backend/vif/$d/0/hotplug-status = $(xenstore-read backend/vif/$d/0/hotplug-status)"
  [ "$(xenstore-read backend/vif/$d/0/hotplug-status)" = connected ] || fail "guest $d not connected"
done
pings g1 192.0.2.1 || fail "guest 1 cannot reach the gateway"
pings g2 192.0.2.1 || fail "guest 2 cannot reach the gateway"
say "@@ok 4"

stage=5; say "@@stage 5"; injected
say "    active slave before: $(cat /sys/class/net/bond0/bonding/active_slave)"
run ip -n swa link set dom0 down || fail "pulling eth0's switch port"
for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(cat /sys/class/net/bond0/bonding/active_slave)" = eth1 ] && break; sleep 0.3; done
say "    active slave after:  $(cat /sys/class/net/bond0/bonding/active_slave)"
[ "$(cat /sys/class/net/bond0/bonding/active_slave)" = eth1 ] || fail "bond0 did not fail over to eth1"
pings g1 192.0.2.1 || fail "guest 1 lost the gateway after failover"
pings g2 192.0.2.1 || fail "guest 2 lost the gateway after failover"
pings - 192.0.2.1 || fail "dom0 lost the gateway after failover"
say "@@ok 5"
${
  options.keep
    ? `say "@@keep"
# An interactive shell on the sandbox console; the host side connects the admin's terminal to it.
stty -echo < /dev/console 2> /dev/null
(cd / && PATH="$W/bin:$PATH" PS1='sandbox-dom0# ' sh -i < /dev/console > /dev/console 2>&1)
say "@@kept"`
    : ''
}

stage=6; say "@@stage 6"; injected
for d in 1 2; do
  run env XENBUS_PATH=backend/vif/$d/0 XENBUS_TYPE=vif XENBUS_BASE_PATH=backend vif=vif$d.0 netdev= \\
    script=/etc/xen/scripts/vif-script "$W/bin/vif-script" offline type_if=vif || fail "vif-script offline for guest $d"
done
run "$W/bin/network-script" stop ${RECOMMENDED_KEYS.join(' ')} || fail "stop"
[ -e /sys/class/net/bond0 ] && fail "bond0 still exists after stop"
[ -e /sys/class/net/xenbr0 ] && fail "xenbr0 still exists after stop"
ip -br address show dev eth0 | grep -q 192.0.2.11/24 || fail "eth0 did not get dom0's address back"
run ip -br address || true
say "@@ok 6"
say "@@done"
`;
}
