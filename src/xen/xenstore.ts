/**
 * A lean xenstore client speaking the wire protocol of Xen's `xs_wire.h` directly: over the unix
 * socket of xenstored (`XENSTORED_PATH`, default `/var/run/xenstored/socket`) or, when that is
 * missing, over the `/dev/xen/xenbus` character device. No process per key, unlike `xenstore-read`.
 *
 * Every message is a 16-byte header (type, req_id, tx_id, len: little-endian u32) and `len`
 * bytes of payload made of NUL-separated strings. Requests are pipelined and replies matched by
 * req_id. Only `node:net` and `node:fs` are used; nothing runs at import time.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { XenplanError } from '../model/error.ts';

/** Message types of `enum xsd_sockmsg_type` (xs_wire.h, Xen 4.17). */
export const XS = {
  CONTROL: 0,
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  INTRODUCE: 8,
  RELEASE: 9,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  WATCH_EVENT: 15,
  ERROR: 16,
  IS_DOMAIN_INTRODUCED: 17,
  RESUME: 18,
  SET_TARGET: 19,
  RESET_WATCHES: 21,
  DIRECTORY_PART: 22,
} as const;

export const XS_HEADER_SIZE = 16;
/** XENSTORE_PAYLOAD_MAX: the largest payload xenstored accepts. */
export const XS_PAYLOAD_MAX = 4096;
export const DEFAULT_XENSTORED_PATH = '/var/run/xenstored/socket';
export const DEFAULT_XENBUS_PATH = '/dev/xen/xenbus';
export const DEFAULT_XENSTORE_TIMEOUT_MS = 10_000;
/** How often writeMany runs its transaction again when xenstored answers EAGAIN. */
const TRANSACTION_ATTEMPTS = 5;

export interface XsMessage {
  readonly type: number;
  readonly reqId: number;
  readonly txId: number;
  readonly payload: Buffer;
}

/** Frames one message: header then payload. */
export function encodeXsMessage(type: number, reqId: number, txId: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(XS_HEADER_SIZE + payload.length);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(reqId >>> 0, 4);
  out.writeUInt32LE(txId >>> 0, 8);
  out.writeUInt32LE(payload.length, 12);
  payload.copy(out, XS_HEADER_SIZE);
  return out;
}

/** Payload of NUL-terminated strings, e.g. `path\0`; the last string is left unterminated when `terminateLast` is false (WRITE's value). */
export function encodeXsStrings(parts: readonly (string | Buffer)[], terminateLast = true): Buffer {
  const bufs: Buffer[] = [];
  parts.forEach((part, i) => {
    bufs.push(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
    if (terminateLast || i < parts.length - 1) bufs.push(NUL);
  });
  return Buffer.concat(bufs);
}

const NUL = Buffer.from([0]);

/** Splits a payload into its NUL-separated strings; a trailing NUL does not yield an empty last string. */
export function splitXsStrings(payload: Buffer): string[] {
  if (payload.length === 0) return [];
  const text = payload.toString('utf8');
  const parts = text.split('\0');
  if (text.endsWith('\0')) parts.pop();
  return parts;
}

/** Reassembles messages from a byte stream cut anywhere (several messages per chunk, or one message over several). */
export class XsDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds a chunk and returns every message it completes. Throws on a length over XS_PAYLOAD_MAX (a broken stream). */
  push(chunk: Buffer): XsMessage[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: XsMessage[] = [];
    let offset = 0;
    while (this.pending.length - offset >= XS_HEADER_SIZE) {
      const len = this.pending.readUInt32LE(offset + 12);
      if (len > XS_PAYLOAD_MAX) {
        throw new XenplanError(
          'xenstore',
          `xenstore message of ${len} bytes exceeds the ${XS_PAYLOAD_MAX}-byte payload limit`,
        );
      }
      if (this.pending.length - offset < XS_HEADER_SIZE + len) break;
      out.push({
        type: this.pending.readUInt32LE(offset),
        reqId: this.pending.readUInt32LE(offset + 4),
        txId: this.pending.readUInt32LE(offset + 8),
        payload: Buffer.from(this.pending.subarray(offset + XS_HEADER_SIZE, offset + XS_HEADER_SIZE + len)),
      });
      offset += XS_HEADER_SIZE + len;
    }
    this.pending = offset === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(offset);
    return out;
  }

  /** Bytes received that do not yet form a whole message. */
  get buffered(): number {
    return this.pending.length;
  }
}

/**
 * A byte pipe to xenstored. `send` writes framed requests; received bytes go to `onData`.
 * `expectReplies` tells transports that must poll (the xenbus device) how many replies are awaited.
 */
export interface XsTransport {
  send(data: Buffer): void;
  /** Called by the client whenever the number of outstanding requests changes. */
  expectReplies(count: number): void;
  close(): Promise<void>;
}

export interface XsTransportEvents {
  onData(chunk: Buffer): void;
  onError(error: Error): void;
}

export interface XenstoreOptions {
  /** How long to wait for any one reply before failing with a xenstore error. Default 10 s. */
  readonly timeoutMs?: number;
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
  private nextReqId = 1;
  private failure: Error | undefined;
  private closed = false;
  private readonly transport: XsTransport;

