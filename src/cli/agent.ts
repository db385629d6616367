/**
 * `xenplan agent`: the resident fast path. One long-lived process keeps Node, the compiled
 * bundle and the planner warm; the launcher (bin/vif-xenplan) hands it each vif event over
 * TCP on 127.0.0.1 (bash reaches it with builtins alone) and prints what it answers. It
 * runs the very code of the cold path (runRole): the same parsing, planning, xenstore
 * writes, log lines and exit status.
 *
 * Who may ask: whoever reads $XENPLAN_RUN_DIR/agent (root only: the directory is 0700, the
 * file 0600), which holds the port and a random token the request must start with.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { createRunner, hotplugPath } from '../apply/exec.ts';
import { XenplanError } from '../model/error.ts';
import { type AgentRequest, MAX_REQUEST_BYTES, parseAgentRequest, replyLines } from './agent-request.ts';
import type { Context } from './context.ts';
import { roleOf } from './dispatch.ts';
import { runRole } from './run.ts';

export const AGENT_HELP = `Usage: xenplan agent

Runs the resident fast path for vif events: listens on 127.0.0.1 (a random port)
and writes the port and a token to $XENPLAN_RUN_DIR/agent (default
/run/xenplan/agent, root only). The launcher vif-xenplan hands events to it and
runs the bundle itself whenever the agent is absent, slow or dies mid-event.
Stops on SIGTERM or SIGINT, removing its file. Runs in the foreground (a systemd
service: see README, Performance).
`;

/**
 * Events run at once; the rest wait their turn. Each event has synchronous stretches (sysfs
 * reads, planning): a hundred at once would hold up the `ok` the launchers wait for (10 s)
 * and send them all to the cold path under a boot storm.
 */
const RUNNING_MAX = 8;
let running = 0;
const queue: (() => void)[] = [];

async function turn(): Promise<void> {
  if (running < RUNNING_MAX) {
    running += 1;
    return;
  }
  await new Promise<void>((resolve) => queue.push(resolve));
}

function done(): void {
  const next = queue.shift();
  if (next) next();
  else running -= 1;
}

export function agentFile(env: Context['env']): string {
  return join(env.XENPLAN_RUN_DIR || '/run/xenplan', 'agent');
}

export async function runAgent(ctx: Context, args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    ctx.out(AGENT_HELP);
    return 0;
  }
  if (args.length > 0)
    throw new XenplanError('usage', `agent takes no arguments, not ${JSON.stringify(args[0])}`);
  const file = agentFile(ctx.env);
  const token = randomBytes(24).toString('hex');
  const server = createServer((socket) => serve(socket, token, ctx));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new XenplanError('bug', 'agent: no TCP address');
  publish(file, `${address.port} ${token}\n`);
  ctx.err(`xenplan agent: listening on 127.0.0.1:${address.port} (${file})\n`);
  // One event's bug must not end the service of every other: say it, keep serving.
  process.on('uncaughtException', (error) => ctx.err(`xenplan agent: ${error.stack ?? error}\n`));
  await new Promise<void>((resolve) => {
    const stop = () => {
      unpublish(file, token);
      server.close();
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}

/** Written whole (a temporary file renamed over), root only. */
function publish(file: string, text: string): void {
  const dir = join(file, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, file);
}

/** Removed only while it still names this agent (a newer one may have replaced it). */
function unpublish(file: string, token: string): void {
  try {
    if (readFileSync(file, 'utf8').includes(token)) unlinkSync(file);
  } catch {}
}

function serve(socket: Socket, token: string, base: Context): void {
  let received = '';
  let taken = false;
  socket.setEncoding('utf8');
  socket.on('error', () => undefined); // a launcher that gave up: nothing to tell it
  socket.on('data', (chunk: string) => {
    if (taken) return;
    received += chunk;
    if (received.length > MAX_REQUEST_BYTES) {
      socket.destroy();
      return;
    }
    if (!/(^|\n)end\n/.test(received)) return;
    taken = true;
    let request: AgentRequest;
    try {
      request = parseAgentRequest(received, Date.now());
    } catch {
      socket.destroy();
      return;
    }
    if (!sameToken(request.token, token) || roleOf(request.as) !== 'vif') {
      socket.destroy();
      return;
    }
    socket.write('ok\n');
    void (async () => {
      await turn();
      try {
        // A launcher that stopped waiting runs the event itself: never both.
        if (socket.readyState !== 'open') return;
        socket.end(await runEvent(base, request));
      } finally {
        done();
      }
    })();
  });
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One event, as the cold path runs it, with the launcher's environment; the reply text. */
async function runEvent(base: Context, request: AgentRequest): Promise<string> {
  const parts: string[] = [];
  const env = request.env;
  const ctx: Context = {
    argv: request.argv,
    env,
    runner: createRunner({ env, path: hotplugPath(env.PATH), engine: 'spawn' }),
    files: base.files,
    out: (text) => parts.push(replyLines(1, text)),
    err: (text) => parts.push(replyLines(2, text)),
    ...(request.startedAt === undefined ? {} : { startedAt: request.startedAt }),
  };
  const code = await runRole(ctx, 'vif', request.as);
  return `${parts.join('')}exit ${code}\n`;
}
