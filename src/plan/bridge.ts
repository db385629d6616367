import { XenplanError } from '../model/error.ts';
import { findLink, type HostState, type Link } from '../model/host.ts';
import type { BridgeDesired } from '../model/network.ts';
import type { Step } from '../model/plan.ts';
import type { OptionChange, SettingChange } from '../model/record.ts';
import { ip } from './command.ts';
import { makeStep } from './step.ts';

/** `centiseconds` rendered as seconds for reasons. */
function seconds(cs: number): string {
  return `${cs / 100}s`;
}

/** The bridge options ip takes, for those the admin asked for. */
interface BridgeOption {
  /** ip's name for it. */
  readonly key: string;
  readonly value: string;
  /** How a reason says it: `forward delay 0s`. */
  readonly text: string;
}

function wantedOptions(want: BridgeDesired): BridgeOption[] {
  const options: BridgeOption[] = [
    { key: 'stp_state', value: want.stp ? '1' : '0', text: `stp ${want.stp ? 'on' : 'off'}` },
    {
      key: 'forward_delay',
      value: String(want.forwardDelay),
      text: `forward delay ${seconds(want.forwardDelay)}`,
    },
  ];
  if (want.helloTime !== undefined)
    options.push({
      key: 'hello_time',
      value: String(want.helloTime),
      text: `hello time ${seconds(want.helloTime)}`,
    });
  if (want.maxAge !== undefined)
    options.push({ key: 'max_age', value: String(want.maxAge), text: `max age ${seconds(want.maxAge)}` });
  return options;
}

const ipWords = (options: readonly BridgeOption[]) => options.flatMap((o) => [o.key, o.value]);

function observedOption(link: Link, key: string): string | undefined {
  const b = link.bridge;
  if (!b) return undefined;
  switch (key) {
    case 'stp_state':
      return b.stp ? '1' : '0';
    case 'forward_delay':
      return String(b.forwardDelay);
    case 'hello_time':
      return String(b.helloTime);
    case 'max_age':
      return String(b.maxAge);
    default:
      return undefined;
  }
}

/**
 * Steps that make bridge `want.name` exist with the wanted options. Bringing it up is left to
 * planBridgeUp, so callers can enslave ports first.
 */
export function planBridge(want: BridgeDesired, host: HostState): Step[] {
  const link = findLink(host, want.name);
  const options = wantedOptions(want);
  if (!link) {
    const args = ipWords(options);
    const what = options.map((o) => o.text).join(', ');
    const steps = [
      makeStep(
        `bridge:${want.name}:create`,
        'bridge',
        ip.linkAdd(want.name, 'bridge', args),
        `${want.name} does not exist; create it (${what})`,
      ),
    ];
    if (want.mtu !== undefined)
      steps.push(
        makeStep(
          `bridge:${want.name}:mtu`,
          'bridge',
          ip.linkMtu(want.name, want.mtu),
          `${want.name} mtu: want ${want.mtu}`,
        ),
      );
    return steps;
  }
  if (link.kind !== 'bridge')
    throw new XenplanError(
      'config',
      `${want.name} exists but is a ${link.kind ?? 'plain'} device, not a bridge; choose another bridge= name or remove it`,
    );
  const steps: Step[] = [];
  const differing = options.filter((o) => observedOption(link, o.key) !== o.value);
  if (differing.length > 0) {
    // Turning STP off first lets forward_delay drop below the 802.1D minimum (the kernel checks it only with STP on).
    const ordered = [...differing].sort((a, b) =>
      a.key === 'stp_state' ? -1 : b.key === 'stp_state' ? 1 : 0,
    );
    const reason = ordered.map((o) => `${o.text} (have ${describeObserved(link, o.key)})`).join(', ');
    steps.push(
      makeStep(
        `bridge:${want.name}:options`,
        'bridge',
        ip.linkType(want.name, 'bridge', ipWords(ordered)),
        `${want.name} options: want ${reason}`,
      ),
    );
  }
  if (want.mtu !== undefined && link.mtu !== want.mtu)
    steps.push(
      makeStep(
        `bridge:${want.name}:mtu`,
        'bridge',
        ip.linkMtu(want.name, want.mtu),
        `${want.name} mtu: want ${want.mtu}, have ${link.mtu}`,
      ),
    );
  return steps;
}

function describeObserved(link: Link, key: string): string {
  const value = observedOption(link, key);
  if (value === undefined) return 'unknown';
  return describeValue(key, value);
}

function describeValue(key: string, value: string): string {
  if (key === 'stp_state') return value === '1' ? 'on' : 'off';
  return seconds(Number(value));
}

