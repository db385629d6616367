import type { Finding, Severity } from '../model/finding.ts';

const SECTIONS: ReadonlyArray<readonly [Severity, string]> = [
  ['error', 'Errors'],
  ['warning', 'Warnings'],
  ['info', 'Info'],
];

/**
 * A readable report: findings grouped by severity (errors, warnings, info), each with its
 * message and "fix:" and "source:" lines, ending with a one-line count.
 */
export function renderFindings(findings: readonly Finding[]): string {
  const lines: string[] = [];
  for (const [severity, title] of SECTIONS) {
    const group = findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    if (lines.length > 0) lines.push('');
    lines.push(`${title}:`);
    for (const f of group) {
      lines.push(`  ${f.id} ${f.message}`, `    fix: ${f.fix}`, `    source: ${f.source}`);
    }
  }
  if (lines.length > 0) lines.push('');
  lines.push(countLine(findings));
  return `${lines.join('\n')}\n`;
}

function countLine(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'No problems found.';
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  return `${plural(count('error'), 'error')}, ${plural(count('warning'), 'warning')}, ${count('info')} info.`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
