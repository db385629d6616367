import type { Finding } from '../model/finding.ts';
import { type BondFacts, hasSeparateSwitches, optionWord } from './facts.ts';
import { makeFinding, type Rule } from './rule.ts';

/** Bond options: BOND013-015. */

interface ModeOption {
  readonly keys: readonly string[];
  readonly modes: readonly string[];
  /** Values meaning "not set" (the kernel reports defaults for every option). */
  readonly defaults: readonly string[];
}

/** Options that only act in some modes (bonding.rst option entries). */
const MODE_OPTIONS: readonly ModeOption[] = [
  { keys: ['primary'], modes: ['active-backup', 'balance-tlb', 'balance-alb'], defaults: [''] },
  { keys: ['lacp_rate'], modes: ['802.3ad'], defaults: ['slow', '0'] },
  { keys: ['ad_select'], modes: ['802.3ad'], defaults: ['stable', '0'] },
  { keys: ['min_links'], modes: ['802.3ad'], defaults: ['0'] },
  { keys: ['xmit_hash_policy'], modes: ['balance-xor', '802.3ad', 'balance-tlb'], defaults: ['layer2', '0'] },
  { keys: ['packets_per_slave'], modes: ['balance-rr'], defaults: ['1'] },
  { keys: ['num_grat_arp', 'num_unsol_na', 'num_peer_notif'], modes: ['active-backup'], defaults: ['1'] },
];

/** An option's value when it is set to something other than its default. */
function setValue(b: BondFacts, key: string, defaults: readonly string[]): string | undefined {
  const word = optionWord(b.options[key]);
  if (word === undefined || defaults.includes(word)) return undefined;
  return word;
}

function primaryOf(b: BondFacts): string | undefined {
  const raw = b.options.primary?.trim();
  return raw === undefined || raw === '' ? undefined : raw.split(/\s+/)[0];
}

const optionIgnoredForMode: Rule = {
  id: 'BOND013',
  name: 'option-ignored-for-mode',
  summary: 'an option set to a non-default value has no effect in the bond mode',
  severity: 'warning',
  check(facts) {
    const out: Finding[] = [];
    for (const b of facts.bonds) {
      for (const option of MODE_OPTIONS) {
        if (option.modes.includes(b.mode)) continue;
        for (const key of option.keys) {
          const value = setValue(b, key, option.defaults);
          if (value === undefined) continue;
          out.push(
            makeFinding(optionIgnoredForMode, {
              message: `${b.name}: option ${key}=${value} has no effect in mode ${b.mode} (it acts only in ${option.modes.join(', ')})`,
              fix: `remove ${key} from ${b.name}'s options, or change the mode`,
              source: 'bonding.rst option entries; ifupdown2 addons/bond.py',
              objects: [b.name],
            }),
          );
        }
      }
    }
    return out;
  },
};

const primaryInvalidOrMissing: Rule = {
  id: 'BOND014',
  name: 'primary-invalid-or-missing',
  summary: 'primary names a non-slave (error), or active-backup across switches has no primary (info)',
  severity: 'error',
  check(facts) {
    const out: Finding[] = [];
    for (const b of facts.bonds) {
      const primary = primaryOf(b);
      if (primary !== undefined && b.slaves.length > 0 && !b.slaves.includes(primary)) {
        out.push(
          makeFinding(primaryInvalidOrMissing, {
            message: `${b.name} has primary=${primary}, which is not one of its slaves (${b.slaves.join(', ')}): primary must be an enslaved interface`,
            fix: `bond.primary=${b.slaves[0]} (the NIC on the preferred switch)`,
            source: 'bonding.rst primary, primary_reselect, §11.2.1',
            objects: [b.name, primary],
          }),
        );
      } else if (primary === undefined && b.mode === 'active-backup' && hasSeparateSwitches(facts, b)) {
        out.push(
          makeFinding(primaryInvalidOrMissing, {
            severity: 'info',
            message: `${b.name} is active-backup across separate switches with no primary: after a recovery the active slave is arbitrary`,
            fix: `bond.primary=${b.slaves[0] ?? '<NIC on the preferred switch>'} (the NIC on the preferred switch); consider bond.primary_reselect`,
            source: 'bonding.rst primary, primary_reselect, §11.2.1',
            objects: [b.name],
          }),
        );
      }
    }
    return out;
  },
};

const FAIL_OVER_MAC: Readonly<Record<string, string>> = { '0': 'none', '1': 'active', '2': 'follow' };

function failOverMac(value: string | undefined): string | undefined {
  const word = optionWord(value);
  return word === undefined ? undefined : (FAIL_OVER_MAC[word] ?? word);
}

const failOverMacHazard: Rule = {
  id: 'BOND015',
  name: 'fail-over-mac-hazard',
  summary:
    'bond.fail_over_mac=active on a bridged bond (warning); config differs from a live bond with slaves (error)',
  severity: 'warning',
  check(facts) {
    const out: Finding[] = [];
    for (const b of facts.bonds) {
      const live = failOverMac(b.options.fail_over_mac);
      if (b.bridge !== undefined && live === 'active') {
        out.push(
          makeFinding(failOverMacHazard, {
            message: `${b.name} under bridge ${b.bridge} has fail_over_mac=active: the bond MAC changes at every failover, so the bridge MAC (inherited) and dom0's MAC change too; every peer must relearn via gratuitous ARP`,
            fix: 'bond.fail_over_mac=none (the default) or bond.fail_over_mac=follow',
            source: 'bonding.rst fail_over_mac; ifupdown2 issue 254; nmstate rust/src/lib/ifaces/bond.rs',
            objects: [b.name, b.bridge],
          }),
        );
      }
      const wanted = failOverMac(b.desiredOptions?.fail_over_mac);
      const liveSlaves = [...facts.links.values()].filter((l) => l.master === b.name).length;
      const liveValue = failOverMac(facts.links.get(b.name)?.bond?.options.fail_over_mac) ?? 'none';
      if (b.source === 'observed' && wanted !== undefined && wanted !== liveValue && liveSlaves > 0) {
        out.push(
          makeFinding(failOverMacHazard, {
            severity: 'error',
            message: `${b.name}: the config wants fail_over_mac=${wanted} but the live bond has ${liveValue} and ${liveSlaves} slave(s): fail_over_mac can only change with no slaves`,
            fix: `release the slaves (ip link set <slave> nomaster), set bond.fail_over_mac=${wanted} on ${b.name}, and re-enslave them`,
            source: 'bonding.rst fail_over_mac; ifupdown2 issue 254',
            objects: [b.name],
          }),
        );
      }
    }
    return out;
  },
};

export const BOND_OPTION_RULES: readonly Rule[] = [
  optionIgnoredForMode,
  primaryInvalidOrMissing,
  failOverMacHazard,
];