/**
 * What planBridge changes on a bridge that already exists (its options and MTU), each with the
 * value observed before, for the start record. A new bridge gives none: stop deletes it.
 */
export function listBridgeChanges(want: BridgeDesired, host: HostState): SettingChange[] {
  const link = findLink(host, want.name);
  if (link?.kind !== 'bridge') return [];
  const changes: SettingChange[] = [];
  for (const option of wantedOptions(want)) {
    const have = observedOption(link, option.key);
    if (have !== undefined && have !== option.value)
      changes.push({ dev: want.name, kind: 'bridge-option', name: option.key, before: have });
  }
  if (want.mtu !== undefined && link.mtu !== want.mtu)
    changes.push({ dev: want.name, kind: 'mtu', before: String(link.mtu) });
  return changes;
}

/** How a reason names an option, by ip's name. */
const OPTION_TEXT: Readonly<Record<string, string>> = {
  stp_state: 'stp',
  forward_delay: 'forward delay',
  hello_time: 'hello time',
  max_age: 'max age',
};

/**
 * Steps that put a bridge's options back to the values start found (stop, rollback). The kernel
 * range-checks forward_delay only with STP on and applies it before stp_state whatever the
 * word order, so STP is turned off in a step before the timers and turned on in a step after
 * them; turning it on makes the ports listen and learn again, so that step interrupts traffic.
 */
export function planBridgeRestore(name: string, changes: readonly OptionChange[], host: HostState): Step[] {
  const link = findLink(host, name);
  if (link?.kind !== 'bridge') return [];
  const differing = changes.filter((c) => {
    const have = observedOption(link, c.name);
    return have !== undefined && have !== c.before;
  });
  const words = (list: readonly OptionChange[]) => list.flatMap((c) => [c.name, c.before]);
  const what = (list: readonly OptionChange[]) =>
    list
      .map(
        (c) =>
          `${OPTION_TEXT[c.name] ?? c.name} back to ${describeValue(c.name, c.before)} (have ${describeObserved(link, c.name)})`,
      )
      .join(', ');
  const stp = differing.find((c) => c.name === 'stp_state');
  const timers = differing.filter((c) => c !== stp);
  const steps: Step[] = [];
  const stpStep = (c: OptionChange) =>
    makeStep(
      `bridge:${name}:stp`,
      'bridge',
      ip.linkType(name, 'bridge', words([c])),
      `${name} ${what([c])}${c.before === '1' ? `: its ports listen and learn again before they forward` : ''}`,
      c.before === '1',
    );
  if (stp?.before === '0') steps.push(stpStep(stp));
  if (timers.length > 0)
    steps.push(
      makeStep(
        `bridge:${name}:options`,
        'bridge',
        ip.linkType(name, 'bridge', words(timers)),
        `${name} ${what(timers)}`,
      ),
    );
  if (stp?.before === '1') steps.push(stpStep(stp));
  return steps;
}

/**
 * A bridge port start creates gets no IPv6 link-local address of its own, set before it first
 * goes up (as systemd-networkd does for bridge ports): a port needs no address (the bridge
 * holds dom0's), and the bond's, from the MAC it shares with the bridge, would be the very
 * fe80:: address of the bridge, on the same link.
 */
export function planNoLinkLocal(port: string, phase: Step['phase']): Step {
  return makeStep(
    `link:${port}:addrgenmode`,
    phase,
    ip.linkNoAddrGen(port),
    `${port} is a new bridge port: no IPv6 link-local of its own (a port holds no address; from the bridge's MAC it would duplicate the bridge's)`,
  );
}

/** Bring a link up when it is not. */
export function planUp(name: string, host: HostState, phase: Step['phase'], id = `link:${name}:up`): Step[] {
  const link = findLink(host, name);
  if (link?.up) return [];
  return [makeStep(id, phase, ip.linkUp(name), link ? `${name} is down` : `${name} is new and down`)];
}

/** Enslave `port` to `bridge` unless it already is, then bring it up. */
export function planPort(bridge: string, port: string, host: HostState): Step[] {
  const link = findLink(host, port);
  if (!link)
    throw new XenplanError(
      'config',
      `port ${port} does not exist; expected an existing interface to put in ${bridge}`,
    );
  if (link.name === bridge) throw new XenplanError('config', `cannot put bridge ${bridge} into itself`);
  const steps: Step[] = [];
  if (link.master !== bridge) {
    const have = link.master ? `in ${link.master}` : 'not in a bridge';
    steps.push(
      makeStep(
        `port:${port}:master`,
        'port',
        ip.linkMaster(port, bridge),
        `${port}: want in ${bridge}, have ${have}`,
        true,
      ),
    );
  }
  steps.push(...planUp(port, host, 'port'));
  return steps;
}
