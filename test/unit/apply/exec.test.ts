import { describe, expect, it } from 'vitest';
import { createRunner } from '../../../src/apply/exec.ts';

// Both engines behind the one door behave the same: argv without a shell, stdin, exit codes.
describe.each(['spawn', 'execa'] as const)('createRunner engine %s', (engine) => {
  const runner = createRunner({ env: process.env, engine, timeoutMs: 2000 });

  it('passes argv verbatim, with no shell in between', async () => {
    const result = await runner.run(['printf', '%s|', '$(id)', 'a b', "it's"]);
    expect(result).toEqual({ exitCode: 0, stdout: "$(id)|a b|it's|", stderr: '' });
  });

  it('feeds input on stdin and returns the exit code and stderr', async () => {
    const result = await runner.run(['sh', '-c', 'cat; echo oops >&2; exit 3'], 'line\n');
    expect(result).toEqual({ exitCode: 3, stdout: 'line\n', stderr: 'oops\n' });
  });

  it('reports a missing program as exit 127 naming it', async () => {
    const result = await runner.run(['/nonexistent/xenplan-tool']);
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toMatch(/^\/nonexistent\/xenplan-tool: .*ENOENT/);
  });

  it('kills a command that outlives the timeout', async () => {
    const result = await runner.run(['sleep', '10']);
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toBe('sleep: timed out after 2000 ms');
  });
});
