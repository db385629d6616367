// Runs commands for the bench from inside its dom0 namespace and times each from spawn to
// exit. Living in the namespace (started once through `ip netns exec`), it keeps `ip netns
// exec`'s own start-up out of every measurement. One JSON request per stdin line
// (protocol.ts), one JSON reply per stdout line; exits when stdin closes.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { RunReply, RunRequest, StormReply, StormRequest } from './protocol.ts';

const TICK_MS = 10; // USER_HZ = 100

/** utime+stime (+ cutime+cstime: waited-for children) of a pid, in ms. */
function cpuOf(pid: number | 'self', children: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(f[11]) + Number(f[12]);
    return (children ? Number(f[13]) + Number(f[14]) : own) * TICK_MS;
  } catch {
    return 0;
  }
}

function run(request: RunRequest): RunReply {
  const extra = request.cpuPids ?? [];
  const cpu0 = cpuOf('self', true) + extra.reduce((a, p) => a + cpuOf(p, false), 0);
  const start = process.hrtime.bigint();
  const result = spawnSync(request.argv[0]!, request.argv.slice(1), {
    env: request.env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu1 = cpuOf('self', true) + extra.reduce((a, p) => a + cpuOf(p, false), 0);
  return {
    id: request.id,
    status: result.status,
    signal: result.signal,
    ms,
    cpuMs: cpu1 - cpu0,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    ...(result.error ? { error: result.error.message } : {}),
  };
}

/** The runner's descendants (by parent pid), plus `extra`. */
function tree(extra: readonly number[]): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  const mine = new Set<number>([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent)
      if (!mine.has(pid) && mine.has(ppid)) {
        mine.add(pid);
        grew = true;
      }
  }
  mine.delete(process.pid);
  return [...mine, ...extra];
}

function pssKiB(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * A Node process holding memory. One that is exiting has given its memory back before the
 * kernel frees its files (and so its slot): counted, it would show a slot's handover as one
 * Node too many.
 */
function isNode(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (comm !== 'node' || stat[stat.lastIndexOf(')') + 2] === 'Z') return false;
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) > 0;
  } catch {
    return false;
  }
}

async function storm(request: StormRequest): Promise<StormReply> {
  let peakPssKiB = 0;
  let peakProcesses = 0;
  let peakNodes = 0;
  const sample = () => {
    const pids = tree(request.pssPids ?? []);
    peakProcesses = Math.max(peakProcesses, pids.length - (request.pssPids?.length ?? 0));
    // The slots bound these: the Node processes of cold events (the agent is no child).
    peakNodes = Math.max(peakNodes, tree([]).filter(isNode).length);
    peakPssKiB = Math.max(
      peakPssKiB,
      pids.reduce((a, p) => a + pssKiB(p), 0),
    );
  };
  const start = process.hrtime.bigint();
  const runs = request.storm.map(
    (argv) =>
      new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(argv[0]!, argv.slice(1), {
          env: request.env,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
        });
        child.on('error', (e) => resolve({ status: null, stderr: e.message }));
        child.on('close', (status) => resolve({ status, stderr }));
      }),
  );
  const timer = setInterval(sample, 100);
  sample();
  const results = await Promise.all(runs);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  clearInterval(timer);
  return {
    id: request.id,
    ms,
    statuses: results.map((r) => r.status),
    stderr: results.map((r) => r.stderr),
    peakPssKiB,
    peakProcesses,
    peakNodes,
  };
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  const request = JSON.parse(line) as RunRequest | StormRequest;
  if ('storm' in request) void storm(request).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
  else process.stdout.write(`${JSON.stringify(run(request))}\n`);
});
lines.on('close', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
