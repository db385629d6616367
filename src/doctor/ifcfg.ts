import type { Finding } from '../model/finding.ts';
import { makeFinding, type Rule } from './rule.ts';

/** What the admin wrote and xenplan does not use: IFCFG001. */

const ignoredLines: Rule = {
  id: 'IFCFG001',
  name: 'ifcfg-line-ignored',
  summary: 'an ifcfg line xenplan reads but does not use, and why (what it did before)',
  severity: 'info',
  check(facts) {
    // One finding per file and reason, so FD=, HELLO= and MAXAGE= read as one sentence.
    const groups = new Map<string, { file: string; reason: string; device: string; items: string[] }>();
    for (const s of facts.input.ignored ?? []) {
      const file = s.where.replace(/:[0-9]+$/, '');
      const id = `${file}\n${s.reason}`;
      const group = groups.get(id) ?? { file, reason: s.reason, device: s.device, items: [] };
      group.items.push(s.key === 'BRIDGING_OPTS' ? `BRIDGING_OPTS ${s.value}` : `${s.key}=${s.value}`);
      groups.set(id, group);
    }
    const out: Finding[] = [];
    for (const g of groups.values())
      out.push(
        makeFinding(ignoredLines, {
          message: `${g.file}: ${g.items.join(', ')} not used: ${g.reason}`,
          fix: 'nothing needed; delete the line(s), or write what was meant',
          source: 'initscripts sysconfig.txt and ifup-eth; xenplan network-script --help (the keys it reads)',
          objects: [g.device],
        }),
      );
    return out;
  },
};

export const IFCFG_RULES: readonly Rule[] = [ignoredLines];
