// What the bench compares: each case is a way to run a vif event. Adding one is one more
// entry here: its argv, its extra environment, the processes outside the event that work for
// it, and the case its ratios compare with.
import { join } from 'node:path';
import type { Lab } from './lab.ts';

export type Event = 'online' | 'offline';

export interface Case {
  readonly name: string;
  readonly label: string;
  argv(event: Event): string[];
  /** Laid over libxl's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Resident helpers whose CPU and memory count for this case (the agent). */
  pids(): number[];
  /** The case its ratios compare with (a filtered xenplan case with Xen's filtered script). */
  readonly baseline?: string;
}

export function cases(lab: Lab, vifBridge: string, xenVersion: string): Case[] {
  const xen = `Xen ${xenVersion.replace(/\+.*/, '')} vif-bridge`;
  const cold = (event: Event) => [join(lab.bin, 'vif-script'), event, 'type_if=vif'];
  const agent = (event: Event) => [join(lab.bin, 'vif-xenplan'), event, 'type_if=vif'];
  // A silent fall back to the cold path would fail the event, not flatter the numbers.
  const agentOnly = { XENPLAN_NODE: '/bin/false' };
  const filtered = { XENPLAN_CONFIG: lab.antispoofOn };
  return [
    { name: 'xen', label: xen, argv: (event) => [vifBridge, event, 'type_if=vif'], pids: () => [] },
    { name: 'cold', label: 'xenplan cold (vif-script)', argv: cold, pids: () => [] },
    // What a dom0 runs when the agent is not there: the launcher, its slots, then the bundle.
    {
      name: 'launcher',
      label: 'cold via the launcher (slots)',
      argv: agent,
      env: { XENPLAN_AGENT: 'off' },
      pids: () => [],
    },
    {
      name: 'agent',
      label: 'xenplan agent (vif-xenplan)',
      argv: agent,
      env: agentOnly,
      pids: () => [lab.agentPid],
    },
    // Antispoofing (the backend ip key enforced): Xen's iptables physdev rules against
    // xenplan's nftables bridge-family transaction.
    {
      name: 'xen+ipt',
      label: `${xen} + iptables`,
      argv: (event) => [join(lab.xenIptables, 'vif-bridge'), event, 'type_if=vif'],
      pids: () => [],
    },
    {
      name: 'cold+nft',
      label: 'cold + antispoof',
      argv: cold,
      env: filtered,
      pids: () => [],
      baseline: 'xen+ipt',
    },
    {
      name: 'agent+nft',
      label: 'agent + antispoof',
      argv: agent,
      env: { ...agentOnly, ...filtered },
      pids: () => [lab.agentPid],
      baseline: 'xen+ipt',
    },
  ];
}

/**
 * The floor of any Node cold path: the same Node starting and running one `ip -batch` (the
 * one command an online needs), with nothing else.
 */
export function floorArgv(vif: string): string[] {
  const code = `require('child_process').spawnSync('ip',['-batch','-'],{input:'link set dev ${vif} up\\n'})`;
  return [process.execPath, '-e', code];
}
