import type { DhcpClient, DoctorInput } from '../model/doctor.ts';
import type { HostState } from '../model/host.ts';
import type { FileReader, Runner } from '../model/ports.ts';
import type { PortVlan } from '../model/vlan.ts';
import { parseVlansByPort } from './port-vlan.ts';

/**
 * The live facts `xenplan doctor` reviews beyond HostState: /proc/net/bonding, the FORWARD
 * chain, whether bridge netfilter exists, and kernel log lines about looped frames. Every
 * source is optional: a missing tool or an unreadable file leaves its part out, it never
 * fails the review.
 */
export type LiveDoctorFacts = Pick<
  DoctorInput,
  'bondProc' | 'firewall' | 'brNetfilterLoaded' | 'kernelLog' | 'dhcpClients' | 'bridgeVlans'
>;

export type FirewallFacts = NonNullable<DoctorInput['firewall']>;

const BONDING_DIR = '/proc/net/bonding';

/**
 * Gathers the live facts for doctor; `host` is the already observed HostState (its links
 * filter the kernel log); kernel log lines stamped at or before `quietUntil` (seconds since
 * boot: the end of network-script start's bring-up) are left out.
 */
export async function observeDoctorFacts(
  runner: Runner,
  files: FileReader,
  host: HostState,
  quietUntil?: number,
): Promise<LiveDoctorFacts> {
  const facts: {
    bondProc?: Record<string, string>;
    firewall?: FirewallFacts;
    brNetfilterLoaded: boolean;
    kernelLog?: string[];
    dhcpClients?: DhcpClient[];
    bridgeVlans?: Record<string, PortVlan[]>;
  } = { brNetfilterLoaded: isBrNetfilterLoaded(files) };

  const dhcpClients = readDhcpClients(files, host);
  if (dhcpClients.length > 0) facts.dhcpClients = dhcpClients;

  const bondProc = readBondProc(files);
  if (bondProc !== undefined) facts.bondProc = bondProc;

  const iptables = await runner.run(['iptables', '-w', '-S', 'FORWARD']);
  if (iptables.exitCode === 0) facts.firewall = parseIptablesForward(iptables.stdout);

  const dmesg = await runner.run(['dmesg']);
  if (dmesg.exitCode === 0)
    facts.kernelLog = parseKernelLog(dmesg.stdout, new Set(host.links.map((l) => l.name)), quietUntil);

  // Port VLANs matter only on a VLAN-aware bridge; without one, no process is spent on them.
  if (host.links.some((l) => l.bridge?.vlanFiltering === true)) {
    const vlans = await runner.run(['bridge', '-j', 'vlan', 'show']);
    if (vlans.exitCode === 0) facts.bridgeVlans = Object.fromEntries(parseVlansByPort(vlans.stdout));
  }

  return facts;
}

