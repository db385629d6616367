import type { DoctorInput } from '../model/doctor.ts';
import type { Finding, Severity } from '../model/finding.ts';
import { collectFacts } from './facts.ts';
import { RULES } from './rules.ts';

const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2 };

/** Runs every rule over input; findings sorted by severity (errors first), then id, then objects. */
export function reviewNetwork(input: DoctorInput): Finding[] {
  const facts = collectFacts(input);
  return sortFindings(RULES.flatMap((rule) => rule.check(facts)));
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      compare(a.id, b.id) ||
      compare(a.objects.join(' '), b.objects.join(' ')) ||
      compare(a.message, b.message),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
