import type { Finding } from '../model/finding.ts';
import { type BondFacts, type Facts, hasSeparateSwitches, optionWord, partnerMacs } from './facts.ts';
import { listNames, makeFinding, type Rule } from './rule.ts';

/** Bond mode against topology: BOND001-006. */

/** Suggested replacement options for a bond, keeping its miimon and naming its first slave primary. */
export function suggestActiveBackup(bond: BondFacts): string {
  const miimon = bond.miimon !== undefined && bond.miimon > 0 ? bond.miimon : 100;
  const primary = bond.slaves[0] === undefined ? '' : ` primary=${bond.slaves[0]}`;
  return `mode=active-backup miimon=${miimon}${primary}`;
}

/** The same as network-script keys, then the ifcfg line: what a fix names. */
export function suggestActiveBackupFix(bond: BondFacts): string {
  const miimon = bond.miimon !== undefined && bond.miimon > 0 ? bond.miimon : 100;
  const primary = bond.slaves[0] === undefined ? '' : ` bond.primary=${bond.slaves[0]}`;
  return `bond-mode=active-backup miimon=${miimon}${primary} (ifcfg: BONDING_OPTS='${suggestActiveBackup(bond)}')`;
}

function isSlb(facts: Facts, bond: BondFacts): boolean {
  return (
    bond.mode === 'balance-xor' &&
    optionWord(bond.options.xmit_hash_policy) === 'vlan+srcmac' &&
    facts.topology.slb === 'filtered'
  );
}

const rrUnderBridge: Rule = {
  id: 'BOND001',
  name: 'rr-under-bridge',
  summary: 'a bridged bond in balance-rr sprays guest frames over all slaves (MAC flapping, loops, loss)',
  severity: 'error',
  check(facts) {
    return facts.bonds
      .filter((b) => b.bridge !== undefined && b.mode === 'balance-rr')
      .map((b) =>
        makeFinding(rrUnderBridge, {
          message:
            `${b.name} is in mode balance-rr under bridge ${b.bridge}: balance-rr sprays guest frames across ` +
            `${listNames(b.slaves) || 'its slaves'}; it needs a static EtherChannel and is not supported under a ` +
            'VM bridge; expect MAC flapping, loops, loss and reordering',
          fix: `${suggestActiveBackupFix(b)}; or 802.3ad if the switch(es) act as one LACP partner`,
          source:
            'bonding.rst §5, §12.1.1; RHV Technical Reference "Bonds"; RHEL 6/7 Virtualization guide; Red Hat KB 67546',
          objects: [b.name, b.bridge ?? ''],
        }),
      );
  },
};

const multiSwitchUnsafeMode: Rule = {
  id: 'BOND002',
  name: 'multi-switch-unsafe-mode',
  summary: 'slaves on independent switches need active-backup (or 802.3ad with MLAG declared)',
  severity: 'error',
  check(facts) {
    const out: Finding[] = [];
    for (const b of facts.bonds) {
      if (!hasSeparateSwitches(facts, b)) continue;
      const detected = partnerMacs(b).length > 1;
      const safe =
        b.mode === 'active-backup' ||
        (b.mode === '802.3ad' && facts.topology.lacp === 'mlag' && !detected) ||
        isSlb(facts, b);
      if (safe) continue;
      const how = detected
        ? `its slaves report different 802.3ad partners (${listNames(partnerMacs(b))})`
        : 'the config declares switches=separate';
      out.push(
        makeFinding(multiSwitchUnsafeMode, {
          message:
            `${b.name} (mode ${b.mode}): slaves ${listNames(b.slaves)} terminate on independent switches (${how}); ` +
            'only active-backup is safe without MLAG/stacking',
          fix: `${suggestActiveBackupFix(b)}; or make the switches one LACP partner (MLAG/vPC/stack), bond-mode=802.3ad and declare lacp=mlag`,
          source:
            'bonding.rst §11.2.1; openvswitch Documentation/topics/bonding.rst "Active Backup Bonding"; wiki.xenproject.org XCP_NIC_Bonding',
          objects: [b.name, ...b.slaves],
        }),
      );
    }
    return out;
  },
};

