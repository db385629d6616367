/** A doctor finding: one rule that fired, about named objects. */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  readonly id: string;
  readonly severity: Severity;
  readonly message: string;
  readonly fix: string;
  readonly source: string;
  readonly objects: readonly string[];
}
