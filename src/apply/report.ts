/**
 * The one JSON contract (`--json`): every command prints one object with the schema version,
 * the command, whether it succeeded and whether it changed the host, then its payload as
 * records (steps with their ids, findings, drift), never prose alone. The schema is written
 * down in schema/xenplan-1.schema.json. Pure.
 */
import type { ErrorKind } from '../model/error.ts';
import type { Finding } from '../model/finding.ts';
import type { Plan, Step } from '../model/plan.ts';

export const SCHEMA_VERSION = 'xenplan/1';

export interface ReportHead {
  /** `network start`, `vif online`, `doctor`, `install`, … */
  readonly command: string;
  readonly ok: boolean;
  /** True when the host was changed (never for a dry-run); null after a failure (unknown). */
  readonly changed: boolean | null;
  readonly dryRun: boolean;
}

/** A step as a record: the same fields dry-run shows and apply runs. */
function stepRecord(step: Step): Record<string, unknown> {
  return {
    id: step.id,
    phase: step.phase,
    argv: [...step.argv],
    reason: step.reason,
    disruptive: step.disruptive,
    ...(step.input === undefined ? {} : { input: step.input }),
  };
}

export function findingRecord(f: Finding): Record<string, unknown> {
  return {
    id: f.id,
    severity: f.severity,
    message: f.message,
    fix: f.fix,
    source: f.source,
    objects: [...f.objects],
  };
}

/** Any report: the head, then the payload keys. */
export function renderReport(head: ReportHead, payload: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ schema: SCHEMA_VERSION, ...head, ...payload }, null, 2)}\n`;
}

/** A plan's report: the steps planned (dry-run) or applied, warnings, xenstore writes. */
export function planPayload(plan: Plan, findings?: readonly Finding[]): Record<string, unknown> {
  return {
    steps: plan.steps.map(stepRecord),
    warnings: [...plan.warnings],
    xenstore: plan.xenstore.map((w) => ({ path: w.path, value: w.value, reason: w.reason })),
    ...(findings === undefined ? {} : { findings: findings.map(findingRecord) }),
  };
}

/** Drift as records: the steps that would converge the host, with their ids. */
export function driftPayload(plan: Plan): Record<string, unknown>[] {
  return plan.steps.map(stepRecord);
}

/** A failure as a report: what kind, the sentence, the step that failed when there is one. */
export function renderErrorReport(
  command: string,
  error: { kind: ErrorKind; message: string; detail?: string | undefined; stepId?: string | undefined },
): string {
  return renderReport(
    { command, ok: false, changed: null, dryRun: false },
    {
      error: {
        kind: error.kind,
        message: error.message,
        ...(error.detail === undefined ? {} : { detail: error.detail }),
        ...(error.stepId === undefined ? {} : { step: error.stepId }),
      },
    },
  );
}
