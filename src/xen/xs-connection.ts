/**
 * The xenstore client over any transport (xs-transport.ts): requests pipelined and replies
 * matched by req_id, timeouts, errno replies as XenstoreReplyError, and writeMany's
 * transaction retried on EAGAIN. openXenstore (xenstore.ts) picks the transport.
 */
import { XenplanError } from '../model/error.ts';
import type { XsTransport, XsTransportEvents } from './xs-transport.ts';
import {
  encodeXsMessage,
  encodeXsStrings,
  splitXsStrings,
  XS,
  XS_PAYLOAD_MAX,
  XsDecoder,
  type XsMessage,
} from './xs-wire.ts';

export const DEFAULT_XENSTORE_TIMEOUT_MS = 10_000;
/** How often writeMany runs its transaction again when xenstored answers EAGAIN. */
const TRANSACTION_ATTEMPTS = 5;

export interface XenstoreOptions {
  /** How long to wait for any one reply before failing with a xenstore error. Default 10 s. */
  readonly timeoutMs?: number;
  /**
   * Epoch ms after which nothing is waited for: connecting, and every reply (each reply waits
   * at most `timeoutMs`, and never past this). The hotplug event's deadline.
   */
  readonly deadline?: number;
  /** The xenbus device to fall back to. Default `/dev/xen/xenbus`. */
  readonly xenbusPath?: string;
}

export interface XenstorePair {
  readonly path: string;
  readonly value: string;
}

export interface XenstoreClient {
  /** The node's value, or undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  /** Several reads in one round trip (pipelined). */
  readMany(paths: readonly string[]): Promise<(string | undefined)[]>;
  /** The node's children, or undefined when it does not exist. */
  directory(path: string): Promise<string[] | undefined>;
  write(path: string, value: string): Promise<void>;
  /** Writes all pairs in one transaction, retried on EAGAIN. */
  writeMany(pairs: readonly XenstorePair[]): Promise<void>;
  /** Removes the node and its children; a missing node is not an error. */
  rm(path: string): Promise<void>;
  /**
   * False once the connection broke (closed, a write failed, a reply that was not a message or
   * not of the type asked for, a reply that never came): nothing more can be trusted on it,
   * and a failure report needs a fresh one.
   */
  readonly usable: boolean;
  close(): Promise<void>;
}

/** The errno name xenstored answered with, for callers that need to tell errors apart. */
export class XenstoreReplyError extends XenplanError {
  readonly errno: string;
  constructor(op: string, path: string, errno: string) {
    super('xenstore', `xenstore ${op} ${path}: ${errno}`);
    this.errno = errno;
  }
}

const OP_NAMES: Record<number, string> = {
  [XS.DIRECTORY]: 'directory',
  [XS.READ]: 'read',
  [XS.WRITE]: 'write',
  [XS.RM]: 'rm',
  [XS.TRANSACTION_START]: 'transaction-start',
  [XS.TRANSACTION_END]: 'transaction-end',
};

interface PendingRequest {
  readonly type: number;
  readonly what: string;
  readonly resolve: (message: XsMessage) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** The protocol engine over any transport: request ids, reply matching, timeouts, error mapping. */
export class XenstoreConnection implements XenstoreClient {
  private readonly pending = new Map<number, PendingRequest>();
  private readonly decoder = new XsDecoder();
  private readonly timeoutMs: number;
  private readonly deadline: number | undefined;
  private nextReqId = 1;
  private timedOut = false;
  private failure: Error | undefined;
  private closed = false;
  private readonly transport: XsTransport;

  constructor(makeTransport: (events: XsTransportEvents) => XsTransport, options: XenstoreOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_XENSTORE_TIMEOUT_MS;
    this.deadline = options.deadline;
    this.transport = makeTransport({
      onData: (chunk) => this.receive(chunk),
      onError: (error) => this.fail(error),
    });
  }

  get usable(): boolean {
    return this.failure === undefined && !this.timedOut;
  }

  async read(path: string): Promise<string | undefined> {
    const reply = await this.request(XS.READ, 0, encodeXsStrings([path]), path, true);
    return reply === undefined ? undefined : reply.payload.toString('utf8');
  }

  readMany(paths: readonly string[]): Promise<(string | undefined)[]> {
    return Promise.all(paths.map((path) => this.read(path)));
  }

  async directory(path: string): Promise<string[] | undefined> {
    const reply = await this.request(XS.DIRECTORY, 0, encodeXsStrings([path]), path, true);
    return reply === undefined ? undefined : splitXsStrings(reply.payload);
  }

  async write(path: string, value: string): Promise<void> {
    await this.request(XS.WRITE, 0, encodeXsStrings([path, value], false), path, false);
  }

