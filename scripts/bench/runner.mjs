// Runs commands for scripts/bench.mjs from inside the bench's dom0 namespace, one at a time,
// and times each from spawn to exit. Living in the namespace (started once through
// `ip netns exec`), it keeps `ip netns exec`'s own start-up out of every measurement: what is
// timed is the script's process tree alone, plus Node's spawnSync, the same for both sides.
//
// Protocol: one JSON request per stdin line, {id, argv, env}; one JSON reply per stdout line,
// {id, status, signal, ms, stdout, stderr, error}. Exits when stdin closes.
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  const { id, argv, env } = JSON.parse(line);
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const reply = {
    id,
    status: result.status,
    signal: result.signal,
    ms,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    error: result.error ? String(result.error.message) : undefined,
  };
  process.stdout.write(`${JSON.stringify(reply)}\n`);
});
lines.on('close', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
