/**
 * Fluent builder of DoctorInput for doctor tests:
 *   host().bond('bond0', { mode: 'balance-rr', miimon: 100 }).slave('eth0', 'bond0')
 *     .bridge('xenbr0').port('bond0', 'xenbr0').input()
 */

import { collectFacts } from '../../../src/doctor/facts.ts';
import { findRule } from '../../../src/doctor/rules.ts';
import type { DoctorInput } from '../../../src/model/doctor.ts';
import type { Finding } from '../../../src/model/finding.ts';
import type { Address, BridgeState, HostState, Link, Route } from '../../../src/model/host.ts';
import type { NetworkDesired } from '../../../src/model/network.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const XEN_VIF = /^(vif|tap)\d+\.\d+/;

export interface BondSpec {
  mode: string;
  miimon?: number;
  options?: Record<string, string>;
  activeSlave?: string;
}

export class HostBuilder {
  private readonly links: Mutable<Link>[] = [];
  private readonly addresses: Address[] = [];
  private readonly routes: Route[] = [];
  private readonly sysctls: Record<string, string> = {};
  private extra: Partial<Mutable<DoctorInput>> = {};

  /** Adds a link (a plain NIC unless fields say otherwise) or updates an existing one. */
  link(name: string, fields: Partial<Link> = {}): this {
    const existing = this.links.find((l) => l.name === name);
    if (existing) {
      Object.assign(existing, fields);
      return this;
    }
    const index = this.links.length + 2;
    this.links.push({
      name,
      ifindex: index,
      kind: undefined,
      master: undefined,
      mtu: 1500,
      mac: XEN_VIF.test(name) ? 'fe:ff:ff:ff:ff:ff' : `02:00:00:00:00:${index.toString(16).padStart(2, '0')}`,
      up: true,
      carrier: true,
      noarp: false,
      operstate: 'UP',
      ...fields,
    });
    return this;
  }

  bond(name: string, spec: BondSpec, fields: Partial<Link> = {}): this {
    return this.link(name, {
      kind: 'bond',
      bond: {
        mode: spec.mode,
        miimon: spec.miimon ?? 0,
        options: { mode: spec.mode, miimon: String(spec.miimon ?? 0), ...spec.options },
        activeSlave: spec.activeSlave,
      },
      ...fields,
    });
  }

  /** A NIC enslaved to bond. */
  slave(name: string, bond: string, fields: Partial<Link> = {}): this {
    return this.link(name, { master: bond, ...fields });
  }

  bridge(name: string, state: Partial<BridgeState> = {}, fields: Partial<Link> = {}): this {
    return this.link(name, {
      kind: 'bridge',
      bridge: { stp: false, forwardDelay: 0, helloTime: 200, maxAge: 2000, ...state },
      ...fields,
    });
  }

  /** Makes name (created as a vif/NIC when new) a port of bridge. */
  port(name: string, bridge: string, fields: Partial<Link> = {}): this {
    return this.link(name, { master: bridge, ...fields });
  }

  veth(name: string, peer: string, fields: Partial<Link> = {}): this {
    return this.link(name, { kind: 'veth', peer, ...fields });
  }

  noarp(...names: string[]): this {
    for (const name of names) this.link(name, { noarp: true });
    return this;
  }

  mtu(name: string, mtu: number): this {
    return this.link(name, { mtu });
  }

  mac(name: string, mac: string, pinned?: boolean): this {
    return this.link(name, pinned === undefined ? { mac } : { mac, macPinned: pinned });
  }

  addr(dev: string, cidr: string, scope = 'global'): this {
    const [local = '', prefix = '32'] = cidr.split('/');
    this.addresses.push({
      dev,
      family: local.includes(':') ? 'inet6' : 'inet',
      local,
      prefixlen: Number(prefix),
      scope,
    });
    return this;
  }

  route(dst: string, dev: string, fields: Partial<Route> = {}): this {
    this.routes.push({ dst, family: dst.includes(':') ? 'inet6' : 'inet', dev, ...fields });
    return this;
  }

  sysctl(key: string, value: string): this {
    this.sysctls[key] = value;
    return this;
  }

  desired(desired: NetworkDesired): this {
    this.extra.desired = desired;
    return this;
  }

  /** Other DoctorInput parts (bondProc, firewall, kernelLog, noarp, sysctlsDeclared, vifIps, …). */
  with(extra: Partial<DoctorInput>): this {
    this.extra = { ...this.extra, ...extra };
    return this;
  }

  state(): HostState {
    return {
      links: this.links.map((l) => ({ ...l })),
      addresses: [...this.addresses],
      routes: [...this.routes],
      sysctls: { ...this.sysctls },
    };
  }

  /** The input with the live host. */
  input(): DoctorInput {
    return { ...this.extra, observed: this.state() };
  }

  /** The input without the live host (--config-only). */
  configOnly(): DoctorInput {
    return { ...this.extra };
  }
}

export function host(): HostBuilder {
  return new HostBuilder();
}

/** A sane NetworkDesired (bond0 of eth0+eth1 active-backup in xenbr0), with overrides. */
export function network(overrides: Partial<NetworkDesired> = {}): NetworkDesired {
  return {
    bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 },
    uplink: 'bond0',
    bond: {
      name: 'bond0',
      slaves: ['eth0', 'eth1'],
      mode: 'active-backup',
      options: { miimon: '100', primary: 'eth0' },
    },
    dom0: { kind: 'bridge' },
    bridgeNf: 'keep',
    strict: false,
    ...overrides,
  };
}

/** The desired bond with its mode and options replaced. */
export function withBond(mode: string, options: Record<string, string>, rest: Partial<NetworkDesired> = {}) {
  return network({ bond: { name: 'bond0', slaves: ['eth0', 'eth1'], mode, options }, ...rest });
}

/** Runs one rule over input. */
export function run(id: string, input: DoctorInput): Finding[] {
  const rule = findRule(id);
  if (rule === undefined) throw new Error(`no rule ${id}`);
  return rule.check(collectFacts(input));
}

/** The usual live layout: bond0 (mode, miimon 100) of eth0+eth1 in xenbr0. */
export function bridgedBond(mode: string, options: Record<string, string> = {}, miimon = 100): HostBuilder {
  return host()
    .bond('bond0', { mode, miimon, options })
    .slave('eth0', 'bond0')
    .slave('eth1', 'bond0')
    .bridge('xenbr0')
    .port('bond0', 'xenbr0');
}
