import { createRunner, hotplugPath } from '../apply/exec.ts';
import { realFiles } from '../observe/files.ts';
import { launcherStart } from './agent-request.ts';
import type { Context } from './context.ts';
import { roleOf } from './dispatch.ts';
import type { Role } from './exit.ts';
import { runRole } from './run.ts';

/**
 * The bundle's entry: decide the role from the invoked name, run it, map the outcome to an
 * exit code. The only module that reads process state.
 */
async function main(): Promise<void> {
  const invokedAs = process.env.XENPLAN_AS ?? process.argv[1] ?? 'xenplan';
  // The launcher's clock, when it waited for a slot before starting us: the event's deadline
  // counts that wait (bin/vif-xenplan).
  const startedAt = launcherStart(process.env.XENPLAN_STARTED ?? '', Date.now());
  // The bin/ launchers name the role here; children (the lab's own scripts) must choose theirs.
  delete process.env.XENPLAN_AS;
  delete process.env.XENPLAN_STARTED;
  const role: Role = roleOf(invokedAs);
  const ctx: Context = {
    argv: process.argv.slice(2),
    env: process.env,
    runner: createRunner({
      env: process.env,
      path: hotplugPath(process.env.PATH),
      engine: role === 'vif' ? 'spawn' : 'execa',
    }),
    files: realFiles,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    ...(startedAt === undefined ? {} : { startedAt }),
  };
  process.exitCode = await runRole(ctx, role, invokedAs);
}

void main();
