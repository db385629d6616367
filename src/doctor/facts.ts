import type { DoctorInput } from '../model/doctor.ts';
import type { Address, Link } from '../model/host.ts';
import { BOND_MODES } from '../model/network.ts';
import { type BondProc, parseBondProc } from './bond-proc.ts';

/**
 * Facts: the DoctorInput folded into one view the rules share. Per object, live facts win
 * when the host has the object; otherwise the configuration speaks.
 */
export type FactSource = 'observed' | 'desired';

export interface BondFacts {
  readonly name: string;
  /** Kernel mode name (observed link, else /proc/net/bonding, else desired). */
  readonly mode: string;
  /** Options by kernel name, values as given (desired merged under observed). */
  readonly options: Readonly<Record<string, string>>;
  /** undefined only when the config does not set miimon and the live bond is not known. */
  readonly miimon: number | undefined;
  readonly slaves: readonly string[];
  /** The bridge this bond is a port of. */
  readonly bridge: string | undefined;
  readonly source: FactSource;
  readonly proc: BondProc | undefined;
  /** The configured options (when the config has this bond), to compare with live ones. */
  readonly desiredOptions: Readonly<Record<string, string>> | undefined;
}

export interface BridgeFacts {
  readonly name: string;
  readonly stp: boolean;
  /** Centiseconds. */
  readonly forwardDelay: number;
  readonly helloTime: number | undefined;
  readonly maxAge: number | undefined;
  readonly ports: readonly string[];
  readonly source: FactSource;
  readonly nfCallIptables: number | undefined;
}

export interface Facts {
  readonly input: DoctorInput;
  readonly bonds: readonly BondFacts[];
  readonly bridges: readonly BridgeFacts[];
  /** Live links by name (empty without `observed`). */
  readonly links: ReadonlyMap<string, Link>;
  /** Devices with ARP off: live NOARP flags, then config-declared ones. */
  readonly noarp: readonly string[];
  /** The interface that carries dom0's addresses per the config: the bridge, or the netloop veth. */
  readonly ipDevice: string | undefined;
  /** Devices that carry an IPv4 address (live, or the config's IP device). */
  readonly ipv4Devices: ReadonlySet<string>;
  readonly topology: Readonly<Record<string, string>>;
}

export const KEY_NF_CALL_IPTABLES = 'net.bridge.bridge-nf-call-iptables';

/** Xen's guest interfaces: vifD.N, tapD.N (and the -emu of stubdom setups). */
const XEN_VIF = /^(vif|tap)\d+\.\d+(-emu)?$/;

export function isXenVif(name: string): boolean {
  return XEN_VIF.test(name);
}

/** `0`…`6` or a mode name in any case → the kernel mode name (unknown text stays as is). */
export function normalizeMode(mode: string): string {
  const text = mode.trim().toLowerCase().split(/\s+/)[0] ?? '';
  if (/^[0-6]$/.test(text)) return BOND_MODES[Number(text)] ?? text;
  return text;
}

/** The first word of an option value (sysfs prints `layer2 0`, ip prints `layer2`), lower case. */
export function optionWord(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const word = value.trim().split(/\s+/)[0] ?? '';
  return word === '' ? undefined : word.toLowerCase();
}

/** An option as a whole number (absent or not a number → undefined). */
export function optionNumber(options: Readonly<Record<string, string>>, key: string): number | undefined {
  const word = optionWord(options[key]);
  if (word === undefined || !/^[0-9]+$/.test(word)) return undefined;
  return Number(word);
}

