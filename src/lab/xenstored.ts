/**
 * An in-memory stand-in for xenstored on a unix socket, for tests, the lab and benchmarks: no
 * xenstored can run without Xen. It speaks the `xs_wire.h` protocol well enough for Debian's real
 * `xenstore-read`, `-write`, `-ls`, `-list`, `-rm`, `-exists` (pointed at it with XENSTORED_PATH) and for
 * our own client. Those tools send no handshake: a bare TRANSACTION_START (`""`), READ/WRITE/RM
 * with that tx_id, then TRANSACTION_END `T`; `xenstore-ls` walks with DIRECTORY and READ
 * (GET_PERMS with -p); libxenstore falls back to DIRECTORY_PART when DIRECTORY says E2BIG.
 *
 * Transactions work on a private copy of the tree taken at TRANSACTION_START and replay their
 * changes on the live tree at TRANSACTION_END "T" in one step (the server is single-threaded), so
 * concurrent transactions never conflict; `failTransactionEnds(n)` makes commits answer EAGAIN to
 * test clients' retries.
 *
 * Its parts: xenstore-tree.ts (the nodes, paths and changes), xenstore-request.ts (the answer
 * to each message type, transactions and watches).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { XenplanError } from '../model/error.ts';
import { encodeXsMessage, encodeXsStrings, XS, XsDecoder, type XsMessage } from '../xen/xs-wire.ts';
import { type Connection, handleXsRequest, type XenstoredState } from './xenstore-request.ts';
import { applyChange, listNodes, newNode, resolvePath, type XsClock, XsFailure } from './xenstore-tree.ts';

export interface XenstoredHandle {
  readonly socketPath: string;
  /** Every node but the root, path → value (UTF-8), sorted by path; directories have "". */
  tree(): Record<string, string>;
  /** Makes the next `count` TRANSACTION_END "T" answer EAGAIN (and discard the transaction). */
  failTransactionEnds(count: number): void;
  /** Number of requests handled so far, by message type. */
  requestCounts(): Record<number, number>;
  close(): Promise<void>;
}

/**
 * Starts the stand-in on `socketPath` (a stale socket file there is replaced), with `initial`
 * nodes (path → value; parents are created).
 */
export async function startXenstored(
  socketPath: string,
  initial: Record<string, string> = {},
): Promise<XenstoredHandle> {
  const clock: XsClock = { generation: 1 };
  const state: XenstoredState = {
    clock,
    root: newNode(['n0'], clock.generation),
    connections: new Set(),
    nextTxId: 1,
    transactionEndFailures: 0,
  };
  const counts: Record<number, number> = {};

  for (const [path, value] of Object.entries(initial)) {
    applyChange(clock, state.root, {
      op: 'write',
      path: resolvePath(path),
      value: Buffer.from(value, 'utf8'),
    });
  }

  const server = net.createServer((socket) => {
    const conn: Connection = { socket, transactions: new Map(), watches: [] };
    state.connections.add(conn);
    const decoder = new XsDecoder();
    socket.on('data', (chunk: Buffer) => {
      let messages: XsMessage[];
      try {
        messages = decoder.push(chunk);
      } catch {
        socket.destroy(); // an oversized message: xenstored drops such a connection
        return;
      }
      for (const message of messages) {
        counts[message.type] = (counts[message.type] ?? 0) + 1;
        let reply: Buffer;
        let type = message.type;
        try {
          reply = handleXsRequest(state, conn, message);
          if (message.type === XS.WATCH) continue;
        } catch (error) {
          if (!(error instanceof XsFailure)) throw error;
          type = XS.ERROR;
          reply = encodeXsStrings([error.errno]);
        }
        socket.write(encodeXsMessage(type, message.reqId, message.txId, reply));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => state.connections.delete(conn));
  });

  await removeStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // C xenstored listens with a backlog of 1 (listen(sock, 1) in xenstored_core.c): a boot
    // storm's clients meet a full queue there, so they meet one here too.
    server.listen({ path: socketPath, backlog: 1 }, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    socketPath,
    tree: () => listNodes(state.root),
    failTransactionEnds: (count) => {
      state.transactionEndFailures = count;
    },
    requestCounts: () => ({ ...counts }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const conn of state.connections) conn.socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const stat = await fs.promises.lstat(path);
    if (stat.isSocket()) await fs.promises.unlink(path);
  } catch {
    // nothing there
  }
}

function parseSeed(text: string, file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new XenplanError('config', `xenstored seed ${file}: not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new XenplanError('config', `xenstored seed ${file}: expected a JSON object of path → string value`);
  }
  const out: Record<string, string> = {};
  for (const [path, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') {
      throw new XenplanError(
        'config',
        `xenstored seed ${file}: value of ${path} is ${JSON.stringify(value)}, expected a string`,
      );
    }
    try {
      resolvePath(path);
    } catch {
      throw new XenplanError(
        'config',
        `xenstored seed ${file}: ${JSON.stringify(path)} is not a valid xenstore path`,
      );
    }
    out[path] = value;
  }
  return out;
}

/**
 * `xenplan xenstored --socket PATH [--seed FILE]`: runs the stand-in as its own process. Prints
 * `ready` once listening; on SIGTERM or SIGINT closes and removes the socket, then resolves.
 */
export async function runXenstoredMain(argv: readonly string[]): Promise<void> {
  let socketPath: string | undefined;
  let seedFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    if (flag !== '--socket' && flag !== '--seed') {
      throw new XenplanError(
        'usage',
        `xenstored: unknown argument ${JSON.stringify(arg)}, expected --socket PATH [--seed FILE]`,
      );
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '')
      throw new XenplanError('usage', `xenstored: ${flag} needs a value`);
    if (flag === '--socket') socketPath = value;
    else seedFile = value;
  }
  if (socketPath === undefined) throw new XenplanError('usage', 'xenstored: --socket PATH is required');
  let seed: Record<string, string> = {};
  if (seedFile !== undefined) {
    let text: string;
    try {
      text = await fs.promises.readFile(seedFile, 'utf8');
    } catch (error) {
      throw new XenplanError(
        'config',
        `xenstored seed ${seedFile}: ${(error as { code?: string }).code ?? String(error)}`,
      );
    }
    seed = parseSeed(text, seedFile);
  }
  const handle = await startXenstored(socketPath, seed);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await handle.close();
  await fs.promises.rm(socketPath, { force: true });
}
