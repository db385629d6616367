import * as net from 'node:net';
import { encodeXsMessage, encodeXsStrings, XS, XsDecoder } from '../../src/xen/xs-wire.ts';

/**
 * How a xenstored can fail a client, as seen on a real host or a hostile one:
 *
 * - `silent`: accepts and never answers.
 * - `silent-on-write`: answers reads, never a transaction or a write.
 * - `close-mid-reply`: sends half of the first reply, then closes.
 * - `close-after-reply`: answers the first request, then closes (later writes meet EPIPE).
 * - `garbage`: answers the first request with bytes that are not a message.
 * - `wrong-type`: answers a READ with a DIRECTORY reply.
 * - `eacces`: answers every request with EACCES.
 */
export type Fault =
  | 'silent'
  | 'silent-on-write'
  | 'close-mid-reply'
  | 'close-after-reply'
  | 'garbage'
  | 'wrong-type'
  | 'eacces';

export interface FaultyXenstored {
  /** Connections accepted so far. */
  readonly accepted: () => number;
  close(): Promise<void>;
}

/**
 * A proxy in front of a working xenstore stand-in (`upstream`, a socket path): the first
 * `faulty` connections get `fault`, later ones pass through. A client that opens a fresh
 * connection after the first broke therefore reaches a working xenstored.
 */
export async function startFaultyXenstored(
  socketPath: string,
  upstream: string,
  fault: Fault,
  faulty = 1,
): Promise<FaultyXenstored> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    accepted += 1;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const server = net.createConnection({ path: upstream });
    sockets.add(server);
    server.on('close', () => sockets.delete(server));
    server.on('error', () => client.destroy());
    if (accepted > faulty) {
      client.pipe(server);
      server.pipe(client);
      return;
    }
    inject(client, server, fault);
  });
  await new Promise<void>((resolve) => server.listen({ path: socketPath, backlog: 1 }, resolve));
  return {
    accepted: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function inject(client: net.Socket, server: net.Socket, fault: Fault): void {
  const decoder = new XsDecoder();
  let replies = 0;
  server.on('data', (chunk: Buffer) => {
    replies += 1;
    if (fault === 'close-mid-reply' && replies === 1) {
      client.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)));
      client.destroy();
      return;
    }
    if (!client.destroyed) client.write(chunk);
    if (fault === 'close-after-reply') client.destroy();
  });
  client.on('data', (chunk: Buffer) => {
    for (const message of decoder.push(chunk)) {
      const forward = () =>
        server.write(encodeXsMessage(message.type, message.reqId, message.txId, message.payload));
      switch (fault) {
        case 'silent':
          break;
        case 'silent-on-write':
          if (message.type === XS.READ || message.type === XS.DIRECTORY) forward();
          break;
        case 'garbage':
          client.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
          break;
        case 'wrong-type':
          client.write(encodeXsMessage(XS.DIRECTORY, message.reqId, message.txId, encodeXsStrings(['x'])));
          break;
        case 'eacces':
          client.write(encodeXsMessage(XS.ERROR, message.reqId, message.txId, encodeXsStrings(['EACCES'])));
          break;
        default:
          forward();
      }
    }
  });
}
