import { XenplanError } from '../model/error.ts';
import type { Address, Family, HostState } from '../model/host.ts';
import type { Step } from '../model/plan.ts';
import type { MovedAddress } from '../model/record.ts';
import { ip } from './command.ts';
import { makeStep } from './step.ts';

export interface AddressPlan {
  readonly add: Step[];
  readonly remove: Step[];
  readonly moved: MovedAddress[];
  readonly warnings: string[];
}

export function cidrOf(a: Pick<Address, 'local' | 'prefixlen'>): string {
  return `${a.local}/${a.prefixlen}`;
}

/** dom0's own addresses: global (and site) IPv4 and IPv6, not link-local, not loopback. */
export function isMovable(a: Address): boolean {
  if (a.scope === 'link' || a.scope === 'host') return false;
  return !(a.family === 'inet6' && a.local.toLowerCase().startsWith('fe80:'));
}

function familyOf(cidr: string): Family {
  return cidr.includes(':') ? 'inet6' : 'inet';
}

/** `valid_lft N preferred_lft M` for a dynamic address; nothing for a static one. */
export function lifetimeWords(a: Pick<Address, 'validLft' | 'preferredLft'> | undefined): string[] {
  if (a?.validLft === undefined) return [];
  return ['valid_lft', String(a.validLft), 'preferred_lft', String(a.preferredLft ?? a.validLft)];
}

function addStep(target: string, m: MovedAddress, source: Address | undefined, explicitFrom: string): Step {
  const extra = [...(m.broadcast === undefined ? [] : ['broadcast', m.broadcast]), ...lifetimeWords(source)];
  const from = m.from === undefined ? `given by ${explicitFrom}` : `moving from ${m.from}`;
  return makeStep(
    `address:${target}:${m.cidr}`,
    'address',
    ip.addrAdd(target, m.cidr, extra),
    `${m.cidr} belongs on ${target} (${from})`,
  );
}

/**
 * Steps that put dom0's addresses on `target`: add them there first, then delete them from the
 * old holders (secondaries before primaries, since deleting a primary takes its secondaries).
 * With `explicit` (address=, or IPADDR in ifcfg: `explicitFrom` names it) those addresses are
 * the whole wanted set: every other address on the old holders and on target itself goes.
 * IPv6 addresses on a device the plan takes down are not deleted: the kernel flushes them
 * itself. A dynamic address (finite lifetime) is never made permanent: refused, or with
 * dhcp=move moved with its remaining lifetimes.
 */
