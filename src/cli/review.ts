/**
 * The doctor review `network-script start` runs before changing anything: the findings, the
 * strict=yes stop, and the comment lines a dry run prints them as.
 */
import type { DeclaredFacts } from '../config/declared.ts';
import { reviewNetwork } from '../doctor/review.ts';
import type { Finding } from '../model/finding.ts';
import type { HostState } from '../model/host.ts';
import type { NetworkDesired } from '../model/network.ts';
import { projectStart } from '../plan/project.ts';
import type { Context } from './context.ts';
import { gatherDoctorInput } from './doctor.ts';

/**
 * The doctor findings as dry-run comment lines: `doctor: SEVERITY ID MESSAGE`, one per finding,
 * then, with strict=yes and errors, the line saying start would stop there.
 */
export function renderFindingComments(findings: readonly Finding[], strict: boolean): string[] {
  const lines = findings.map((f) => `doctor: ${f.severity} ${f.id} ${f.message}`);
  const stop = strictStop(findings, strict);
  if (stop !== undefined) lines.push(`doctor: ${stop}; start would stop here`);
  return lines;
}

/** With strict=yes and any error finding, why start stops (else undefined). */
export function strictStop(findings: readonly Finding[], strict: boolean): string | undefined {
  const errors = findings.filter((f) => f.severity === 'error').length;
  return strict && errors > 0 ? `strict=yes: doctor found ${errors} error(s)` : undefined;
}

/** The doctor review start runs first: the settings, the host start observed, and the live facts. */
export async function reviewStart(
  ctx: Context,
  settings: { desired: NetworkDesired; declared: DeclaredFacts },
  host: HostState,
): Promise<Finding[]> {
  return reviewNetwork(
    await gatherDoctorInput(ctx, { ...settings, host: projectStart(host, settings.desired) }),
  );
}
