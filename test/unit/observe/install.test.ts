import { describe, expect, it } from 'vitest';
import type { FileReader, Runner } from '../../../src/model/ports.ts';
import { observeAgentService } from '../../../src/observe/install.ts';

/** Files with only the directories named; a runner that records and answers one exit code. */
function host(dirs: string[], exitCode: number) {
  const calls: string[][] = [];
  const files: FileReader = {
    read: () => undefined,
    list: (path) => (dirs.includes(path) ? [] : undefined),
    readlink: () => undefined,
    exists: (path) => dirs.includes(path),
  };
  const runner: Runner = {
    run: async (argv) => {
      calls.push([...argv]);
      return { exitCode, stdout: '', stderr: '' };
    },
  };
  return { files, runner, calls };
}

describe('observeAgentService', () => {
  it('asks systemctl whether the agent is active, only where systemd runs', async () => {
    const active = host(['/run/systemd/system'], 0);
    expect(await observeAgentService(active.runner, active.files, '')).toEqual({ agentActive: true });
    expect(active.calls).toEqual([['systemctl', 'is-active', '--quiet', 'xenplan-agent.service']]);
    const inactive = host(['/run/systemd/system'], 3);
    expect(await observeAgentService(inactive.runner, inactive.files, '')).toEqual({ agentActive: false });
  });

  it('asks nothing without systemd, or for a tree under a prefix', async () => {
    const none = host([], 0);
    expect(await observeAgentService(none.runner, none.files, '')).toBeUndefined();
    const under = host(['/run/systemd/system'], 0);
    expect(await observeAgentService(under.runner, under.files, '/tmp/root')).toBeUndefined();
    expect([...none.calls, ...under.calls]).toEqual([]);
  });
});