  constructor(makeTransport: (events: XsTransportEvents) => XsTransport, options: XenstoreOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_XENSTORE_TIMEOUT_MS;
    this.transport = makeTransport({
      onData: (chunk) => this.receive(chunk),
      onError: (error) => this.fail(error),
    });
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
    const reqId = this.nextReqId;
    this.nextReqId = this.nextReqId >= 0xffff_fffe ? 1 : this.nextReqId + 1;
    return new Promise<XsMessage | undefined>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        this.transport.expectReplies(this.pending.size);
        reject(new XenplanError('xenstore', `xenstore ${op} ${path}: no reply within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
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
        entry.reject(
          new XenplanError(
            'xenstore',
            `xenstore ${entry.what}: reply of type ${message.type}, expected ${entry.type}`,
          ),
        );
      } else {
        entry.resolve(message);
      }
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
  }
}

function errnoOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

function connectSocket(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path });
    const onError = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

function makeSocketTransport(socket: net.Socket): (events: XsTransportEvents) => XsTransport {
  return (events) => {
    socket.on('data', (chunk: Buffer) => events.onData(chunk));
    socket.on('error', (error) => events.onError(error));
    socket.on('close', () => events.onError(new Error('xenstored closed the connection')));
    socket.unref();
    return {
      send: (data) => {
        socket.write(data);
      },
      // Hold the event loop open only while replies are awaited: a caller that forgets close()
      // does not keep a hotplug script alive.
      expectReplies: (count) => {
        if (count > 0) socket.ref();
        else socket.unref();
      },
      close: () =>
        new Promise<void>((resolve) => {
          if (socket.destroyed) {
            resolve();
            return;
          }
          socket.once('close', () => resolve());
          socket.end();
          socket.destroy();
        }),
    };
  };
}

/** Minimal file-descriptor operations, so the device transport can be tested without a real xenbus. */
export interface XsDeviceIo {
  write(fd: number, data: Buffer): Promise<void>;
  /** Reads what is available (blocking until something is); resolves with the number of bytes. */
  read(fd: number, into: Buffer): Promise<number>;
  close(fd: number): Promise<void>;
}

const nodeDeviceIo: XsDeviceIo = {
  write: (fd, data) =>
    new Promise((resolve, reject) => {
      fs.write(fd, data, 0, data.length, null, (error) => (error ? reject(error) : resolve()));
    }),
  read: (fd, into) =>
    new Promise((resolve, reject) => {
      fs.read(fd, into, 0, into.length, null, (error, bytes) => (error ? reject(error) : resolve(bytes)));
    }),
  close: (fd) =>
    new Promise((resolve) => {
      fs.close(fd, () => resolve());
    }),
};

/**
 * The xenbus character device: writes are whole messages; a read blocks until a reply is ready.
 * It reads only while replies are outstanding, so an idle client holds no blocked read.
 */
export function makeDeviceTransport(
  fd: number,
  io: XsDeviceIo = nodeDeviceIo,
): (events: XsTransportEvents) => XsTransport {
  return (events) => {
    let expected = 0;
    let reading = false;
    let closed = false;
    let writes: Promise<void> = Promise.resolve();
    const buffer = Buffer.allocUnsafe(XS_HEADER_SIZE + XS_PAYLOAD_MAX);
    const pump = async (): Promise<void> => {
      if (reading) return;
      reading = true;
      try {
        while (expected > 0 && !closed) {
          await writes;
          const bytes = await io.read(fd, buffer);
          if (bytes === 0) throw new Error('xenbus device returned end of file');
          events.onData(Buffer.from(buffer.subarray(0, bytes)));
        }
      } catch (error) {
        if (!closed) events.onError(error instanceof Error ? error : new Error(String(error)));
      } finally {
        reading = false;
      }
    };
    return {
      send: (data) => {
        // Each request goes out whole, in order: the device takes one message per write.
        writes = writes.then(() => io.write(fd, data));
        writes.catch((error: unknown) =>
          events.onError(error instanceof Error ? error : new Error(String(error))),
        );
      },
      expectReplies: (count) => {
        expected = count;
        if (count > 0) void pump();
      },
      close: async () => {
        closed = true;
        await writes.catch(() => undefined);
        await io.close(fd);
      },
    };
  };
}

function openDevice(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(path, 'r+', (error, fd) => (error ? reject(error) : resolve(fd)));
  });
}

/**
 * Connects to xenstored: the unix socket at `env.XENSTORED_PATH` (default
 * `/var/run/xenstored/socket`), else the xenbus device. Throws a xenstore error naming every
 * path tried and why it failed.
 */
export async function openXenstore(
  env: Record<string, string | undefined>,
  options: XenstoreOptions = {},
): Promise<XenstoreClient> {
  const socketPath = env.XENSTORED_PATH || DEFAULT_XENSTORED_PATH;
  const devicePath = options.xenbusPath ?? DEFAULT_XENBUS_PATH;
  let socketError: unknown;
  try {
    const socket = await connectSocket(socketPath);
    return new XenstoreConnection(makeSocketTransport(socket), options);
  } catch (error) {
    socketError = error;
  }
  try {
    const fd = await openDevice(devicePath);
    return new XenstoreConnection(makeDeviceTransport(fd), options);
  } catch (deviceError) {
    throw new XenplanError(
      'xenstore',
      `cannot reach xenstore: ${socketPath}: ${errnoOf(socketError)}; ${devicePath}: ${errnoOf(deviceError)}`,
    );
  }
}
