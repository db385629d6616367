import type { Finding, Severity } from '../model/finding.ts';
import type { Facts } from './facts.ts';

/** One doctor rule: a stable id and name, and a pure check over the collected facts. */
export interface Rule {
  /** Stable id, e.g. `BOND001`. */
  readonly id: string;
  /** Stable kebab-case name, e.g. `rr-under-bridge`. */
  readonly name: string;
  /** One line for `--help`. */
  readonly summary: string;
  /** The usual severity; a few rules raise or lower it for some conditions (the summary says so). */
  readonly severity: Severity;
  readonly check: (facts: Facts) => Finding[];
}

/** Builds a finding of rule, with its severity unless told otherwise. */
export function makeFinding(
  rule: Pick<Rule, 'id' | 'severity'>,
  parts: {
    message: string;
    fix: string;
    source: string;
    objects: readonly string[];
    severity?: Severity;
  },
): Finding {
  return {
    id: rule.id,
    severity: parts.severity ?? rule.severity,
    message: parts.message,
    fix: parts.fix,
    source: parts.source,
    objects: [...parts.objects],
  };
}

/** `a`, `a and b`, `a, b and c`. */
export function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
