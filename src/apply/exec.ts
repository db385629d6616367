import type { Runner, RunResult } from '../model/ports.ts';

/**
 * The one door to child processes: execa, argv only, never a shell. execa is loaded on first
 * use so commands that never spawn pay nothing for it.
 */
export function createRunner(options: { path?: string } = {}): Runner {
  return {
    async run(argv: readonly string[], input?: string): Promise<RunResult> {
      const [file, ...args] = argv;
      if (file === undefined) throw new Error('createRunner: empty argv');
      const { execa } = await import('execa');
      const result = await execa(file, args, {
        input: input ?? '',
        reject: false,
        shell: false,
        stripFinalNewline: false,
        env: { LC_ALL: 'C', ...(options.path === undefined ? {} : { PATH: options.path }) },
      });
      if (result.exitCode === undefined) {
        // Not started (ENOENT, EACCES) or killed by a signal.
        const why = result.signal
          ? `killed by ${result.signal}`
          : (result.originalMessage ?? result.shortMessage);
        return { exitCode: 127, stdout: String(result.stdout ?? ''), stderr: `${file}: ${why}` };
      }
      return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
    },
  };
}

/** PATH for hotplug runs: udev and xend hand scripts a minimal one. */
export function hotplugPath(current: string | undefined): string {
  const base = (current ?? '').split(':').filter(Boolean);
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])
    if (!base.includes(dir)) base.push(dir);
  return base.join(':');
}
