import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { umlAvailable } from '../support/uml.ts';

// `npm start` runs `xenplan lab`: the admin's setup end to end in a User-mode Linux sandbox.
// Each case is one boot; each checks that nothing is left behind afterwards.
const uml = umlAvailable();
if (!uml.ok) {
  if (process.env.CI) throw new Error(`CI needs User-mode Linux: ${uml.reason}`);
  console.warn(`skipping: ${uml.reason}`);
}

interface LabRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bundle as `xenplan lab ARGS`; `interruptWhen` sends SIGINT once stdout matches it. */
function lab(args: string[], options: { input?: string; interruptWhen?: RegExp } = {}): Promise<LabRun> {
  const scripts = new Scripts();
  return new Promise((resolve) => {
    const child = spawn(scripts.path('xenplan'), ['lab', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.interruptWhen?.test(stdout)) {
        options.interruptWhen = undefined;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.end(options.input ?? '');
    child.on('close', (status) => {
      scripts.remove();
      resolve({ status, stdout, stderr });
    });
  });
}

/** The sandbox's work dir is gone, with no process or mount naming it. */
function expectNothingLeft(stdout: string): void {
  const dir = /\(sandbox work dir (\/[^)]+)\)/.exec(stdout)?.[1];
  expect(dir).toMatch(/^\/var\/tmp\/xenplan-uml-/);
  expect(existsSync(dir!)).toBe(false);
  const holders = readdirSync('/proc')
    .filter((pid) => /^[0-9]+$/.test(pid))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir!);
      } catch {
        return false;
      }
    });
  expect(holders).toEqual([]);
  expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir!);
}

describe.runIf(uml.ok)('xenplan lab (npm start)', () => {
  it('plays all six stages green, with a shell in the sandbox on --keep, and leaves nothing behind', async () => {
    const run = await lab(['--keep'], { input: 'cat /proc/net/bonding/bond0\nexit\n' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    for (const stage of [1, 2, 3, 4, 5, 6]) expect(run.stdout).toContain(`[${stage}/6]`);
    expect(run.stdout.match(/ {2}PASS \(/g)).toHaveLength(6);
    // The bond modes reviewed, the pings, the failover, the shell.
    expect(run.stdout).toContain('BOND001 bond0 is in mode balance-rr under bridge xenbr0');
    expect(run.stdout).toContain('bond-mode=active-backup');
    expect(run.stdout).toContain('ping 192.0.2.1 from g1: 3 received');
    expect(run.stdout).toContain('active slave after:  eth1');
    expect(run.stdout).toContain('Type exit (or Ctrl-D) to go on with the teardown');
    expect(run.stdout).toContain('Currently Active Slave: eth1');
    expect(run.stdout).toMatch(/ 6 {2}pass +[0-9.]+ s {2}teardown/);
    expect(run.stdout).toContain('All stages passed; the sandbox is gone.');
    expectNothingLeft(run.stdout);
  }, 400_000);

  it('a failing stage stops the lab, says which, and leaves nothing behind', async () => {
    const run = await lab(['--fail-at', '3']);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('FAIL: failure injected by --fail-at 3');
    expect(run.stdout).toMatch(/ 3 {2}FAIL/);
    expect(run.stdout).toMatch(/ 4 {2}not run/);
    expect(run.stdout).toContain('The lab failed; the sandbox is gone.');
    expectNothingLeft(run.stdout);
  }, 300_000);

  it('Ctrl-C stops the sandbox at once and leaves nothing behind', async () => {
    const run = await lab([], { interruptWhen: /\[2\/6\]/ });
    expect(run.status).toBe(130);
    expect(run.stderr).toContain('xenplan lab: interrupted; stopping the sandbox');
    expectNothingLeft(run.stdout);
  }, 300_000);
});
