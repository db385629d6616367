import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startXenstored, type XenstoredHandle } from '../../../src/lab/xenstored.ts';
import { XenplanError } from '../../../src/model/error.ts';
import { openXenstore } from '../../../src/xen/xenstore.ts';
import { type XenstoreClient, XenstoreConnection } from '../../../src/xen/xs-connection.ts';
import { makeDeviceTransport, type XsDeviceIo } from '../../../src/xen/xs-transport.ts';
import {
  encodeXsMessage,
  encodeXsStrings,
  splitXsStrings,
  XS,
  XsDecoder,
  type XsMessage,
} from '../../../src/xen/xs-wire.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xpt-xs-unit-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

let socketCounter = 0;
function nextSocket(): string {
  socketCounter++;
  return path.join(dir, `s${socketCounter}`);
}

function message(type: number, reqId: number, txId: number, payload: string): Buffer {
  return encodeXsMessage(type, reqId, txId, Buffer.from(payload, 'utf8'));
}

function text(m: XsMessage): { type: number; reqId: number; txId: number; payload: string } {
  return { type: m.type, reqId: m.reqId, txId: m.txId, payload: m.payload.toString('utf8') };
}

/** A raw protocol conversation with a server: send frames, collect the frames that come back. */
async function rawConnect(socketPath: string): Promise<{
  send(frame: Buffer): void;
  receive(count: number): Promise<XsMessage[]>;
  close(): void;
}> {
  const socket = net.createConnection({ path: socketPath });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const decoder = new XsDecoder();
  const received: XsMessage[] = [];
  let waiter: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    received.push(...decoder.push(chunk));
    waiter?.();
  });
  return {
    send: (frame) => socket.write(frame),
    receive: (count) =>
      new Promise((resolve) => {
        const check = (): void => {
          if (received.length >= count) {
            waiter = undefined;
            resolve(received.splice(0, count));
          }
        };
        waiter = check;
        check();
      }),
    close: () => socket.destroy(),
  };
}

describe('framing', () => {
  it('encodes the 16-byte little-endian header then the payload', () => {
    const frame = message(XS.READ, 7, 3, '/a\0');
    expect([...frame]).toEqual([2, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 0x2f, 0x61, 0]);
  });

  it('terminates every string, or all but the last for WRITE', () => {
    expect(encodeXsStrings(['/a', 'b']).toString('latin1')).toBe('/a\0b\0');
    expect(encodeXsStrings(['/a', 'v'], false).toString('latin1')).toBe('/a\0v');
    expect(splitXsStrings(Buffer.from('x\0y\0'))).toEqual(['x', 'y']);
    expect(splitXsStrings(Buffer.from('x\0y'))).toEqual(['x', 'y']);
    expect(splitXsStrings(Buffer.alloc(0))).toEqual([]);
  });

  it('reassembles a message fed one byte at a time', () => {
    const decoder = new XsDecoder();
    const frame = message(XS.WRITE, 9, 0, '/local/domain/0/x\0value');
    const out: XsMessage[] = [];
    for (const byte of frame) out.push(...decoder.push(Buffer.from([byte])));
    expect(out.map(text)).toEqual([
      { type: XS.WRITE, reqId: 9, txId: 0, payload: '/local/domain/0/x\0value' },
    ]);
    expect(decoder.buffered).toBe(0);
  });

  it('splits several messages merged in one chunk, keeping a partial tail', () => {
    const decoder = new XsDecoder();
    const a = message(XS.READ, 1, 0, 'one');
    const b = message(XS.ERROR, 2, 0, 'ENOENT\0');
    const c = message(XS.DIRECTORY, 3, 5, 'x\0y\0');
    const all = Buffer.concat([a, b, c]);
    const first = decoder.push(all.subarray(0, a.length + b.length + 10));
    expect(first.map(text)).toEqual([
      { type: XS.READ, reqId: 1, txId: 0, payload: 'one' },
      { type: XS.ERROR, reqId: 2, txId: 0, payload: 'ENOENT\0' },
    ]);
    expect(decoder.buffered).toBe(10);
    expect(decoder.push(all.subarray(a.length + b.length + 10)).map(text)).toEqual([
      { type: XS.DIRECTORY, reqId: 3, txId: 5, payload: 'x\0y\0' },
    ]);
  });

  it('rejects a header announcing more than 4096 bytes', () => {
    const header = Buffer.alloc(16);
    header.writeUInt32LE(5000, 12);
    expect(() => new XsDecoder().push(header)).toThrow(
      'xenstore message of 5000 bytes exceeds the 4096-byte payload limit',
    );
  });
});

