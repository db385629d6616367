import type { HostState } from '../model/host.ts';
import type { BridgeNf } from '../model/network.ts';
import type { Step } from '../model/plan.ts';
import type { SysctlChange } from '../model/record.ts';
import { sysctlSet } from './command.ts';
import { makeStep } from './step.ts';

export const BRIDGE_NF_KEYS = [
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
  'net.bridge.bridge-nf-call-arptables',
] as const;

/** bridge-nf=on|off: set the three bridge-netfilter sysctls that differ; keep: nothing. */
export function planBridgeNf(
  want: BridgeNf,
  host: HostState,
): { steps: Step[]; changed: SysctlChange[]; warnings: string[] } {
  const steps: Step[] = [];
  const changed: SysctlChange[] = [];
  const warnings: string[] = [];
  if (want === 'keep') return { steps, changed, warnings };
  const value = want === 'on' ? '1' : '0';
  for (const key of BRIDGE_NF_KEYS) {
    const have = host.sysctls[key];
    if (have === undefined) {
      warnings.push(
        `${key} does not exist (br_netfilter is not loaded); bridge-nf=${want} has nothing to set`,
      );
      continue;
    }
    if (have === value) continue;
    changed.push({ key, before: have });
    steps.push(
      makeStep(
        `sysctl:${key}`,
        'sysctl',
        sysctlSet(key, value),
        `${key}: want ${value} (bridge-nf=${want}), have ${have}`,
      ),
    );
  }
  return { steps, changed, warnings };
}
