import type { Family, Route } from './host.ts';

/**
 * What `network-script start` changed, kept in a state file so `stop` undoes exactly that:
 * devices it created are deleted, devices it enslaved are released (and brought back up when
 * they were up), addresses and routes go back to where they were, sysctls get their values back.
 */
export interface StartRecord {
  readonly version: 1;
  readonly bridge: string;
  /** Devices start created, in creation order (stop deletes them in reverse). */
  readonly created: readonly string[];
  /** Devices start put into a master: the master, the one they had before, whether they were up. */
  readonly enslaved: readonly EnslavedDevice[];
  readonly addresses: readonly MovedAddress[];
  readonly routes: readonly MovedRoute[];
  readonly sysctls: readonly SysctlChange[];
  /**
   * Settings start changed on devices it did not create, with the value each had before (the
   * oldest, when several starts changed it). State files written before this field existed
   * have none: readRecord fills in an empty list.
   */
  readonly settings: readonly SettingChange[];
  /**
   * The settings words start ran with (config=, ifcfg= and key=value words): stop and status
   * with no words use them. Missing in files written before it was recorded.
   */
  readonly words?: readonly string[];
  /**
   * Seconds since boot (the kernel log's clock) by which start's bring-up had settled: frames
   * looping while a bond picks its active slave are start's own, not a fault, and doctor
   * leaves kernel log lines older than this out. Missing in files written before it was.
   */
  readonly settledAt?: number;
}

export interface EnslavedDevice {
  readonly dev: string;
  readonly master: string;
  readonly before?: string;
  readonly up: boolean;
}

/** One address start put on dom0's holder: where it came from (undefined: given by address=). */
export interface MovedAddress {
  readonly from: string | undefined;
  readonly to: string;
  /** `192.0.2.10/24`. */
  readonly cidr: string;
  readonly family: Family;
  readonly broadcast?: string;
}

/** A route start re-created on dom0's holder, as it was before. */
export interface MovedRoute {
  readonly to: string;
  readonly route: Route;
}

/** A sysctl start changed, and the value it had before. */
export interface SysctlChange {
  readonly key: string;
  readonly before: string;
}

/** A setting start changed on a device it did not create, and the value observed before. */
export type SettingChange = OptionChange | LinkSettingChange;

/**
 * A bond option by its sysfs name (`mode`, `miimon`, `fail_over_mac`, …) or a bridge option by
 * ip's name (`stp_state`, `forward_delay`, `hello_time`, `max_age`), in the kernel's text and
 * units (`balance-rr`, centiseconds).
 */
export interface OptionChange {
  readonly dev: string;
  readonly kind: 'bond-option' | 'bridge-option';
  readonly name: string;
  readonly before: string;
}

/** The device's MTU (`1500`), MAC (`52:54:00:12:34:56`) or ARP (`on`/`off`). */
export interface LinkSettingChange {
  readonly dev: string;
  readonly kind: 'mtu' | 'mac' | 'arp';
  readonly before: string;
}
