import { findLink, type HostState, portsOf } from '../model/host.ts';
import type { Step } from '../model/plan.ts';
import type { OptionChange, SettingChange } from '../model/record.ts';
import { observedBondOption, planBond } from './bond.ts';
import { planBridgeRestore } from './bridge.ts';
import { ip } from './command.ts';
import { makeStep } from './step.ts';

export interface SettingRestore {
  readonly steps: Step[];
  readonly warnings: string[];
}

/**
 * Steps that put back the settings start changed on devices it did not create (stop, rollback),
 * planned on `host` as it is once stop has released what start enslaved and deleted what it
 * created: bond options first (through planBond, so a mode goes back with the bond down and
 * empty, its slaves re-enslaved and the bond up again), then bridge options, then MTUs and
 * MACs. A device that is gone is skipped; only values that differ are planned.
 */
export function planSettingRestores(changes: readonly SettingChange[], host: HostState): SettingRestore {
  const steps: Step[] = [];
  const warnings: string[] = [];
  const devs = [...new Set(changes.map((c) => c.dev))];
  const options = (dev: string, kind: OptionChange['kind']) =>
    changes.filter((c): c is OptionChange => c.dev === dev && c.kind === kind);
  for (const dev of devs) {
    const bond = options(dev, 'bond-option');
    if (bond.length === 0) continue;
    const restore = planBondRestore(dev, bond, host);
    steps.push(...restore.steps);
    warnings.push(...restore.warnings);
  }
  for (const dev of devs) steps.push(...planBridgeRestore(dev, options(dev, 'bridge-option'), host));
  for (const c of changes) {
    const link = findLink(host, c.dev);
    if (!link) continue;
    if (c.kind === 'mtu' && String(link.mtu) !== c.before)
      steps.push(
        makeStep(
          `link:${c.dev}:mtu`,
          'link',
          ip.linkMtu(c.dev, Number(c.before)),
          `${c.dev} mtu back to ${c.before} (have ${link.mtu}; start changed it)`,
        ),
      );
    if (c.kind === 'arp' && (link.noarp ? 'off' : 'on') !== c.before)
      steps.push(
        makeStep(
          `link:${c.dev}:arp`,
          'link',
          ip.linkArp(c.dev, c.before === 'on'),
          `${c.dev} ARP back ${c.before} (start changed it)`,
        ),
      );
    if (c.kind === 'mac' && link.mac?.toLowerCase() !== c.before.toLowerCase())
      steps.push(
        makeStep(
          `link:${c.dev}:mac`,
          'link',
          ip.linkMac(c.dev, c.before),
          `${c.dev} MAC back to ${c.before} (have ${link.mac ?? 'none'}; start changed it)`,
        ),
      );
  }
  return { steps, warnings };
}

/** A bond's options back to their values before start, with the bond's slaves as they are on `host`. */
function planBondRestore(dev: string, changes: readonly OptionChange[], host: HostState): SettingRestore {
  const link = findLink(host, dev);
  if (!link) return { steps: [], warnings: [] };
  if (link.kind !== 'bond' || !link.bond)
    return {
      steps: [],
      warnings: [`${dev}: start changed its bond options, but it is no longer a bond; left as is`],
    };
  const warnings: string[] = [];
  const options: Record<string, string> = {};
  let mode = link.bond.mode;
  for (const c of changes) {
    if (c.name === 'mode') mode = c.before;
    else if (c.before !== '') options[c.name] = c.before;
    else {
      // ip takes a value for every option: one that had none (primary) cannot be cleared.
      const have = observedBondOption(link, c.name);
      if (have !== undefined && have !== '')
        warnings.push(`${dev} ${c.name}: had no value before start and ip cannot clear it; left as ${have}`);
    }
  }
  const slaves = portsOf(host, dev).map((l) => l.name);
  const plan = planBond({ name: dev, slaves, mode, options }, host);
  const steps = [...plan.prepare, ...plan.slaves, ...plan.finish].map((s) =>
    s.id === `bond:${dev}:options` ? { ...s, reason: `${s.reason} (as before start)` } : s,
  );
  if (plan.bondDown && link.up)
    steps.push(makeStep(`link:${dev}:up`, 'link', ip.linkUp(dev), `${dev} was taken down above`));
  return { steps, warnings: [...warnings, ...plan.warnings] };
}