describe('client against the stand-in', () => {
  let server: XenstoredHandle;
  let client: XenstoreClient;
  beforeEach(async () => {
    const socketPath = nextSocket();
    server = await startXenstored(socketPath, { '/local/domain/0/backend/vif/3/0/bridge': 'xenbr0' });
    client = await openXenstore({ XENSTORED_PATH: socketPath });
  });
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('reads a seeded value and gives undefined for a missing node', async () => {
    expect(await client.read('/local/domain/0/backend/vif/3/0/bridge')).toBe('xenbr0');
    expect(await client.read('/local/domain/0/backend/vif/3/0/mtu')).toBeUndefined();
  });

  it('resolves relative paths against /local/domain/0', async () => {
    expect(await client.read('backend/vif/3/0/bridge')).toBe('xenbr0');
    await client.write('backend/vif/3/0/hotplug-status', 'connected');
    expect(server.tree()['/local/domain/0/backend/vif/3/0/hotplug-status']).toBe('connected');
  });

  it('writes create parents; values are UTF-8', async () => {
    await client.write('/a/b/c', 'grüße');
    expect(server.tree()).toEqual({
      '/a': '',
      '/a/b': '',
      '/a/b/c': 'grüße',
      '/local': '',
      '/local/domain': '',
      '/local/domain/0': '',
      '/local/domain/0/backend': '',
      '/local/domain/0/backend/vif': '',
      '/local/domain/0/backend/vif/3': '',
      '/local/domain/0/backend/vif/3/0': '',
      '/local/domain/0/backend/vif/3/0/bridge': 'xenbr0',
    });
    expect(await client.read('/a/b/c')).toBe('grüße');
    expect(await client.read('/a/b')).toBe('');
  });

  it('lists a directory, undefined when missing', async () => {
    await client.writeMany([
      { path: '/d/x', value: '1' },
      { path: '/d/y', value: '2' },
    ]);
    expect(await client.directory('/d')).toEqual(['x', 'y']);
    expect(await client.directory('/d/x')).toEqual([]);
    expect(await client.directory('/nothing')).toBeUndefined();
  });

  it('pipelines readMany, preserving order', async () => {
    await client.writeMany([
      { path: '/p/1', value: 'one' },
      { path: '/p/2', value: 'two' },
    ]);
    expect(await client.readMany(['/p/2', '/p/missing', '/p/1'])).toEqual(['two', undefined, 'one']);
  });

  it('removes recursively and treats a missing node as done', async () => {
    await client.writeMany([
      { path: '/r/a/b', value: '1' },
      { path: '/r/c', value: '2' },
    ]);
    await client.rm('/r/a');
    await client.rm('/r/a');
    await client.rm('/no/such/parent');
    expect(await client.directory('/r')).toEqual(['c']);
  });

  it('turns error replies into xenstore errors naming op, path and errno', async () => {
    const error = await client.write('/bad//path', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XenplanError);
    expect((error as XenplanError).kind).toBe('xenstore');
    expect((error as XenplanError).message).toBe('xenstore write /bad//path: EINVAL');
    await expect(client.read('/trailing/')).rejects.toThrow('xenstore read /trailing/: EINVAL');
    await expect(client.rm('/')).rejects.toThrow('xenstore rm /: EINVAL');
  });

  it('writes several pairs in one transaction', async () => {
    await client.writeMany([
      { path: '/t/a', value: '1' },
      { path: '/t/b', value: '2' },
      { path: 't/c', value: '3' },
    ]);
    expect(server.requestCounts()).toEqual({
      [XS.TRANSACTION_START]: 1,
      [XS.WRITE]: 3,
      [XS.TRANSACTION_END]: 1,
    });
    expect(await client.readMany(['/t/a', '/t/b', '/local/domain/0/t/c'])).toEqual(['1', '2', '3']);
  });

  it('retries the whole transaction on EAGAIN', async () => {
    server.failTransactionEnds(2);
    await client.writeMany([
      { path: '/e/a', value: '1' },
      { path: '/e/b', value: '2' },
    ]);
    expect(server.requestCounts()[XS.TRANSACTION_START]).toBe(3);
    expect(await client.readMany(['/e/a', '/e/b'])).toEqual(['1', '2']);
  });

  it('gives up after five EAGAIN answers', async () => {
    server.failTransactionEnds(99);
    await expect(
      client.writeMany([
        { path: '/g/a', value: '1' },
        { path: '/g/b', value: '2' },
      ]),
    ).rejects.toThrow('xenstore transaction-end /g/a /g/b: EAGAIN');
    expect(server.requestCounts()[XS.TRANSACTION_START]).toBe(5);
    expect(server.tree()['/g/a']).toBeUndefined();
  });

  it('aborts the transaction when one write fails, writing nothing', async () => {
    await expect(
      client.writeMany([
        { path: '/h/a', value: '1' },
        { path: '/h//b', value: '2' },
      ]),
    ).rejects.toThrow('xenstore write /h//b: EINVAL');
    expect(server.tree()['/h/a']).toBeUndefined();
  });

  it('refuses a request over the payload limit without sending it', async () => {
    await expect(client.write('/big', 'x'.repeat(5000))).rejects.toThrow(
      'xenstore write /big: request of 5005 bytes exceeds the 4096-byte limit',
    );
    expect(server.requestCounts()).toEqual({});
  });

  it('fails requests after close', async () => {
    await client.close();
    await expect(client.read('/a')).rejects.toThrow('xenstore connection closed');
  });
});

