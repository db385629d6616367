/**
 * Byte pipes to xenstored: the unix socket of xenstored, or the `/dev/xen/xenbus` character
 * device. The client (xenstore.ts) frames requests and decodes replies; these only move bytes.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { XS_HEADER_SIZE, XS_PAYLOAD_MAX } from './xs-wire.ts';

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

/** When to stop trying to connect (epoch ms), and how long to keep trying a refused socket. */
export interface ConnectPatience {
  readonly until: number;
  /** ECONNREFUSED: a xenstored (re)starting, or a stale socket of a dead one; tried this long. */
  readonly refusedMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Connects to the unix socket of xenstored; rejects with the last connection error. Node's
 * connect is non-blocking: where libxenstore's blocking connect waits in xenstored's backlog
 * (of 1), Node gets EAGAIN at once. So EAGAIN is tried again, with a short growing backoff
 * and jitter (a boot storm's hundred clients must not retry in step), until `until`;
 * ECONNREFUSED only for `refusedMs`.
 */
export async function connectSocket(path: string, patience?: ConnectPatience): Promise<net.Socket> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await connectOnce(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const until =
        code === 'EAGAIN'
          ? patience?.until
          : code === 'ECONNREFUSED' && patience
            ? Math.min(patience.until, started + patience.refusedMs)
            : undefined;
      // 1, 2, 4 … 64 ms, each with ±50% jitter.
      const pause = 2 ** Math.min(attempt, 6) * (0.5 + Math.random());
      if (until === undefined || Date.now() + pause >= until) throw error;
      await sleep(pause);
    }
  }
}

function connectOnce(path: string): Promise<net.Socket> {
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

/** The unix socket as a transport; it holds the event loop open only while replies are awaited. */
export function makeSocketTransport(socket: net.Socket): (events: XsTransportEvents) => XsTransport {
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

/** Opens the xenbus device for reading and writing; rejects with the open error. */
export function openDevice(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(path, 'r+', (error, fd) => (error ? reject(error) : resolve(fd)));
  });
}