export function collectFacts(input: DoctorInput): Facts {
  const observed = input.observed;
  const desired = input.desired;
  const links = new Map<string, Link>((observed?.links ?? []).map((l) => [l.name, l]));

  const bonds: BondFacts[] = [];
  const bondNames = [
    ...(observed?.links ?? []).filter((l) => l.bond !== undefined).map((l) => l.name),
    ...(desired?.bond ? [desired.bond.name] : []),
  ];
  for (const name of unique(bondNames)) bonds.push(collectBond(input, name, links));

  const bridges: BridgeFacts[] = [];
  const bridgeNames = [
    ...(observed?.links ?? []).filter((l) => l.bridge !== undefined).map((l) => l.name),
    ...(desired ? [desired.bridge.name] : []),
  ];
  for (const name of unique(bridgeNames)) bridges.push(collectBridge(input, name, links));

  const ipDevice = desired
    ? desired.dom0.kind === 'netloop'
      ? desired.dom0.veth
      : desired.bridge.name
    : undefined;
  const ipv4Devices = new Set<string>(
    (observed?.addresses ?? []).filter((a) => isUsableIpv4(a)).map((a) => a.dev),
  );
  if (ipDevice !== undefined && desired) {
    const explicit = desired.addresses;
    if (explicit === undefined || explicit.some((cidr) => !cidr.includes(':'))) ipv4Devices.add(ipDevice);
  }

  const noarp = unique([
    ...(observed?.links ?? []).filter((l) => l.noarp && isEthernetLike(l)).map((l) => l.name),
    ...(input.noarp ?? []),
  ]);

  return {
    input,
    bonds,
    bridges,
    links,
    noarp,
    ipDevice,
    ipv4Devices,
    topology: desired?.topology ?? {},
  };
}

function collectBond(input: DoctorInput, name: string, links: ReadonlyMap<string, Link>): BondFacts {
  const live = links.get(name);
  const config = input.desired?.bond?.name === name ? input.desired.bond : undefined;
  const procText = input.bondProc?.[name];
  const proc = procText === undefined ? undefined : parseBondProc(procText);
  const liveBond = live?.bond;

  const mode = normalizeMode(liveBond?.mode ?? proc?.mode ?? config?.mode ?? 'balance-rr');
  const options: Record<string, string> = { ...(config?.options ?? {}), ...(liveBond?.options ?? {}) };
  if (liveBond) options.miimon = String(liveBond.miimon);
  delete options.mode;
  const miimon = liveBond ? liveBond.miimon : optionNumber(options, 'miimon');

  const liveSlaves = [...links.values()].filter((l) => l.master === name).map((l) => l.name);
  const slaves = liveSlaves.length > 0 ? liveSlaves : [...(config?.slaves ?? [])];

  const liveMaster = live?.master;
  const configBridge = input.desired && input.desired.uplink === name ? input.desired.bridge.name : undefined;
  const bridge = liveMaster !== undefined && links.get(liveMaster)?.bridge ? liveMaster : configBridge;

  return {
    name,
    mode,
    options,
    miimon,
    slaves,
    bridge,
    source: liveBond ? 'observed' : 'desired',
    proc,
    desiredOptions: config?.options,
  };
}

function collectBridge(input: DoctorInput, name: string, links: ReadonlyMap<string, Link>): BridgeFacts {
  const live = links.get(name)?.bridge;
  const desired = input.desired;
  const config = desired?.bridge.name === name ? desired.bridge : undefined;
  const livePorts = [...links.values()].filter((l) => l.master === name).map((l) => l.name);
  const configPorts =
    config && desired ? [desired.uplink, ...(desired.dom0.kind === 'netloop' ? [desired.dom0.vif] : [])] : [];
  if (live) {
    return {
      name,
      stp: live.stp,
      forwardDelay: live.forwardDelay,
      helloTime: live.helloTime,
      maxAge: live.maxAge,
      ports: livePorts.length > 0 ? livePorts : configPorts,
      source: 'observed',
      nfCallIptables: live.nfCallIptables,
    };
  }
  return {
    name,
    stp: config?.stp ?? false,
    forwardDelay: config?.forwardDelay ?? 0,
    helloTime: config?.helloTime,
    maxAge: config?.maxAge,
    ports: configPorts,
    source: 'desired',
    nfCallIptables: undefined,
  };
}

const ETHER_MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/**
 * A device that speaks ARP when allowed: has an Ethernet MAC and is not loopback (tun and
 * wireguard have no address, ip tunnels an IP address as theirs; all are NOARP by nature).
 */
