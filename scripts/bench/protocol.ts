// What the bench (lab.ts) asks its runner inside the dom0 namespace (runner.ts), and the answers.

/** One command, timed from spawn to exit; CPU of its tree plus of `cpuPids` (the agent). */
export interface RunRequest {
  readonly id: number;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cpuPids?: readonly number[];
}

export interface RunReply {
  readonly id: number;
  readonly status: number | null;
  readonly signal: string | null;
  readonly ms: number;
  /** User+system CPU of the command's waited-for tree and of cpuPids, in ms (10 ms ticks). */
  readonly cpuMs: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: string;
}

/** Many commands at once; wall time until the last exits, peak PSS summed over the tree. */
export interface StormRequest {
  readonly id: number;
  readonly storm: readonly (readonly string[])[];
  readonly env: Readonly<Record<string, string>>;
  /** Processes outside the tree that work for it (the agent): their PSS counts too. */
  readonly pssPids?: readonly number[];
}

export interface StormReply {
  readonly id: number;
  readonly ms: number;
  readonly statuses: readonly (number | null)[];
  readonly stderr: readonly string[];
  /** Largest sum of PSS (KiB) seen over the runner's descendants and pssPids, sampled every 100 ms. */
  readonly peakPssKiB: number;
  /** Most of those processes alive at one sample. */
  readonly peakProcesses: number;
  /** Most Node processes (comm "node", the agent excluded) alive at one sample. */
  readonly peakNodes: number;
}
