/**
 * The stand-in xenstored's answer to one request, by message type: reads and writes on the live
 * tree or a transaction's copy, transactions, watches and the few domain queries the tools send.
 * A request that fails throws XsFailure (the server answers XS_ERROR with its errno).
 */
import type * as net from 'node:net';
import {
  encodeXsMessage,
  encodeXsStrings,
  splitXsStrings,
  XS,
  XS_PAYLOAD_MAX,
  type XsMessage,
} from '../xen/xs-wire.ts';
import {
  applyChange,
  type Change,
  cloneNode,
  DOM0_HOME,
  isUnder,
  lookup,
  resolvePath,
  VALID_PATH,
  type XsClock,
  XsFailure,
  type XsNode,
} from './xenstore-tree.ts';

const VALID_PERM = /^[nrwb][0-9]+$/;

interface Transaction {
  readonly root: XsNode;
  readonly changes: Change[];
}

export interface Watch {
  /** Absolute path, or a special `@name`. */
  readonly path: string;
  readonly token: string;
  /** Registered with a relative path: events name paths relative to dom0's home. */
  readonly relative: boolean;
}

export interface Connection {
  readonly socket: net.Socket;
  readonly transactions: Map<number, Transaction>;
  readonly watches: Watch[];
}

/** What every request may touch: the live tree, every connection (for watches), transaction ids. */
export interface XenstoredState {
  readonly clock: XsClock;
  readonly root: XsNode;
  readonly connections: Set<Connection>;
  nextTxId: number;
  /** How many more TRANSACTION_END "T" answer EAGAIN (failTransactionEnds). */
  transactionEndFailures: number;
}

const OK = encodeXsStrings(['OK']);

function sendEvent(conn: Connection, watch: Watch, path: string): void {
  const shown = watch.relative && path.startsWith(`${DOM0_HOME}/`) ? path.slice(DOM0_HOME.length + 1) : path;
  if (!conn.socket.destroyed)
    conn.socket.write(encodeXsMessage(XS.WATCH_EVENT, 0, 0, encodeXsStrings([shown, watch.token])));
}

function fireWatches(state: XenstoredState, change: Change): void {
  for (const conn of state.connections) {
    for (const watch of conn.watches) {
      if (watch.path.startsWith('@')) continue;
      if (isUnder(change.path, watch.path)) sendEvent(conn, watch, change.path);
      else if (change.op === 'rm' && isUnder(watch.path, change.path)) sendEvent(conn, watch, watch.path);
    }
  }
}

/** Performs a change on the live tree (firing watches) or records it in the transaction. */
function performChange(state: XenstoredState, tx: Transaction | undefined, what: Change): void {
  if (tx !== undefined) {
    applyChange(state.clock, tx.root, what);
    tx.changes.push(what);
    return;
  }
  if (applyChange(state.clock, state.root, what)) fireWatches(state, what);
}

/**
 * The reply payload for one request (WATCH answers on the socket itself and returns an empty
 * one); throws XsFailure for an error reply.
 */
export function handleXsRequest(state: XenstoredState, conn: Connection, message: XsMessage): Buffer {
  let tx: Transaction | undefined;
  if (message.txId !== 0) {
    tx = conn.transactions.get(message.txId);
    if (tx === undefined) throw new XsFailure('ENOENT');
  }
  const tree = tx?.root ?? state.root;
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
      const listing = encodeXsStrings([...node.children.keys()]);
      if (listing.length > XS_PAYLOAD_MAX) throw new XsFailure('E2BIG');
      return listing;
    }
    case XS.DIRECTORY_PART: {
      const node = lookup(tree, resolvePath(args[0]));
      if (node === undefined) throw new XsFailure('ENOENT');
      const offset = Number.parseInt(args[1] ?? '', 10);
      const all = encodeXsStrings([...node.children.keys()]);
      if (!Number.isInteger(offset) || offset < 0 || offset > all.length) throw new XsFailure('EINVAL');
      const head = encodeXsStrings([node.generation.toString(16)]);
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
      performChange(state, tx, { op: 'write', path, value: Buffer.from(message.payload.subarray(cut + 1)) });
      return OK;
    }
    case XS.MKDIR:
      performChange(state, tx, { op: 'mkdir', path: resolvePath(args[0]) });
      return OK;
    case XS.RM:
      performChange(state, tx, { op: 'rm', path: resolvePath(args[0]) });
      return OK;
    case XS.GET_PERMS: {
      const node = lookup(tree, resolvePath(args[0]));
      if (node === undefined) throw new XsFailure('ENOENT');
      return encodeXsStrings(node.perms);
    }
    case XS.SET_PERMS: {
      const perms = args.slice(1);
      if (perms.length === 0 || !perms.every((perm) => VALID_PERM.test(perm))) throw new XsFailure('EINVAL');
      performChange(state, tx, { op: 'setperms', path: resolvePath(args[0]), perms });
      return OK;
    }
    case XS.TRANSACTION_START: {
      if (tx !== undefined) throw new XsFailure('EBUSY');
      const id = state.nextTxId++;
      conn.transactions.set(id, { root: cloneNode(state.root), changes: [] });
      return encodeXsStrings([String(id)]);
    }
    case XS.TRANSACTION_END: {
      if (tx === undefined) throw new XsFailure('EINVAL');
      const verdict = args[0];
      if (verdict !== 'T' && verdict !== 'F') throw new XsFailure('EINVAL');
      conn.transactions.delete(message.txId);
      if (verdict === 'T') {
        if (state.transactionEndFailures > 0) {
          state.transactionEndFailures--;
          throw new XsFailure('EAGAIN');
        }
        for (const what of tx.changes) {
          try {
            if (applyChange(state.clock, state.root, what)) fireWatches(state, what);
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
      conn.socket.write(encodeXsMessage(XS.WATCH_EVENT, 0, 0, encodeXsStrings([rawPath, token])));
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
      return encodeXsStrings([`/local/domain/${Number.parseInt(domid, 10)}`]);
    }
    case XS.IS_DOMAIN_INTRODUCED: {
      const domid = args[0] ?? '';
      if (!/^[0-9]+$/.test(domid)) throw new XsFailure('EINVAL');
      return encodeXsStrings([domid === '0' ? 'T' : 'F']);
    }
    case XS.CONTROL: {
      // xenstore-control: accept the harmless commands, refuse the rest as xenstored does.
      if (args[0] === 'print' || args[0] === 'check' || args[0] === 'log') return OK;
      throw new XsFailure('EINVAL');
    }
    default:
      throw new XsFailure('EINVAL');
  }
}
