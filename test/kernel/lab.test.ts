import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';
import { requireVm } from '../support/vm.ts';

// `npm start` runs `xenplan lab`: the admin's setup end to end on a real Xen host in QEMU.
// Each case is one boot; each checks that nothing is left behind afterwards.
const ok = requireVm('the lab tests');

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

/** The VM's work dir is gone, with no process or mount naming it, and its namespace is gone. */
function expectNothingLeft(stdout: string): void {
  const [, dir, netns] = /work dir (\/\S+), namespace (\S+) /.exec(stdout) ?? [];
  expect(dir).toMatch(/^\/var\/tmp\/xenplan-vm-/);
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
  expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(netns!);
}

describe.runIf(ok)('xenplan lab (npm start) on a real Xen host', () => {
  it('plays all seven stages green, runs commands in dom0 on --keep, and leaves nothing behind', async () => {
    const run = await lab(['--keep'], { input: 'cat /proc/net/bonding/bond0\nexit\n' });
    expect(run.stderr).toBe('');
    expect(run.status, run.stdout).toBe(0);
    for (const stage of [1, 2, 3, 4, 5, 6, 7]) expect(run.stdout).toContain(`[${stage}/7]`);
    expect(run.stdout.match(/ {2}PASS \(/g)).toHaveLength(7);
    expect(run.stdout).toMatch(
      /booting Xen 4\.17 in QEMU \((no \/dev\/kvm|\/dev\/kvm is kvm_pvm|the CPU shows|KVM)/,
    );
    // The bond modes reviewed, a real xl and netback, the pings, the failover, the shell.
    expect(run.stdout).toContain('BOND001 bond0 is in mode balance-rr under bridge xenbr0');
    expect(run.stdout).toContain('a second start plans 0 steps');
    expect(run.stdout).toContain('backend/vif/1/0/hotplug-status = connected');
    expect(run.stdout).toMatch(/guest1 pings 192\.0\.2\.22: \d+ answered in a row/);
    expect(run.stdout).toMatch(/guest2 pings 192\.0\.2\.21: \d+ answered in a row/);
    expect(run.stdout).toContain('eth0 carrier: 0; active slave after: eth1');
    expect(run.stdout).toContain('Each line you type runs as root in its dom0');
    // The shell ran in dom0: its command's output. Which slave is active then is a race: eth0's
    // cable went back in just before, and the bond returns to its primary as soon as e1000
    // reports carrier (the failover itself is checked above).
    expect(run.stdout).toContain('Bonding Mode: fault-tolerance (active-backup)');
    expect(run.stdout).toMatch(/Currently Active Slave: eth[01]\n/);
    // The missing bridge reaches xl at once, in vif-xenplan's words.
    expect(run.stdout).toContain('script: bridge xenbr9 does not exist; bridges here: xenbr0');
    expect(run.stdout).toMatch(/ 7 {2}pass +[0-9.]+ s {2}teardown/);
    expect(run.stdout).toMatch(/All stages passed in \d+ s; the VM is gone\./);
    expectNothingLeft(run.stdout);
  });

  it('a failing stage stops the lab, says which, and leaves nothing behind', async () => {
    const run = await lab(['--fail-at', '3']);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('FAIL: failure injected by --fail-at 3');
    expect(run.stdout).toMatch(/ 3 {2}FAIL/);
    expect(run.stdout).toMatch(/ 4 {2}not run/);
    expect(run.stdout).toContain('The lab failed; the VM is gone');
    expectNothingLeft(run.stdout);
  });

  it('Ctrl-C stops the VM at once and leaves nothing behind', async () => {
    const run = await lab([], { interruptWhen: /\[2\/7\]/ });
    expect(run.status).toBe(130);
    expect(run.stderr).toContain('xenplan lab: interrupted; stopping the VM');
    expectNothingLeft(run.stdout);
  });
});
