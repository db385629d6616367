import { describe, expect, it } from 'vitest';
import { renderFindingComments, strictStop } from '../../../src/cli/review.ts';
import type { Finding } from '../../../src/model/finding.ts';

function finding(id: string, severity: Finding['severity'], message: string): Finding {
  return { id, severity, message, fix: 'f', source: 's', objects: [] };
}

describe('renderFindingComments and strictStop', () => {
  const findings = [
    finding('ARP001', 'error', 'ARP is off on xenbr0'),
    finding('BR003', 'warning', 'xenbr0 has STP on'),
  ];

  it('one comment line per finding: severity, id, message', () => {
    expect(renderFindingComments(findings, false)).toEqual([
      'doctor: error ARP001 ARP is off on xenbr0',
      'doctor: warning BR003 xenbr0 has STP on',
    ]);
  });

  it('with strict=yes and errors, a last line says start would stop', () => {
    expect(renderFindingComments(findings, true)).toEqual([
      'doctor: error ARP001 ARP is off on xenbr0',
      'doctor: warning BR003 xenbr0 has STP on',
      'doctor: strict=yes: doctor found 1 error(s); start would stop here',
    ]);
    expect(strictStop(findings, true)).toBe('strict=yes: doctor found 1 error(s)');
  });

  it('strict=yes without errors, or errors without strict=yes, does not stop', () => {
    expect(strictStop(findings.slice(1), true)).toBeUndefined();
    expect(strictStop(findings, false)).toBeUndefined();
    expect(renderFindingComments([], true)).toEqual([]);
  });
});
