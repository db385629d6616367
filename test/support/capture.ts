import { spawnSync } from 'node:child_process';
import type { Netns } from './netns.ts';

/**
 * What reaches a device, counted by the kernel: an nftables netdev table on its ingress in
 * the test's namespace, one counting rule per name (the rule's comment). Frames that arrive
 * in order after a marker has been counted were either counted or never came: so a test
 * proves "nothing got through" by sending a marker after and waiting for it.
 */
export class Capture {
  constructor(
    private readonly ns: Netns,
    dev: string,
    rules: Readonly<Record<string, string>>,
  ) {
    const lines = [
      'add table netdev capture',
      `add chain netdev capture in { type filter hook ingress device ${dev} priority 0; policy accept; }`,
      ...Object.entries(rules).map(
        ([name, match]) => `add rule netdev capture in ${match} counter comment "${name}"`,
      ),
    ];
    const run = ns.exec(['nft', '-f', '-'], { input: `${lines.join('\n')}\n` });
    if (run.status !== 0) throw new Error(`capture rules: ${run.stderr}`);
  }

  /** Packets counted so far, by name. */
  counts(): Record<string, number> {
    const run = this.ns.exec(['nft', '-j', 'list', 'table', 'netdev', 'capture']);
    const out: Record<string, number> = {};
    type Rule = { comment?: string; expr?: Array<{ counter?: { packets: number } }> };
    for (const o of (JSON.parse(run.stdout) as { nftables: Array<{ rule?: Rule }> }).nftables) {
      const counter = o.rule?.expr?.find((e) => e.counter)?.counter;
      if (o.rule?.comment && counter) out[o.rule.comment] = counter.packets;
    }
    return out;
  }

  /** Polls until `name` has counted more than `above` (at most `ms`); its final count. */
  waitAbove(name: string, above: number, ms = 10_000): number {
    const deadline = Date.now() + ms;
    for (;;) {
      const n = this.counts()[name] ?? 0;
      if (n > above || Date.now() > deadline) return n;
      spawnSync('sleep', ['0.05']);
    }
  }
}
