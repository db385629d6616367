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
