import { execFileSync } from 'node:child_process';

/**
 * Whether this process can make network namespaces. On a developer's machine without root a
 * test may skip with a visible reason; in CI (CI=true) it must fail instead.
 */
export function requireNetns(): { ok: true } | { ok: false; reason: string } {
  const reason = netnsProblem();
  if (reason === undefined) return { ok: true };
  if (process.env.CI) throw new Error(`CI needs network namespaces: ${reason}`);
  console.warn(`skipping: ${reason}`);
  return { ok: false, reason };
}

let cached: string | undefined | null = null;

function netnsProblem(): string | undefined {
  if (cached !== null) return cached;
  if (process.getuid?.() !== 0) cached = 'not root: namespace tests need root (CAP_NET_ADMIN)';
  else {
    try {
      execFileSync('ip', ['-V'], { stdio: 'ignore' });
      cached = undefined;
    } catch {
      cached = 'ip (iproute2) is not installed';
    }
  }
  return cached;
}

/** A command must exist; in CI its absence fails the test. */
export function requireCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI) throw new Error(`CI needs ${name} on PATH`);
    console.warn(`skipping: ${name} is not installed`);
    return false;
  }
}