export function planAddresses(
  host: HostState,
  target: string,
  sources: readonly string[],
  options: {
    explicit?: readonly string[];
    explicitFrom?: string;
    downed?: readonly string[];
    dhcp?: 'refuse' | 'move';
  } = {},
): AddressPlan {
  const warnings: string[] = [];
  const onTarget = new Set(host.addresses.filter((a) => a.dev === target).map(cidrOf));
  const old = host.addresses.filter((a) => sources.includes(a.dev) && a.dev !== target && isMovable(a));
  const movable = old.filter((a) => {
    if (a.peer === undefined) return true;
    warnings.push(`${cidrOf(a)} peer ${a.peer} on ${a.dev} is a point-to-point address; not moved`);
    return false;
  });
  const wanted: MovedAddress[] = [];
  if (options.explicit !== undefined) {
    for (const full of options.explicit) {
      const source = movable.find((a) => cidrOf(a) === full);
      wanted.push({
        from: source?.dev,
        to: target,
        cidr: full,
        family: familyOf(full),
        ...(source?.broadcast === undefined ? {} : { broadcast: source.broadcast }),
      });
    }
  } else {
    for (const a of movable)
      if (!wanted.some((w) => w.cidr === cidrOf(a)))
        wanted.push({
          from: a.dev,
          to: target,
          cidr: cidrOf(a),
          family: a.family,
          ...(a.broadcast === undefined ? {} : { broadcast: a.broadcast }),
        });
  }
  const moved = wanted.filter((w) => !onTarget.has(w.cidr));
  const dynamic = movable.filter((a) => a.validLft !== undefined);
  const first = dynamic[0];
  if (first !== undefined && options.dhcp !== 'move')
    throw new XenplanError(
      'config',
      `${cidrOf(first)} on ${first.dev} is dynamic (a DHCP lease or SLAAC address, valid ${first.validLft} s more)${
        dynamic.length > 1
          ? ` and so ${dynamic.length === 2 ? 'is' : 'are'} ${dynamic.slice(1).map(cidrOf).join(', ')}`
          : ''
      }: start would make it permanent on ${target}; configure dom0's address statically (address=, and stop the DHCP client on ${first.dev}), or give dhcp=move to move it with its remaining lifetime and run the DHCP client on ${target}; nothing was changed`,
    );
  const explicitFrom = options.explicitFrom ?? 'address=';
  const add = moved.map((m) =>
    addStep(
      target,
      m,
      movable.find((a) => cidrOf(a) === m.cidr),
      explicitFrom,
    ),
  );
  const remove: Step[] = [];
  // An explicit list is the whole set: what else target holds goes too (stop puts it back).
  if (options.explicit !== undefined) {
    const extra = host.addresses.filter(
      (a) =>
        a.dev === target && isMovable(a) && a.peer === undefined && !wanted.some((w) => w.cidr === cidrOf(a)),
    );
    for (const a of [...extra].reverse()) {
      moved.push({
        from: target,
        to: target,
        cidr: cidrOf(a),
        family: a.family,
        ...(a.broadcast === undefined ? {} : { broadcast: a.broadcast }),
      });
      remove.push(
        makeStep(
          `address:${target}:${cidrOf(a)}:del`,
          'address',
          ip.addrDel(target, cidrOf(a)),
          `${cidrOf(a)} leaves ${target}: not among dom0's addresses (${explicitFrom} lists the whole set)`,
          true,
        ),
      );
    }
  }
  // Addresses deleted without a place on target (address= named others) are recorded too, so stop puts them back.
  for (const a of movable)
    if (!moved.some((m) => m.cidr === cidrOf(a)))
      moved.push({
        from: a.dev,
        to: target,
        cidr: cidrOf(a),
        family: a.family,
        ...(a.broadcast === undefined ? {} : { broadcast: a.broadcast }),
      });
  for (const a of [...movable].reverse()) {
    if (a.family === 'inet6' && options.downed?.includes(a.dev)) continue;
    remove.push(
      makeStep(
        `address:${a.dev}:${cidrOf(a)}:del`,
        'address',
        ip.addrDel(a.dev, cidrOf(a)),
        `${cidrOf(a)} leaves ${a.dev}: dom0's addresses live on ${target}`,
        true,
      ),
    );
  }
  return { add, remove, moved, warnings };
}

/**
 * After start's bring-up: dom0's IPv6 link-locals on `holder` whose duplicate address
 * detection failed, deleted and added again so the kernel runs it anew on the settled link.
 * Seen on the VM's two switches while the bond picks its active slave: "duplicate address …
 * used by" the bridge's own MAC (most likely its own probe back in round the switches after
 * the kernel restarted detection on a carrier change), the address never used. An address
 * that fails again is a real duplicate; it stays failed.
 */
export function planLinkLocalRetry(holder: string, host: HostState): Step[] {
  return host.addresses
    .filter((a) => a.dev === holder && a.family === 'inet6' && a.scope === 'link' && a.dadFailed)
    .flatMap((a) => {
      const cidr = cidrOf(a);
      const why = `${holder}'s link-local ${cidr} failed duplicate address detection during the bring-up`;
      return [
        makeStep(
          `address:${holder}:${cidr}:dad-del`,
          'address',
          ip.addrDel(holder, cidr),
          `${why}: remove it`,
        ),
        makeStep(
          `address:${holder}:${cidr}:dad-add`,
          'address',
          ip.addrAdd(holder, cidr),
          `${why}: add it again, so detection runs on the settled link`,
        ),
      ];
    });
}