/** Contents of every /proc/net/bonding/<bond> (per network namespace), or undefined when there is none. */
export function readBondProc(files: FileReader): Record<string, string> | undefined {
  const names = files.list(BONDING_DIR);
  if (names === undefined || names.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const name of [...names].sort()) {
    const text = files.read(`${BONDING_DIR}/${name}`);
    if (text !== undefined) out[name] = text;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * Whether bridge netfilter exists: br_netfilter loaded as a module (/sys/module/br_netfilter),
 * or built in (CONFIG_BRIDGE_NETFILTER=y has no /sys/module entry, but its sysctls exist).
 */
export function isBrNetfilterLoaded(files: FileReader): boolean {
  return (
    files.exists('/sys/module/br_netfilter') || files.exists('/proc/sys/net/bridge/bridge-nf-call-iptables')
  );
}

/** Options that only name interfaces (physdev's, -i, -o): a rule with nothing else matches all bridged traffic of them. */
const PORT_ONLY = new Set([
  '-i',
  '--in-interface',
  '-o',
  '--out-interface',
  '--physdev-in',
  '--physdev-out',
  '--physdev-is-bridged',
  '--physdev-is-in',
  '--physdev-is-out',
]);

/**
 * Reads `iptables -S FORWARD`: the chain policy, the rules that use `-m physdev` (as printed),
 * and whether some rule accepts bridged traffic: a physdev ACCEPT (Xen's per-vif antispoof
 * ACCEPTs included; not `! --physdev-is-bridged`), or an ACCEPT that matches on nothing but
 * interfaces. Jumps to other chains are not followed.
 */
export function parseIptablesForward(text: string): FirewallFacts {
  let forwardPolicy: string | undefined;
  const physdevRules: string[] = [];
  let acceptsBridged = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const words = line.split(/\s+/);
    if (words[0] === '-P' && words[1] === 'FORWARD' && words[2] !== undefined) {
      forwardPolicy = words[2];
      continue;
    }
    if (words[0] !== '-A' || words[1] !== 'FORWARD') continue;
    const physdev = hasPair(words, '-m', 'physdev');
    if (physdev) physdevRules.push(line);
    if (!hasPair(words, '-j', 'ACCEPT')) continue;
    const skipsBridged = words.some((w, i) => w === '!' && words[i + 1] === '--physdev-is-bridged');
    if ((physdev && !skipsBridged) || matchesOnlyInterfaces(words.slice(2))) acceptsBridged = true;
  }
  return { ...(forwardPolicy === undefined ? {} : { forwardPolicy }), physdevRules, acceptsBridged };
}

function hasPair(words: readonly string[], option: string, value: string): boolean {
  return words.some((w, i) => w === option && words[i + 1] === value);
}

/** The rule's words (after `-A FORWARD`) hold only interface matches and `-j ACCEPT`. */
function matchesOnlyInterfaces(words: readonly string[]): boolean {
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word === '-j') {
      i += 1;
    } else if (word === '-m' && words[i + 1] === 'physdev') {
      i += 1;
    } else if (PORT_ONLY.has(word)) {
      if (!word.startsWith('--physdev-is')) i += 1;
    } else {
      return false;
    }
  }
  return true;
}

const OWN_ADDRESS = /received packet on (\S+?):? with own address as source address/;

/**
 * The kernel log lines saying a frame came back with the host's own source MAC, without the
 * `[ seconds]` prefix, each once. The kernel log is the machine's, not the namespace's: with
 * `devices` given, only lines about those devices are kept. With `quietUntil`, lines stamped
 * at or before it are left out (a line without a stamp, printk.time=0, is kept).
 */
export function parseKernelLog(text: string, devices?: ReadonlySet<string>, quietUntil?: number): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const match = OWN_ADDRESS.exec(raw);
    if (match === null) continue;
    if (devices !== undefined && !devices.has(match[1] ?? '')) continue;
    const stamp = /^\[\s*([0-9]+(?:\.[0-9]+)?)\]/.exec(raw)?.[1];
    if (quietUntil !== undefined && stamp !== undefined && Number(stamp) <= quietUntil) continue;
    const line = raw.replace(/^\[\s*[0-9.]+\]\s*/, '').trim();
    if (!out.includes(line)) out.push(line);
  }
  return out;
}

/** Programs that lease addresses for an interface named on their command line. */
const DHCP_CLIENTS = new Set(['dhclient', 'dhcpcd', 'dhcpcd5', 'udhcpc', 'pump', 'dhcpcd-bin']);

/**
 * DHCP clients in this network namespace (same /proc/PID/ns/net as ours), with the host's
 * interfaces their command line names (`eth0`, `-i eth0`, `--interface=eth0`). From /proc, no
 * process; a process that ends meanwhile is skipped.
 */
export function readDhcpClients(files: FileReader, host: HostState): DhcpClient[] {
  const ours = files.readlink('/proc/self/ns/net');
  const names = new Set(host.links.map((l) => l.name));
  const out: DhcpClient[] = [];
  for (const entry of files.list('/proc') ?? []) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const words = (files.read(`/proc/${entry}/cmdline`) ?? '').split('\0').filter((w) => w !== '');
    const command = (words[0] ?? '').split('/').pop() ?? '';
    if (!DHCP_CLIENTS.has(command)) continue;
    if (ours !== undefined && files.readlink(`/proc/${entry}/ns/net`) !== ours) continue;
    const interfaces = [
      ...new Set(
        words
          .slice(1)
          .map((w) => w.replace(/^--?(interface|i)=/, ''))
          .filter((w) => names.has(w)),
      ),
    ];
    if (interfaces.length > 0) out.push({ pid: Number(entry), command, interfaces });
  }
  return out.sort((a, b) => a.pid - b.pid);
}