  async writeMany(pairs: readonly XenstorePair[]): Promise<void> {
    if (pairs.length === 0) return;
    const only = pairs[0];
    if (pairs.length === 1 && only !== undefined) {
      // One WRITE is atomic already: spare the two transaction round trips.
      await this.write(only.path, only.value);
      return;
    }
    const label = pairs.map((pair) => pair.path).join(' ');
    for (let attempt = 1; ; attempt++) {
      try {
        await this.runWriteTransaction(pairs, label);
        return;
      } catch (error) {
        if (
          !(error instanceof XenstoreReplyError && error.errno === 'EAGAIN') ||
          attempt >= TRANSACTION_ATTEMPTS
        ) {
          throw error;
        }
      }
    }
  }

  async rm(path: string): Promise<void> {
    await this.request(XS.RM, 0, encodeXsStrings([path]), path, true);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new XenplanError('xenstore', 'xenstore connection closed'));
    await this.transport.close();
  }

  private async runWriteTransaction(pairs: readonly XenstorePair[], label: string): Promise<void> {
    const started = await this.request(XS.TRANSACTION_START, 0, encodeXsStrings(['']), label, false);
    const txId = Number.parseInt(splitXsStrings(started!.payload)[0] ?? '', 10);
    if (!Number.isInteger(txId) || txId <= 0) {
      throw new XenplanError(
        'xenstore',
        `xenstore transaction-start: expected a transaction id, got ${JSON.stringify(started!.payload.toString('utf8'))}`,
      );
    }
    const writes = pairs.map((pair) =>
      this.request(XS.WRITE, txId, encodeXsStrings([pair.path, pair.value], false), pair.path, false),
    );
    const outcomes = await Promise.allSettled(writes);
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) {
      await this.request(XS.TRANSACTION_END, txId, encodeXsStrings(['F']), label, false).catch(
        () => undefined,
      );
      throw failed.reason;
    }
    await this.request(XS.TRANSACTION_END, txId, encodeXsStrings(['T']), label, false);
  }

  /** Sends one request; resolves with the reply, or undefined for ENOENT when `enoentIsUndefined`. */
  private request(
    type: number,
    txId: number,
    payload: Buffer,
    path: string,
    enoentIsUndefined: boolean,
  ): Promise<XsMessage | undefined> {
    const op = OP_NAMES[type] ?? `type-${type}`;
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (payload.length > XS_PAYLOAD_MAX) {
      return Promise.reject(
        new XenplanError(
          'xenstore',
          `xenstore ${op} ${path}: request of ${payload.length} bytes exceeds the ${XS_PAYLOAD_MAX}-byte limit`,
        ),
      );
    }
    const waitMs =
      this.deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, this.deadline - Date.now());
    if (waitMs <= 0)
      return Promise.reject(
        new XenplanError('xenstore', `xenstore ${op} ${path}: no time left to wait for a reply`),
      );
    const reqId = this.nextReqId;
    this.nextReqId = this.nextReqId >= 0xffff_fffe ? 1 : this.nextReqId + 1;
    return new Promise<XsMessage | undefined>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        this.timedOut = true;
        this.transport.expectReplies(this.pending.size);
        reject(new XenplanError('xenstore', `xenstore ${op} ${path}: no reply within ${waitMs} ms`));
      }, waitMs);
      this.pending.set(reqId, {
        type,
        what: `${op} ${path}`,
        timer,
        reject,
        resolve: (message) => {
          if (message.type !== XS.ERROR) {
            resolve(message);
            return;
          }
          const errno = splitXsStrings(message.payload)[0] ?? 'EIO';
          if (errno === 'ENOENT' && enoentIsUndefined) resolve(undefined);
          else reject(new XenstoreReplyError(op, path, errno));
        },
      });
      this.transport.send(encodeXsMessage(type, reqId, txId, payload));
      this.transport.expectReplies(this.pending.size);
    });
  }

  private receive(chunk: Buffer): void {
    let messages: XsMessage[];
    try {
      messages = this.decoder.push(chunk);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    for (const message of messages) {
      if (message.type === XS.WATCH_EVENT) continue; // this client sets no watches
      const entry = this.pending.get(message.reqId);
      if (entry === undefined) continue; // a late reply to a request that timed out
      this.pending.delete(message.reqId);
      clearTimeout(entry.timer);
      if (message.type !== entry.type && message.type !== XS.ERROR) {
        // A peer that answers out of protocol: nothing else it says can be trusted either.
        this.pending.set(message.reqId, entry);
        this.fail(new Error(`reply of type ${message.type}, expected ${entry.type}`));
        return;
      }
      entry.resolve(message);
    }
    this.transport.expectReplies(this.pending.size);
  }

  /** Fails every outstanding and later request with `error`. */
  private fail(error: Error): void {
    const wrapped =
      error instanceof XenplanError
        ? error
        : new XenplanError('xenstore', `xenstore connection: ${error.message}`);
    this.failure ??= wrapped;
    for (const [reqId, entry] of this.pending) {
      clearTimeout(entry.timer);
      this.pending.delete(reqId);
      entry.reject(
        wrapped.message === 'xenstore connection closed'
          ? wrapped
          : new XenplanError('xenstore', `xenstore ${entry.what}: ${wrapped.message}`),
      );
    }
    // Nothing more is awaited on a broken connection: let it stop holding the process open.
    this.transport?.expectReplies(0);
  }
}
