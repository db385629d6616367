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
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { XenplanError } from '../model/error.ts';
import {
  encodeXsMessage,
  splitXsStrings,
  XS,
  XS_PAYLOAD_MAX,
  XsDecoder,
  type XsMessage,
} from '../xen/xs-wire.ts';

const DOM0_HOME = '/local/domain/0';
/** XENSTORE_ABS_PATH_MAX */
const ABS_PATH_MAX = 3072;
const VALID_PATH = /^[A-Za-z0-9/_@-]+$/;
const VALID_PERM = /^[nrwb][0-9]+$/;

interface XsNode {
  value: Buffer;
  perms: string[];
  children: Map<string, XsNode>;
  generation: number;
}

type Change =
  | { readonly op: 'write'; readonly path: string; readonly value: Buffer }
  | { readonly op: 'mkdir'; readonly path: string }
  | { readonly op: 'rm'; readonly path: string }
  | { readonly op: 'setperms'; readonly path: string; readonly perms: string[] };

interface Transaction {
  readonly root: XsNode;
  readonly changes: Change[];
}

interface Watch {
  /** Absolute path, or a special `@name`. */
  readonly path: string;
  readonly token: string;
  /** Registered with a relative path: events name paths relative to dom0's home. */
  readonly relative: boolean;
}

interface Connection {
  readonly socket: net.Socket;
  readonly transactions: Map<number, Transaction>;
  readonly watches: Watch[];
}

/** A failed request: the errno name sent back in XS_ERROR. */
class XsFailure extends Error {
  constructor(readonly errno: string) {
    super(errno);
  }
}

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

function newNode(perms: string[], generation: number): XsNode {
  return { value: Buffer.alloc(0), perms: [...perms], children: new Map(), generation };
}

function cloneNode(node: XsNode): XsNode {
  const children = new Map<string, XsNode>();
  for (const [name, child] of node.children) children.set(name, cloneNode(child));
  return { value: node.value, perms: [...node.perms], children, generation: node.generation };
}

/** Resolves a request path: relative paths are under `/local/domain/0`. Throws EINVAL on a malformed one. */
function resolvePath(raw: string | undefined): string {
  if (raw === undefined || raw === '') throw new XsFailure('EINVAL');
  const path = raw.startsWith('/') ? raw : `${DOM0_HOME}/${raw}`;
  if (
    path.length > ABS_PATH_MAX ||
    !VALID_PATH.test(path) ||
    path.includes('//') ||
    (path.length > 1 && path.endsWith('/'))
  ) {
    throw new XsFailure('EINVAL');
  }
  return path;
}

