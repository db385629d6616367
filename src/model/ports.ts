/**
 * The doors to the outside world, as types only. Implementations live in `apply/exec.ts`
 * (commands) and `cli/` (files), and are passed in, so tests can swap them.
 */
export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Runner {
  /**
   * Runs argv[0] with the rest as arguments, no shell. Never throws for a non-zero exit.
   * `timeoutMs` overrides the runner's own limit (a hotplug event's time left).
   */
  run(argv: readonly string[], input?: string, options?: { readonly timeoutMs?: number }): Promise<RunResult>;
}

export interface FileReader {
  /** File contents, or undefined when it does not exist. */
  read(path: string): string | undefined;
  /** Directory entries, or undefined when it does not exist. */
  list(path: string): string[] | undefined;
  /** Target of a symlink, or undefined. */
  readlink(path: string): string | undefined;
  exists(path: string): boolean;
  /**
   * A settings file's text, read without blocking: `{ problem }` when it is not a regular file
   * (or /dev/null) of at most `maxBytes` of text. Fakes may leave it out: read() is used then.
   */
  readText?(path: string, maxBytes: number): { text: string } | { problem: string } | undefined;
}
