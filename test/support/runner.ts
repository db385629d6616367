import type { Runner, RunResult } from '../../src/model/ports.ts';

/** A fake Runner: records every call, answers from a function (default: success, no output). */
export class FakeRunner implements Runner {
  readonly calls: { argv: string[]; input: string | undefined }[] = [];

  constructor(private readonly answer: (argv: string[], input?: string) => Partial<RunResult> = () => ({})) {}

  async run(argv: readonly string[], input?: string): Promise<RunResult> {
    this.calls.push({ argv: [...argv], input });
    const r = this.answer([...argv], input);
    return { exitCode: r.exitCode ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }
}
