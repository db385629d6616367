import { describe, expect, it } from 'vitest';
import { RULES } from '../../../src/doctor/rules.ts';

const RESEARCH_IDS = [
  ...Array.from({ length: 15 }, (_, i) => `BOND${String(i + 1).padStart(3, '0')}`),
  'BR001',
  'BR002',
  'BR003',
  'BR004',
  'IP001',
  'ARP001',
  'ARP002',
  'NF001',
  'NF002',
  'MTU001',
];

describe('RULES', () => {
  it('holds the 25 research rules in order, then VLAN001-002, XEN001, XEN002 and IFCFG001', () => {
    expect(RULES.map((r) => r.id)).toEqual([
      ...RESEARCH_IDS,
      'VLAN001',
      'VLAN002',
      'XEN001',
      'XEN002',
      'IFCFG001',
    ]);
  });

  it('gives every rule a unique kebab-case name and a one-line summary', () => {
    const names = RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(RULES.length);
    for (const rule of RULES) {
      expect(rule.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.summary).not.toContain('\n');
      expect(rule.summary.length).toBeGreaterThan(10);
    }
    expect(RULES.find((r) => r.id === 'BOND001')?.name).toBe('rr-under-bridge');
  });
});
