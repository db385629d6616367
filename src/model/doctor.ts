import type { HostState } from './host.ts';
import type { NetworkDesired } from './network.ts';
import type { PortVlan } from './vlan.ts';

/**
 * Everything `xenplan doctor` reviews, gathered by the caller (cli) beforehand: doctor itself
 * reads nothing. Every part is optional, so a config-only review (no `observed`) and a
 * live-only review (no `desired`) both work; rules prefer live facts when they have them.
 */
export interface DoctorInput {
  /** What the admin configured (absent for a live-only review). */
  readonly desired?: NetworkDesired;
  /** The live host (absent with --config-only). */
  readonly observed?: HostState;
  /** Contents of /proc/net/bonding/<bond>, by bond name (802.3ad aggregator and partner info). */
  readonly bondProc?: Readonly<Record<string, string>>;
  /** From `iptables -S FORWARD`. */
  readonly firewall?: {
    readonly forwardPolicy?: string;
    /** The FORWARD rules that use `-m physdev` (as `iptables -S` prints them). */
    readonly physdevRules: readonly string[];
    /** Whether some rule accepts bridged traffic (`--physdev-is-bridged -j ACCEPT` or per-vif ACCEPTs). */
    readonly acceptsBridged: boolean;
  };
  /** Whether /sys/module/br_netfilter exists. */
  readonly brNetfilterLoaded?: boolean;
  /** Kernel log lines (only "received packet on X with own address as source address" matter). */
  readonly kernelLog?: readonly string[];
  /** Devices the config declares `arp off` on (the admin's post sets them by hand). */
  readonly noarp?: readonly string[];
  /** Sysctls the setup declares (sysctl.conf), e.g. `net.bridge.bridge-nf-call-iptables` = `0`. */
  readonly sysctlsDeclared?: Readonly<Record<string, string>>;
  /** DHCP clients running in dom0's network namespace, and the interfaces named on their command lines. */
  readonly dhcpClients?: readonly DhcpClient[];
  /** ifcfg lines read but not used, with why (IFCFG001). */
  readonly ignored?: readonly IgnoredSetting[];
  /**
   * Every bridge port's VLANs (`bridge -j vlan show`; a bridge's own entry is its `self` VLANs),
   * by port name; read only when some bridge filters VLANs.
   */
  readonly bridgeVlans?: Readonly<Record<string, readonly PortVlan[]>>;
  /** vif name → its xenstore `ip` key, when known. */
  readonly vifIps?: Readonly<Record<string, string>>;
}

/** A running DHCP client (dhclient, dhcpcd, udhcpc, …): its pid, program and interfaces. */
export interface DhcpClient {
  readonly pid: number;
  readonly command: string;
  readonly interfaces: readonly string[];
}

/** A line of the admin's configuration that xenplan reads but does not use, and why. */
export interface IgnoredSetting {
  /** `file:line`. */
  readonly where: string;
  readonly device: string;
  readonly key: string;
  readonly value: string;
  /** Why it is not used: what it did (or did not do) before, and what to write instead. */
  readonly reason: string;
}