function isEthernetLike(link: Link): boolean {
  return link.mac !== undefined && ETHER_MAC.test(link.mac) && link.name !== 'lo';
}

function isUsableIpv4(a: Address): boolean {
  return a.family === 'inet' && a.scope !== 'host' && !a.local.startsWith('127.');
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

/** Bridge ports, bond slaves and bonds: pure L2 devices that should carry no IP. */
export function l2Devices(facts: Facts): Set<string> {
  const out = new Set<string>();
  for (const bond of facts.bonds) {
    out.add(bond.name);
    for (const s of bond.slaves) out.add(s);
  }
  for (const bridge of facts.bridges) for (const p of bridge.ports) out.add(p);
  return out;
}

/**
 * Whether a device is a bridge port: a known port, or a Xen vif that is not live (Xen will
 * put it in the bridge) while some bridge exists. A live vif outside any bridge (vif-route)
 * is not a port.
 */
export function isBridgePort(facts: Facts, name: string): boolean {
  if (facts.bridges.some((b) => b.ports.includes(name))) return true;
  if (facts.links.has(name)) return false;
  return facts.bridges.length > 0 && isXenVif(name);
}

/** The bridge a device is a port of, if any. */
export function bridgeOf(facts: Facts, name: string): BridgeFacts | undefined {
  return facts.bridges.find((b) => b.ports.includes(name));
}

/** The partner system MACs a bond's slaves report, without the all-zero "no partner" MAC. */
export function partnerMacs(bond: BondFacts): string[] {
  const macs = (bond.proc?.slaves ?? [])
    .map((s) => s.partnerMac)
    .filter((m): m is string => m !== undefined && m !== '00:00:00:00:00:00');
  return unique(macs);
}

/**
 * Whether a bond's slaves end on independent switches: declared (`switches=separate`), or
 * seen as different 802.3ad partner system MACs.
 */
export function hasSeparateSwitches(facts: Facts, bond: BondFacts): boolean {
  return facts.topology.switches === 'separate' || partnerMacs(bond).length > 1;
}

/** The effective bridge-nf-call-iptables value and whether br_netfilter is loaded, with where each came from. */
export interface BridgeNfFacts {
  /** 0 or 1, or undefined when unknown or the sysctl does not exist. */
  readonly callIptables: number | undefined;
  readonly from: string;
  /** false = module known absent; undefined = unknown. */
  readonly loaded: boolean | undefined;
}

export function collectBridgeNf(facts: Facts): BridgeNfFacts {
  const { observed, desired, sysctlsDeclared, brNetfilterLoaded } = facts.input;
  let callIptables: number | undefined;
  let from = 'unknown';
  let loaded = brNetfilterLoaded;
  if (observed) {
    const live = observed.sysctls[KEY_NF_CALL_IPTABLES];
    if (live !== undefined) {
      callIptables = Number(live.trim());
      from = `live ${KEY_NF_CALL_IPTABLES}=${live.trim()}`;
      loaded ??= true;
    } else {
      loaded ??= false;
    }
  }
  // What the setup declares counts as much as what the host shows when the host cannot say
  // (config-only, or br_netfilter not loaded yet: sysctl.conf applies it at boot).
  if (callIptables !== undefined) {
    // the live value wins
  } else if (desired && desired.bridgeNf !== 'keep') {
    callIptables = desired.bridgeNf === 'on' ? 1 : 0;
    from = `config bridge-nf=${desired.bridgeNf}`;
  } else if (sysctlsDeclared?.[KEY_NF_CALL_IPTABLES] !== undefined) {
    const value = sysctlsDeclared[KEY_NF_CALL_IPTABLES].trim();
    callIptables = Number(value);
    from = `declared ${KEY_NF_CALL_IPTABLES}=${value}`;
  }
  // A bridge's own nf_call_iptables option turns the hook on for that bridge whatever the sysctl says.
  if (facts.bridges.some((b) => b.nfCallIptables === 1) && callIptables !== 1) {
    callIptables = 1;
    from = 'bridge option nf_call_iptables 1';
  }
  return { callIptables, from, loaded };
}
