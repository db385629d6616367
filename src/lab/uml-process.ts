/** The host processes of a UML run: finding them by the run's work dir, and killing them. */
import { readdir, readFile } from 'node:fs/promises';
import { kill } from 'node:process';

/** Host processes whose command line mentions the work dir (UML and its helper processes). */
async function findRunProcesses(workDir: string): Promise<number[]> {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'latin1');
      if (cmdline.includes(`init=${workDir}/init.sh`)) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    kill(pid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Kills UML's process group and any straggler naming the work dir, until none is left. */
export async function killUmlRun(groupPid: number | undefined, workDir: string): Promise<number[]> {
  if (groupPid !== undefined) trySignal(-groupPid, 'SIGKILL');
  let left: number[] = [];
  for (let i = 0; i < 50; i++) {
    left = await findRunProcesses(workDir);
    if (left.length === 0) return left;
    for (const pid of left) trySignal(pid, 'SIGKILL');
    await sleep(100);
  }
  return left;
}
