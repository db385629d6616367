/**
 * The Xen VM for kernel tests (src/lab/vm): one boot per test file, shared by its cases.
 * On a developer's machine without root or QEMU the file skips with the reason; in CI
 * (CI=true) that is a failure, never a skip.
 */
import { execFileSync } from 'node:child_process';
import { XenVm } from '../../src/lab/vm/vm.ts';

export { XenVm } from '../../src/lab/vm/vm.ts';

export function vmProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: the Xen VM needs root (taps, namespaces)';
  try {
    execFileSync(
      'sh',
      ['-c', 'command -v qemu-system-x86_64 && command -v apt-get && command -v depmod && command -v xz'],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    return 'qemu-system-x86_64, apt-get, depmod (kmod) or xz is missing (npm test installs them as root)';
  }
  return undefined;
}

/** Whether this file can boot the VM; throws in CI when it cannot. */
export function requireVm(what: string): boolean {
  const problem = vmProblem();
  if (problem === undefined) return true;
  if (process.env.CI) throw new Error(`CI needs the Xen VM for ${what}: ${problem}`);
  console.warn(`skipping ${what}: ${problem}`);
  return false;
}

/** Boots the VM, saying how long it took (TCG is slow; the number helps read a slow run). */
export async function bootVm(what: string): Promise<XenVm> {
  const vm = await XenVm.boot({ say: (line) => console.info(`[${what}] ${line}`) });
  return vm;
}

/** Splits output printed as `@@name` header lines followed by content into a name → text map. */
export function parseSections(output: string): Map<string, string> {
  const sections = new Map<string, string>();
  let name: string | undefined;
  let lines: string[] = [];
  const flush = () => {
    if (name !== undefined) sections.set(name, lines.join('\n').trim());
  };
  for (const line of output.split('\n')) {
    const header = /^@@([\w.-]+)$/.exec(line);
    if (header) {
      flush();
      name = header[1];
      lines = [];
    } else {
      lines.push(line);
    }
  }
  flush();
  return sections;
}

/** Shell helpers every scenario starts with: `section NAME`, `run CMD` (prints rc=N). */
export const SCENARIO_PRELUDE = `
section() { echo "@@$1"; }
run() { "$@"; echo "rc=$?"; }
ping_gw() {
  i=0
  while [ $i -lt 10 ]; do
    if ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1; then echo ok; return 0; fi
    i=$((i + 1))
  done
  echo fail
}
`;

/**
 * Shell helpers for jobs with xl guests (the @@ lines of src/lab/vm/guest.ts on their consoles):
 * `console_of NAME`; `wait_guest NAME [SECONDS]` (its @@guest up line, default 90 s);
 * `pings_ok NAME TARGET COUNT [KIND]`: COUNT good answers in a row (KIND ping or spoof);
 * `isolated NAME TARGET COUNT [KIND]`: COUNT answers, none of them good.
 */
export const GUEST_HELPERS = `
section() { echo "@@$1"; }
console_of() { tr -d '\\r' < "/var/log/xen/console/guest-$1.log" 2>/dev/null; }
wait_guest() {
  xl domid "$1" > /dev/null 2>&1 || { echo "no domain $1"; return 1; }
  i=0
  while [ $i -lt "\${2:-90}" ]; do
    console_of "$1" | grep -q '^@@guest up' && { console_of "$1" | grep '^@@guest up'; return 0; }
    sleep 1; i=$((i + 1))
  done
  echo "no @@guest up from $1; xl list: $(xl list | awk 'NR > 1 { printf "%s(%s) ", $1, $5 }'); console: $(console_of "$1" | tail -5 | tr '\n' '|')"
  return 1
}
pings_ok() { # guest target count [kind]
  i=0
  while [ $i -lt 60 ]; do
    n=$(console_of "$1" | awk -v t="$2" -v k="@@\${4:-ping}" '$1 == k && $2 == t { if ($3 == "ok") n++; else n = 0 } END { print n + 0 }')
    [ "$n" -ge "$3" ] && { echo ok; return 0; }
    sleep 1; i=$((i + 1))
  done
  echo "fail: $(console_of "$1" | grep "^@@\${4:-ping} $2 " | tail -1)"
  return 1
}
isolated() { # guest target count [kind]
  i=0
  while [ $i -lt 90 ]; do
    c=$(console_of "$1" | awk -v t="$2" -v k="@@\${4:-ping}" '$1 == k && $2 == t { n++; if ($3 == "ok") good++ } END { print n + 0, good + 0 }')
    [ "\${c% *}" -ge "$3" ] && { [ "\${c#* }" = 0 ] && echo isolated || echo "reached: \${c#* } of \${c% *}"; return 0; }
    sleep 1; i=$((i + 1))
  done
  echo "only $c answers"
  return 1
}
`;

/**
 * A VLAN 100 and a VLAN 200 "gateway" behind dom0's eth2 (its own switch), each an 802.1Q
 * device of eth2 in a namespace of its own (needs 8021q loaded). Each also holds an address
 * of the other VLAN's subnet, so a frame leaking into the wrong VLAN gets an answer:
 * isolation is a ping that fails.
 *   gw100: 198.51.100.1/24 (its own), 203.0.113.2/24 (bait for VLAN 200 traffic)
 *   gw200: 203.0.113.1/24 (its own), 198.51.100.2/24 (bait for VLAN 100 traffic)
 */
export const VLAN_GATEWAYS = `ip link set eth2 up
for v in 100 200; do
  ip netns add gw$v
  ip link add link eth2 name eth2.$v type vlan id $v
  ip link set eth2.$v netns gw$v
  ip -n gw$v link set lo up
  ip -n gw$v link set eth2.$v up
done
ip -n gw100 address add 198.51.100.1/24 dev eth2.100
ip -n gw100 address add 203.0.113.2/24 dev eth2.100
ip -n gw200 address add 203.0.113.1/24 dev eth2.200
ip -n gw200 address add 198.51.100.2/24 dev eth2.200
`;