describe('client against scripted servers', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  /** A server that calls `onMessages` with everything received so far on a connection. */
  async function scripted(onMessages: (socket: net.Socket, all: XsMessage[]) => void): Promise<string> {
    const socketPath = nextSocket();
    const server = net.createServer((socket) => {
      const decoder = new XsDecoder();
      const all: XsMessage[] = [];
      socket.on('data', (chunk: Buffer) => {
        all.push(...decoder.push(chunk));
        onMessages(socket, all);
      });
      socket.on('error', () => undefined);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return socketPath;
  }

  it('sends all of readMany before any reply arrives, and matches replies by req_id', async () => {
    let answered = false;
    const socketPath = await scripted((socket, all) => {
      if (all.length < 3 || answered) return; // answer only once all three requests are in
      answered = true;
      // Answer in reverse order, all in one chunk.
      const replies = [...all].reverse().map((m) => {
        const p = splitXsStrings(m.payload)[0]!;
        return p === '/b' ? message(XS.ERROR, m.reqId, 0, 'ENOENT\0') : message(XS.READ, m.reqId, 0, `v${p}`);
      });
      socket.write(Buffer.concat(replies));
    });
    const client = await openXenstore({ XENSTORED_PATH: socketPath });
    expect(await client.readMany(['/a', '/b', '/c'])).toEqual(['v/a', undefined, 'v/c']);
    await client.close();
  });

  it('decodes replies that arrive split across many chunks', async () => {
    const socketPath = await scripted((socket, all) => {
      const m = all[all.length - 1]!;
      const reply = message(XS.READ, m.reqId, 0, 'a value that arrives in pieces');
      let i = 0;
      const drip = (): void => {
        if (i >= reply.length) return;
        socket.write(reply.subarray(i, i + 3));
        i += 3;
        setImmediate(drip);
      };
      drip();
    });
    const client = await openXenstore({ XENSTORED_PATH: socketPath });
    expect(await client.read('/x')).toBe('a value that arrives in pieces');
    await client.close();
  });

  it('fails with a xenstore error when xenstored does not answer in time', async () => {
    const socketPath = await scripted(() => undefined);
    const client = await openXenstore({ XENSTORED_PATH: socketPath }, { timeoutMs: 50 });
    const error = await client.read('/slow').catch((e: unknown) => e);
    expect((error as XenplanError).kind).toBe('xenstore');
    expect((error as XenplanError).message).toBe('xenstore read /slow: no reply within 50 ms');
    await client.close();
  });

  it('fails outstanding requests when xenstored hangs up', async () => {
    const socketPath = await scripted((socket) => socket.destroy());
    const client = await openXenstore({ XENSTORED_PATH: socketPath });
    await expect(client.read('/x')).rejects.toThrow(
      'xenstore read /x: xenstore connection: xenstored closed the connection',
    );
    await client.close();
  });

  it('is unusable after a reply of the wrong type, a silence or a hang-up; an errno reply leaves it usable', async () => {
    const wrong = await scripted((socket, all) => {
      const m = all[all.length - 1]!;
      socket.write(message(XS.DIRECTORY, m.reqId, 0, 'x\0'));
    });
    const a = await openXenstore({ XENSTORED_PATH: wrong });
    await expect(a.read('/x')).rejects.toThrow(
      'xenstore read /x: xenstore connection: reply of type 1, expected 2',
    );
    expect(a.usable).toBe(false);
    await expect(a.read('/y')).rejects.toThrow('xenstore connection: reply of type 1, expected 2');
    await a.close();
    const eacces = await scripted((socket, all) => {
      const m = all[all.length - 1]!;
      socket.write(message(XS.ERROR, m.reqId, 0, 'EACCES\0'));
    });
    const b = await openXenstore({ XENSTORED_PATH: eacces });
    await expect(b.read('/x')).rejects.toThrow('xenstore read /x: EACCES');
    expect(b.usable).toBe(true);
    await b.close();
    const silent = await scripted(() => undefined);
    const c = await openXenstore({ XENSTORED_PATH: silent }, { timeoutMs: 50 });
    await expect(c.read('/x')).rejects.toThrow('no reply within 50 ms');
    expect(c.usable).toBe(false);
    await c.close();
  });

  it('never waits for a reply past its deadline', async () => {
    const socketPath = await scripted(() => undefined);
    const client = await openXenstore({ XENSTORED_PATH: socketPath }, { deadline: Date.now() + 80 });
    const started = Date.now();
    await expect(client.read('/x')).rejects.toThrow(/no reply within [0-9]+ ms/);
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(client.read('/y')).rejects.toThrow('no time left to wait for a reply');
    await client.close();
  });

  it('names every path tried when neither socket nor device can be reached', async () => {
    const socketPath = path.join(dir, 'absent-socket');
    const device = path.join(dir, 'absent-xenbus');
    const error = await openXenstore({ XENSTORED_PATH: socketPath }, { xenbusPath: device }).catch(
      (e: unknown) => e,
    );
    expect((error as XenplanError).kind).toBe('xenstore');
    expect((error as XenplanError).message).toBe(
      `cannot reach xenstore: ${socketPath}: ENOENT; ${device}: ENOENT`,
    );
  });

  it('reports a socket path that is not a socket', async () => {
    const notSocket = path.join(dir, 'plain-file');
    fs.writeFileSync(notSocket, '');
    const device = path.join(dir, 'absent-xenbus');
    await expect(openXenstore({ XENSTORED_PATH: notSocket }, { xenbusPath: device })).rejects.toThrow(
      `cannot reach xenstore: ${notSocket}: ECONNREFUSED; ${device}: ENOENT`,
    );
  });
});

describe('xenbus device transport', () => {
  /** A fake /dev/xen/xenbus: each write is one request; replies are read back, possibly several per read. */
  function fakeDevice(answer: (request: XsMessage) => Buffer): {
    io: XsDeviceIo;
    writes: number;
    reads: number;
  } {
    const queue: Buffer[] = [];
    let wake: (() => void) | undefined;
    const decoder = new XsDecoder();
    const state = {
      writes: 0,
      reads: 0,
      io: {
        write: async (_fd: number, data: Buffer) => {
          state.writes++;
          for (const m of decoder.push(Buffer.from(data))) queue.push(answer(m));
          wake?.();
        },
        read: async (_fd: number, into: Buffer) => {
          state.reads++;
          while (queue.length === 0) await new Promise<void>((r) => (wake = r));
          const all = Buffer.concat(queue.splice(0));
          all.copy(into);
          return all.length;
        },
        close: async () => undefined,
      } satisfies XsDeviceIo,
    };
    return state;
  }

  it('speaks the same framed protocol over a file descriptor', async () => {
    const device = fakeDevice((m) => {
      const p = splitXsStrings(m.payload)[0];
      if (m.type === XS.READ && p === '/k') return message(XS.READ, m.reqId, 0, 'kv');
      if (m.type === XS.WRITE) return message(XS.WRITE, m.reqId, m.txId, 'OK\0');
      return message(XS.ERROR, m.reqId, 0, 'ENOENT\0');
    });
    const client = new XenstoreConnection(makeDeviceTransport(42, device.io));
    expect(await client.readMany(['/k', '/missing'])).toEqual(['kv', undefined]);
    await client.write('/w', 'x');
    expect(device.writes).toBe(3);
    await client.close();
  });

  it('does not read while nothing is outstanding', async () => {
    const device = fakeDevice((m) => message(XS.READ, m.reqId, 0, 'v'));
    const client = new XenstoreConnection(makeDeviceTransport(7, device.io));
    await new Promise((r) => setImmediate(r));
    expect(device.reads).toBe(0);
    expect(await client.read('/a')).toBe('v');
    await client.close();
  });
});

describe('stand-in protocol details', () => {
  let server: XenstoredHandle;
  let socketPath: string;
  beforeEach(async () => {
    socketPath = nextSocket();
    server = await startXenstored(socketPath, { '/vm/x': '1' });
  });
  afterEach(async () => {
    await server.close();
  });

  it('acknowledges a watch, fires it once at registration and again on a change below it', async () => {
    const conn = await rawConnect(socketPath);
    conn.send(message(XS.WATCH, 5, 0, 'backend/vif\0tok\0'));
    expect((await conn.receive(2)).map(text)).toEqual([
      { type: XS.WATCH, reqId: 5, txId: 0, payload: 'OK\0' },
      { type: XS.WATCH_EVENT, reqId: 0, txId: 0, payload: 'backend/vif\0tok\0' },
    ]);
    conn.send(message(XS.WRITE, 6, 0, '/local/domain/0/backend/vif/1/0/state\x004'));
    expect((await conn.receive(2)).map(text)).toEqual([
      { type: XS.WATCH_EVENT, reqId: 0, txId: 0, payload: 'backend/vif/1/0/state\0tok\0' },
      { type: XS.WRITE, reqId: 6, txId: 0, payload: 'OK\0' },
    ]);
    conn.send(message(XS.UNWATCH, 7, 0, 'backend/vif\0tok\0'));
    conn.send(message(XS.UNWATCH, 8, 0, 'backend/vif\0tok\0'));
    conn.send(message(XS.RESET_WATCHES, 9, 0, ''));
    expect((await conn.receive(3)).map(text)).toEqual([
      { type: XS.UNWATCH, reqId: 7, txId: 0, payload: 'OK\0' },
      { type: XS.ERROR, reqId: 8, txId: 0, payload: 'ENOENT\0' },
      { type: XS.RESET_WATCHES, reqId: 9, txId: 0, payload: 'OK\0' },
    ]);
    conn.close();
  });

  it('answers GET_DOMAIN_PATH, GET_PERMS/SET_PERMS, and EINVAL for unknown types', async () => {
    const conn = await rawConnect(socketPath);
    conn.send(message(XS.GET_DOMAIN_PATH, 1, 0, '7\0'));
    conn.send(message(XS.GET_PERMS, 2, 0, '/vm/x\0'));
    conn.send(message(XS.SET_PERMS, 3, 0, '/vm/x\0n0\0r7\0'));
    conn.send(message(XS.GET_PERMS, 4, 0, '/vm/x\0'));
    conn.send(message(99, 5, 0, ''));
    conn.send(message(XS.INTRODUCE, 6, 0, '1\0' + '2\0' + '3\0'));
    expect((await conn.receive(6)).map(text)).toEqual([
      { type: XS.GET_DOMAIN_PATH, reqId: 1, txId: 0, payload: '/local/domain/7\0' },
      { type: XS.GET_PERMS, reqId: 2, txId: 0, payload: 'n0\0' },
      { type: XS.SET_PERMS, reqId: 3, txId: 0, payload: 'OK\0' },
      { type: XS.GET_PERMS, reqId: 4, txId: 0, payload: 'n0\0r7\0' },
      { type: XS.ERROR, reqId: 5, txId: 0, payload: 'EINVAL\0' },
      { type: XS.ERROR, reqId: 6, txId: 0, payload: 'EINVAL\0' },
    ]);
    conn.close();
  });

  it('keeps transaction writes private until TRANSACTION_END T, and drops them on F', async () => {
    const a = await rawConnect(socketPath);
    const b = await rawConnect(socketPath);
    a.send(message(XS.TRANSACTION_START, 1, 0, '\0'));
    const [started] = await a.receive(1);
    const tx = Number.parseInt(started!.payload.toString(), 10);
    a.send(message(XS.WRITE, 2, tx, '/vm/y\0inside'));
    a.send(message(XS.READ, 3, tx, '/vm/y\0'));
    expect((await a.receive(2)).map((m) => m.payload.toString())).toEqual(['OK\0', 'inside']);
    b.send(message(XS.READ, 1, 0, '/vm/y\0'));
    b.send(message(XS.READ, 2, tx, '/vm/y\0')); // another connection's transaction is unknown to b
    expect((await b.receive(2)).map(text)).toEqual([
      { type: XS.ERROR, reqId: 1, txId: 0, payload: 'ENOENT\0' },
      { type: XS.ERROR, reqId: 2, txId: tx, payload: 'ENOENT\0' },
    ]);
    a.send(message(XS.TRANSACTION_END, 4, tx, 'T\0'));
    expect((await a.receive(1)).map(text)).toEqual([
      { type: XS.TRANSACTION_END, reqId: 4, txId: tx, payload: 'OK\0' },
    ]);
    expect(server.tree()['/vm/y']).toBe('inside');

    a.send(message(XS.TRANSACTION_START, 5, 0, '\0'));
    const tx2 = Number.parseInt((await a.receive(1))[0]!.payload.toString(), 10);
    a.send(message(XS.RM, 6, tx2, '/vm\0'));
    a.send(message(XS.TRANSACTION_END, 7, tx2, 'F\0'));
    await a.receive(2);
    expect(server.tree()['/vm/y']).toBe('inside');
    a.close();
    b.close();
  });

  it('pages a directory with DIRECTORY_PART, ending with an empty name', async () => {
    const conn = await rawConnect(socketPath);
    conn.send(message(XS.DIRECTORY_PART, 1, 0, '/vm\0' + '0\0'));
    const [reply] = await conn.receive(1);
    const parts = reply!.payload.toString().split('\0');
    expect(parts.slice(1)).toEqual(['x', '', '']);
    expect(parts[0]).toMatch(/^[0-9a-f]+$/);
    conn.close();
  });

  it('answers E2BIG to a DIRECTORY listing over 4096 bytes, and pages it with DIRECTORY_PART', async () => {
    const names = Array.from({ length: 300 }, (_, i) => `child-number-${String(i).padStart(4, '0')}`);
    const big = await startXenstored(nextSocket(), Object.fromEntries(names.map((n) => [`/big/${n}`, 'v'])));
    const conn = await rawConnect(big.socketPath);
    conn.send(message(XS.DIRECTORY, 1, 0, '/big\0'));
    expect((await conn.receive(1)).map(text)).toEqual([
      { type: XS.ERROR, reqId: 1, txId: 0, payload: 'E2BIG\0' },
    ]);
    const seen: string[] = [];
    let offset = 0;
    for (let page = 0; page < 10; page++) {
      conn.send(message(XS.DIRECTORY_PART, 2, 0, `/big\0${offset}\0`));
      const [reply] = await conn.receive(1);
      const body = reply!.payload.subarray(reply!.payload.indexOf(0) + 1);
      const done = body.length === 0 || body.subarray(-2).equals(Buffer.from([0, 0]));
      const chunk = done ? body.subarray(0, body.length - 1) : body;
      seen.push(...splitXsStrings(chunk));
      offset += chunk.length;
      if (done) break;
    }
    expect(seen).toEqual(names);
    conn.close();
    await big.close();
  });
});
