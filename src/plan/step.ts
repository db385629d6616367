import type { Phase, Step } from '../model/plan.ts';
import type { Argv } from './command.ts';

export function makeStep(id: string, phase: Phase, argv: Argv, reason: string, disruptive = false): Step {
  return { id, phase, argv: [...argv], reason, disruptive };
}

/** A step whose command reads `input` on stdin (nft -f -). */
export function makeInputStep(id: string, phase: Phase, argv: Argv, input: string, reason: string): Step {
  return { id, phase, argv: [...argv], reason, disruptive: false, input };
}
