import { spawn } from 'node:child_process';
import type { Runner, RunResult } from '../model/ports.ts';

/**
 * The one door to child processes: argv only, never a shell. Two engines behind it:
 *
 * - `execa` for admin commands (network-script, doctor, install), with a timeout and its
 *   child clean-up; it is loaded on first use.
 * - `spawn` (node:child_process) for the vif hot path, where every millisecond of a guest
 *   start counts: measured here, loading and using execa cost ~50 ms per event, more than
 *   the `ip -batch` it runs (see README, Performance).
 */
export interface RunnerOptions {
  /** The environment children get (the caller's), with LC_ALL=C and `path` laid over it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly path?: string;
  readonly engine?: 'execa' | 'spawn';
  /** Kill a command that runs longer (ms); default 60 s. */
  readonly timeoutMs?: number;
}

export function createRunner(options: RunnerOptions): Runner {
  const env = { ...options.env, LC_ALL: 'C', ...(options.path === undefined ? {} : { PATH: options.path }) };
  const timeoutMs = options.timeoutMs ?? 60_000;
  const run = options.engine === 'spawn' ? runWithSpawn : runWithExeca;
  return {
    run(argv, input, runOptions) {
      const [file, ...args] = argv;
      if (file === undefined) throw new Error('createRunner: empty argv');
      return run(file, args, input, env, Math.max(1, runOptions?.timeoutMs ?? timeoutMs));
    },
  };
}

type Engine = (
  file: string,
  args: string[],
  input: string | undefined,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
) => Promise<RunResult>;

const runWithExeca: Engine = async (file, args, input, env, timeoutMs) => {
  const { execa } = await import('execa');
  const result = await execa(file, args, {
    input: input ?? '',
    reject: false,
    shell: false,
    stripFinalNewline: false,
    extendEnv: false,
    env,
    timeout: timeoutMs,
  });
  if (result.exitCode === undefined) {
    // Not started (ENOENT, EACCES), timed out or killed by a signal.
    const why = result.timedOut
      ? `timed out after ${timeoutMs} ms`
      : result.signal
        ? `killed by ${result.signal}`
        : (result.originalMessage ?? result.shortMessage);
    return { exitCode: 127, stdout: String(result.stdout ?? ''), stderr: `${file}: ${why}` };
  }
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
};

const runWithSpawn: Engine = (file, args, input, env, timeoutMs) =>
  new Promise((resolve) => {
    const child = spawn(file, args, { env, shell: false, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failed: string | undefined;
    const timer = setTimeout(() => {
      failed = `timed out after ${timeoutMs} ms`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => undefined); // a command that exits without reading its input
    child.on('error', (error: NodeJS.ErrnoException) => {
      failed ??= error.code ?? error.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (failed !== undefined || code === null)
        resolve({ exitCode: 127, stdout, stderr: `${file}: ${failed ?? `killed by ${signal}`}` });
      else resolve({ exitCode: code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });

/** PATH for hotplug runs: udev and xend hand scripts a minimal one, without /sbin at times. */
export function hotplugPath(current: string | undefined): string {
  const base = (current ?? '').split(':').filter(Boolean);
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])
    if (!base.includes(dir)) base.push(dir);
  return base.join(':');
}