const lacpSplitAggregator: Rule = {
  id: 'BOND003',
  name: 'lacp-split-aggregator',
  summary: '802.3ad slaves in different aggregators, with different partners, or with no partner (live only)',
  severity: 'error',
  check(facts) {
    const out: Finding[] = [];
    for (const b of facts.bonds) {
      if (b.mode !== '802.3ad' || b.proc === undefined) continue;
      const slaves = b.proc.slaves;
      const aggregators = new Set(slaves.map((s) => s.aggregatorId).filter((a) => a !== undefined));
      const noPartner = slaves.filter((s) => s.partnerMac === '00:00:00:00:00:00').map((s) => s.name);
      const partners = partnerMacs(b);
      const reasons: string[] = [];
      if (aggregators.size > 1)
        reasons.push(
          `slaves are in aggregators ${slaves.map((s) => `${s.name}:${s.aggregatorId ?? '?'}`).join(', ')}`,
        );
      if (partners.length > 1) reasons.push(`partner system MACs differ (${listNames(partners)})`);
      if (noPartner.length > 0)
        reasons.push(`${listNames(noPartner)} see no LACP partner (00:00:00:00:00:00)`);
      if (reasons.length === 0) continue;
      out.push(
        makeFinding(lacpSplitAggregator, {
          message:
            `${b.name}: LACP did not form one aggregator (${reasons.join('; ')}); only one aggregator is active ` +
            '(ad_select), so the other link carries nothing or the switch side is not LACP',
          fix: `configure MLAG/vPC/stack (one LACP partner) on the switches, or ${suggestActiveBackupFix(b)}`,
          source: 'bonding.rst 802.3ad prerequisites and ad_select; Red Hat KB 27863',
          objects: [b.name, ...slaves.map((s) => s.name)],
        }),
      );
    }
    return out;
  },
};

const tlbAlbUnderBridge: Rule = {
  id: 'BOND004',
  name: 'tlb-alb-under-bridge',
  summary: 'a bridged bond in balance-tlb/balance-alb mishandles guest MACs',
  severity: 'warning',
  check(facts) {
    return facts.bonds
      .filter((b) => b.bridge !== undefined && (b.mode === 'balance-tlb' || b.mode === 'balance-alb'))
      .map((b) =>
        makeFinding(tlbAlbUnderBridge, {
          message:
            `${b.name} is in mode ${b.mode} under bridge ${b.bridge}: tlb/alb load-balance by rewriting or steering ` +
            'MACs; bridged guest MACs are not balanced and have been mis-rewritten on failover',
          fix: `${suggestActiveBackupFix(b)}; or 802.3ad with switch support`,
          source:
            'RHEL 6/7 Virtualization guide (modes 5/6 not for guests); netdev 2021 "bonding/balance-lb: don\'t rewrite bridged non-local MACs"; bond_alb.c rlb_arp_xmit',
          objects: [b.name, b.bridge ?? ''],
        }),
      );
  },
};

const broadcastUnderBridge: Rule = {
  id: 'BOND005',
  name: 'broadcast-under-bridge',
  summary: 'a bridged bond in broadcast mode duplicates every frame',
  severity: 'warning',
  check(facts) {
    return facts.bonds
      .filter((b) => b.bridge !== undefined && b.mode === 'broadcast')
      .map((b) =>
        makeFinding(broadcastUnderBridge, {
          message:
            `${b.name} is in mode broadcast under bridge ${b.bridge}: broadcast duplicates every frame on every ` +
            'slave; it is only meant for feeding two fully independent networks',
          fix: `${suggestActiveBackupFix(b)}`,
          source: 'bonding.rst §11.2.1; RHEL Virtualization guide',
          objects: [b.name, b.bridge ?? ''],
        }),
      );
  },
};

const staticLagWithoutSwitchGroup: Rule = {
  id: 'BOND006',
  name: 'static-lag-without-switch-group',
  summary: 'balance-rr/balance-xor need a static port group on the switch (declare port-group=static)',
  severity: 'warning',
  check(facts) {
    if (facts.topology['port-group'] === 'static') return [];
    return facts.bonds
      .filter((b) => (b.mode === 'balance-rr' || b.mode === 'balance-xor') && !isSlb(facts, b))
      .filter((b) => !hasSeparateSwitches(facts, b)) // BOND002 covers independent switches
      .map((b) =>
        makeFinding(staticLagWithoutSwitchGroup, {
          message: `${b.name} is in mode ${b.mode}: this mode needs the switch ports of ${listNames(b.slaves) || 'its slaves'} grouped as a static EtherChannel/trunk, and the config does not declare one`,
          fix: `configure a static port-channel on the switch and declare port-group=static; or ${suggestActiveBackupFix(b)} or 802.3ad`,
          source: 'bonding.rst §5 "Switch Configuration", FAQ 7',
          objects: [b.name, ...b.slaves],
        }),
      );
  },
};

export const BOND_MODE_RULES: readonly Rule[] = [
  rrUnderBridge,
  multiSwitchUnsafeMode,
  lacpSplitAggregator,
  tlbAlbUnderBridge,
  broadcastUnderBridge,
  staticLagWithoutSwitchGroup,
];
