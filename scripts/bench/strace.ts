// Reads `strace -f -qq -e trace=execve -o FILE` output: the programs an event exec'd.

export interface Execs {
  readonly count: number;
  readonly processes: number;
  readonly programs: readonly string[];
}

/**
 * Successful execve calls (and the processes that made them), in order, by program path. With
 * -f a call can be split into an `<unfinished ...>` line and a `<... execve resumed>` line of
 * the same pid; only the resumed line carries the result, so the path is remembered per pid.
 */
export function countExecs(text: string): Execs {
  const pending = new Map<string, string>();
  const programs: string[] = [];
  const pids = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^(?:\[pid\s+)?(\d+)\]?\s+(.*)$/.exec(line);
    const pid = match?.[1] ?? '';
    const rest = match?.[2] ?? line;
    const call = /^execve\("((?:[^"\\]|\\.)*)"/.exec(rest);
    if (call) {
      if (rest.endsWith('<unfinished ...>')) pending.set(pid, call[1]!);
      else if (/\) = 0$/.test(rest)) {
        programs.push(call[1]!);
        pids.add(pid);
      }
      continue;
    }
    if (/^<\.\.\. execve resumed>/.test(rest)) {
      const path = pending.get(pid);
      pending.delete(pid);
      if (/ = 0$/.test(rest) && path !== undefined) {
        programs.push(path);
        pids.add(pid);
      }
    }
  }
  // A process that execs twice (a #! line through env, say) is one process.
  return { count: programs.length, processes: pids.size, programs };
}

/** "name xN, ..." most frequent first (then by first appearance). */
export function summarizeExecs(programs: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const path of programs) {
    const name = path.split('/').pop() ?? path;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => (n > 1 ? `${name} x${n}` : name))
    .join(', ');
}
