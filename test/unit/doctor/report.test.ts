import { describe, expect, it } from 'vitest';
import { renderFindings } from '../../../src/doctor/report.ts';
import type { Finding } from '../../../src/model/finding.ts';

const finding = (id: string, severity: Finding['severity']): Finding => ({
  id,
  severity,
  message: `${id} message`,
  fix: `${id} fix`,
  source: `${id} source`,
  objects: [],
});

describe('renderFindings', () => {
  it('groups by severity with fix and source lines and ends with a count', () => {
    const text = renderFindings([
      finding('BOND001', 'error'),
      finding('ARP002', 'warning'),
      finding('BR004', 'info'),
    ]);
    expect(text).toBe(
      [
        'Errors:',
        '  BOND001 BOND001 message',
        '    fix: BOND001 fix',
        '    source: BOND001 source',
        '',
        'Warnings:',
        '  ARP002 ARP002 message',
        '    fix: ARP002 fix',
        '    source: ARP002 source',
        '',
        'Info:',
        '  BR004 BR004 message',
        '    fix: BR004 fix',
        '    source: BR004 source',
        '',
        '1 error, 1 warning, 1 info.',
        '',
      ].join('\n'),
    );
  });

  it('says so when there is nothing to report', () => {
    expect(renderFindings([])).toBe('No problems found.\n');
  });

  it('pluralises and skips empty groups', () => {
    const text = renderFindings([finding('BOND001', 'error'), finding('BOND002', 'error')]);
    expect(text.startsWith('Errors:\n')).toBe(true);
    expect(text).not.toContain('Warnings:');
    expect(text.endsWith('\n2 errors, 0 warnings, 0 info.\n')).toBe(true);
  });
});
