/**
 * Slots for the cold path, opt-in: with XENPLAN_SLOTS=N (or `auto`: the number of CPUs, at
 * least 2) at most N vif events compile and run the application at once; the rest wait,
 * cheaply, until one ends.
 *
 * What it bounds, honestly: the phase after Node's own start (compiling the application, the
 * event's heap, its children): measured, about 6 MiB of a cold event's 44 MiB peak RSS. The
 * Node processes have started by then (their bootstrap is the rest); so it is off unless
 * asked for: waiting eats the event's 30 s, and the fix for memory under a boot storm is the
 * resident agent (one process, a bash launcher of 3 MiB per event).
 *
 * A slot is an abstract unix socket bound by the process (Linux): the kernel releases it when
 * the process dies, however it dies, so no pid file can go stale or name a reused pid. A
 * waiter connects to a taken slot and is woken when its holder exits (the kernel closes the
 * connection the holder accepted and kept); it never
 * waits past MAX_WAIT_MS (an event's deadline is 30 s) and then goes ahead without a slot.
 */

import { createConnection, createServer, type Server } from 'node:net';
import { availableParallelism, cpus } from 'node:os';

const MAX_WAIT_MS = 10_000;
/** A waiter also looks again this often, in case its wake-up was lost (a full backlog). */
const RETRY_MS = 250;

type Env = Readonly<Record<string, string | undefined>>;

/** How many slots, or 0 when there are none (unset, off, 0, or not a count). */
export function slotCount(env: Env): number {
  const value = env.XENPLAN_SLOTS;
  if (value !== undefined && /^[1-9][0-9]{0,3}$/.test(value)) return Number(value);
  if (value !== 'auto') return 0;
  const n = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  return Math.max(2, n);
}

/** The slot's name: one set of slots per run directory (as network-script's lock). */
export function slotName(env: Env, index: number): string {
  return `\0xenplan-slot:${env.XENPLAN_RUN_DIR || '/run/xenplan'}:${index}`;
}

/** Takes a slot (kept until the process exits), or gives up after MAX_WAIT_MS. */
export async function takeSlot(env: Env): Promise<void> {
  const count = slotCount(env);
  if (count === 0 || process.platform !== 'linux') return;
  const give = Date.now() + MAX_WAIT_MS;
  const first = process.pid % count;
  while (Date.now() < give) {
    for (let k = 0; k < count; k++) if (await bind(slotName(env, (first + k) % count))) return;
    await waitFor(slotName(env, first), Math.min(RETRY_MS, give - Date.now()));
  }
}

function bind(name: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    // Waiters' connections are held, not answered: the kernel closes them when we exit.
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.unref();
    });
    server.once('error', () => resolve(undefined));
    server.listen({ path: name, backlog: 128 }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/** Until the slot's holder goes (our queued connection is reset), or `ms`. */
function waitFor(name: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = createConnection({ path: name });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, Math.max(1, ms));
    socket.once('error', done);
    socket.once('close', done);
  });
}
