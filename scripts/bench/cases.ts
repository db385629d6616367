// What the bench compares: each case is a way to run a vif event. Adding one (say xenplan
// with antispoofing on, once it exists) is one more entry here: its argv, its extra
// environment or xenstore keys, and the processes outside the event that work for it.
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
}

export function cases(lab: Lab, vifBridge: string, xenVersion: string): Case[] {
  return [
    {
      name: 'xen',
      label: `Xen ${xenVersion.replace(/\+.*/, '')} vif-bridge`,
      argv: (event) => [vifBridge, event, 'type_if=vif'],
      pids: () => [],
    },
    {
      name: 'cold',
      label: 'xenplan cold (vif-script)',
      argv: (event) => [join(lab.bin, 'vif-script'), event, 'type_if=vif'],
      pids: () => [],
    },
    {
      name: 'agent',
      label: 'xenplan agent (vif-xenplan)',
      argv: (event) => [join(lab.bin, 'vif-xenplan'), event, 'type_if=vif'],
      // A silent fall back to the cold path would fail the event, not flatter the numbers.
      env: { XENPLAN_NODE: '/bin/false' },
      pids: () => [lab.agentPid],
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