function segmentsOf(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

function lookup(root: XsNode, path: string): XsNode | undefined {
  let node: XsNode | undefined = root;
  for (const segment of segmentsOf(path)) {
    node = node.children.get(segment);
    if (node === undefined) return undefined;
  }
  return node;
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

function isUnder(path: string, ancestor: string): boolean {
  return ancestor === '/' || path === ancestor || path.startsWith(`${ancestor}/`);
}

function strings(...parts: string[]): Buffer {
  return Buffer.from(parts.map((part) => `${part}\0`).join(''), 'utf8');
}

const OK = strings('OK');

/**
 * Starts the stand-in on `socketPath` (a stale socket file there is replaced), with `initial`
 * nodes (path → value; parents are created).
 */
export async function startXenstored(
  socketPath: string,
  initial: Record<string, string> = {},
): Promise<XenstoredHandle> {
  let generation = 1;
  const root = newNode(['n0'], generation);
  const connections = new Set<Connection>();
  const counts: Record<number, number> = {};
  let transactionEndFailures = 0;
  let nextTxId = 1;

  /** Creates the node and missing parents (children inherit the parent's permissions). */
  const ensure = (tree: XsNode, path: string): { node: XsNode; created: boolean } => {
    let node = tree;
    let created = false;
    for (const segment of segmentsOf(path)) {
      let child = node.children.get(segment);
      if (child === undefined) {
        generation++;
        child = newNode(node.perms, generation);
        node.children.set(segment, child);
        node.generation = generation;
        created = true;
      }
      node = child;
    }
    return { node, created };
  };

  /** Applies one change to `tree`; returns whether anything changed (for watches) or throws an XsFailure. */
  const apply = (tree: XsNode, change: Change): boolean => {
    switch (change.op) {
      case 'write': {
        const { node } = ensure(tree, change.path);
        node.value = change.value;
        return true;
      }
      case 'mkdir':
        return ensure(tree, change.path).created;
      case 'rm': {
        if (change.path === '/') throw new XsFailure('EINVAL');
        const parent = lookup(tree, parentOf(change.path));
        if (parent === undefined) throw new XsFailure('ENOENT');
        const name = change.path.slice(change.path.lastIndexOf('/') + 1);
        if (!parent.children.delete(name)) return false; // gone already: fine when the parent exists
        generation++;
        parent.generation = generation;
        return true;
      }
      case 'setperms': {
        const node = lookup(tree, change.path);
        if (node === undefined) throw new XsFailure('ENOENT');
        node.perms = [...change.perms];
        return true;
      }
    }
  };

  const sendEvent = (conn: Connection, watch: Watch, path: string): void => {
    const shown =
      watch.relative && path.startsWith(`${DOM0_HOME}/`) ? path.slice(DOM0_HOME.length + 1) : path;
    if (!conn.socket.destroyed)
      conn.socket.write(encodeXsMessage(XS.WATCH_EVENT, 0, 0, strings(shown, watch.token)));
  };

  const fireWatches = (change: Change): void => {
    for (const conn of connections) {
      for (const watch of conn.watches) {
        if (watch.path.startsWith('@')) continue;
        if (isUnder(change.path, watch.path)) sendEvent(conn, watch, change.path);
        else if (change.op === 'rm' && isUnder(watch.path, change.path)) sendEvent(conn, watch, watch.path);
      }
    }
  };

  /** Performs a change on the live tree (firing watches) or records it in the transaction. */
  const change = (tx: Transaction | undefined, what: Change): void => {
    if (tx !== undefined) {
      apply(tx.root, what);
      tx.changes.push(what);
      return;
    }
    if (apply(root, what)) fireWatches(what);
  };

  for (const [path, value] of Object.entries(initial)) {
    apply(root, { op: 'write', path: resolvePath(path), value: Buffer.from(value, 'utf8') });
  }

  const handle = (conn: Connection, message: XsMessage): Buffer => {
    let tx: Transaction | undefined;
    if (message.txId !== 0) {
      tx = conn.transactions.get(message.txId);
      if (tx === undefined) throw new XsFailure('ENOENT');
    }
    const tree = tx?.root ?? root;
    const args = splitXsStrings(message.payload);
    switch (message.type) {
      case XS.READ: {
        const node = lookup(tree, resolvePath(args[0]));
        if (node === undefined) throw new XsFailure('ENOENT');
        return node.value;
      }
      case XS.DIRECTORY: {
        const node = lookup(tree, resolvePath(args[0]));
        if (node === undefined) throw new XsFailure('ENOENT');
        const listing = strings(...node.children.keys());
        if (listing.length > XS_PAYLOAD_MAX) throw new XsFailure('E2BIG');
        return listing;
      }
      case XS.DIRECTORY_PART: {
        const node = lookup(tree, resolvePath(args[0]));
        if (node === undefined) throw new XsFailure('ENOENT');
        const offset = Number.parseInt(args[1] ?? '', 10);
        const all = strings(...node.children.keys());
        if (!Number.isInteger(offset) || offset < 0 || offset > all.length) throw new XsFailure('EINVAL');
        const head = strings(node.generation.toString(16));
        const room = XS_PAYLOAD_MAX - head.length - 1;
        let end = all.length;
        if (end - offset > room) {
          end = all.lastIndexOf(0, offset + room - 1) + 1; // cut after a whole name
          if (end <= offset) throw new XsFailure('E2BIG');
        }
        const parts = [head, all.subarray(offset, end)];
        if (end === all.length) parts.push(Buffer.from([0])); // an empty name ends the listing
        return Buffer.concat(parts);
      }
      case XS.WRITE: {
        const cut = message.payload.indexOf(0);
        if (cut < 0) throw new XsFailure('EINVAL');
        const path = resolvePath(message.payload.subarray(0, cut).toString('utf8'));
        change(tx, { op: 'write', path, value: Buffer.from(message.payload.subarray(cut + 1)) });
        return OK;
      }
      case XS.MKDIR:
        change(tx, { op: 'mkdir', path: resolvePath(args[0]) });
        return OK;
      case XS.RM:
        change(tx, { op: 'rm', path: resolvePath(args[0]) });
        return OK;
      case XS.GET_PERMS: {
        const node = lookup(tree, resolvePath(args[0]));
        if (node === undefined) throw new XsFailure('ENOENT');
        return strings(...node.perms);
      }
      case XS.SET_PERMS: {
        const perms = args.slice(1);
        if (perms.length === 0 || !perms.every((perm) => VALID_PERM.test(perm)))
          throw new XsFailure('EINVAL');
        change(tx, { op: 'setperms', path: resolvePath(args[0]), perms });
        return OK;
      }
      case XS.TRANSACTION_START: {
        if (tx !== undefined) throw new XsFailure('EBUSY');
        const id = nextTxId++;
        conn.transactions.set(id, { root: cloneNode(root), changes: [] });
        return strings(String(id));
      }
      case XS.TRANSACTION_END: {
        if (tx === undefined) throw new XsFailure('EINVAL');
        const verdict = args[0];
        if (verdict !== 'T' && verdict !== 'F') throw new XsFailure('EINVAL');
        conn.transactions.delete(message.txId);
        if (verdict === 'T') {
          if (transactionEndFailures > 0) {
            transactionEndFailures--;
            throw new XsFailure('EAGAIN');
          }
          for (const what of tx.changes) {
            try {
              if (apply(root, what)) fireWatches(what);
            } catch {
              // A change that no longer applies (its parent went away meanwhile) is dropped.
            }
          }
        }
        return OK;
      }
      case XS.WATCH: {
        const [rawPath, token] = args;
        if (rawPath === undefined || token === undefined) throw new XsFailure('EINVAL');
        const special = rawPath.startsWith('@');
        if (special && !VALID_PATH.test(rawPath)) throw new XsFailure('EINVAL');
        const path = special ? rawPath : resolvePath(rawPath);
        const watch: Watch = { path, token, relative: !special && !rawPath.startsWith('/') };
        if (conn.watches.some((w) => w.path === path && w.token === token)) throw new XsFailure('EEXIST');
        conn.watches.push(watch);
        // Like xenstored: the ack, then one event up front for the watched path itself.
        conn.socket.write(encodeXsMessage(XS.WATCH, message.reqId, message.txId, OK));
        conn.socket.write(encodeXsMessage(XS.WATCH_EVENT, 0, 0, strings(rawPath, token)));
        return Buffer.alloc(0); // already answered
      }
      case XS.UNWATCH: {
        const [rawPath, token] = args;
        if (rawPath === undefined || token === undefined) throw new XsFailure('EINVAL');
        const path = rawPath.startsWith('@') ? rawPath : resolvePath(rawPath);
        const at = conn.watches.findIndex((w) => w.path === path && w.token === token);
        if (at < 0) throw new XsFailure('ENOENT');
        conn.watches.splice(at, 1);
        return OK;
      }
      case XS.RESET_WATCHES:
        conn.watches.length = 0;
        return OK;
      case XS.GET_DOMAIN_PATH: {
        const domid = args[0] ?? '';
        if (!/^[0-9]+$/.test(domid)) throw new XsFailure('EINVAL');
        return strings(`/local/domain/${Number.parseInt(domid, 10)}`);
      }
      case XS.IS_DOMAIN_INTRODUCED: {
        const domid = args[0] ?? '';
        if (!/^[0-9]+$/.test(domid)) throw new XsFailure('EINVAL');
        return strings(domid === '0' ? 'T' : 'F');
      }
      case XS.CONTROL: {
        // xenstore-control: accept the harmless commands, refuse the rest as xenstored does.
        if (args[0] === 'print' || args[0] === 'check' || args[0] === 'log') return OK;
        throw new XsFailure('EINVAL');
      }
      default:
        throw new XsFailure('EINVAL');
    }
  };

  const server = net.createServer((socket) => {
    const conn: Connection = { socket, transactions: new Map(), watches: [] };
    connections.add(conn);
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
          reply = handle(conn, message);
          if (message.type === XS.WATCH) continue;
        } catch (error) {
          if (!(error instanceof XsFailure)) throw error;
          type = XS.ERROR;
          reply = strings(error.errno);
        }
        socket.write(encodeXsMessage(type, message.reqId, message.txId, reply));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => connections.delete(conn));
  });

  await removeStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    socketPath,
    tree: () => {
      const out: Record<string, string> = {};
      const walk = (node: XsNode, path: string): void => {
        for (const name of [...node.children.keys()].sort()) {
          const child = node.children.get(name)!;
          const childPath = `${path}/${name}`;
          out[childPath] = child.value.toString('utf8');
          walk(child, childPath);
        }
      };
      walk(root, '');
      return out;
    },
    failTransactionEnds: (count) => {
      transactionEndFailures = count;
    },
    requestCounts: () => ({ ...counts }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const conn of connections) conn.socket.destroy();
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
