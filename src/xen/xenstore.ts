/**
 * A lean xenstore client speaking the wire protocol of Xen's `xs_wire.h` directly: over the unix
 * socket of xenstored (`XENSTORED_PATH`, default `/var/run/xenstored/socket`) or, when that is
 * missing, over the `/dev/xen/xenbus` character device. No process per key, unlike `xenstore-read`.
 *
 * This file opens it: the wire format is in xs-wire.ts, the byte pipes in xs-transport.ts, the
 * client itself (pipelined requests, replies matched by req_id) in xs-connection.ts. Only
 * `node:net` and `node:fs` are used; nothing runs at import time.
 */
import { XenplanError } from '../model/error.ts';
import {
  DEFAULT_XENSTORE_TIMEOUT_MS,
  type XenstoreClient,
  XenstoreConnection,
  type XenstoreOptions,
} from './xs-connection.ts';
import { connectSocket, makeDeviceTransport, makeSocketTransport, openDevice } from './xs-transport.ts';

export const DEFAULT_XENSTORED_PATH = '/var/run/xenstored/socket';
export const DEFAULT_XENBUS_PATH = '/dev/xen/xenbus';
/**
 * How long a refused socket is tried again: long enough for a xenstored restarting, short
 * enough that a stale socket of a dead one (dom0 shutting down) costs little.
 */
const REFUSED_PATIENCE_MS = 2_000;

function errnoOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/**
 * Connects to xenstored: the unix socket at `env.XENSTORED_PATH` (default
 * `/var/run/xenstored/socket`), else the xenbus device. A busy (EAGAIN) socket is tried again
 * until `options.deadline` (default: one reply's timeout from now), a refused one for a short
 * while. Throws a xenstore error naming every
 * path tried and why it failed.
 */
export async function openXenstore(
  env: Record<string, string | undefined>,
  options: XenstoreOptions = {},
): Promise<XenstoreClient> {
  const socketPath = env.XENSTORED_PATH || DEFAULT_XENSTORED_PATH;
  const devicePath = options.xenbusPath ?? DEFAULT_XENBUS_PATH;
  let socketError: unknown;
  // A full backlog is never a reason to give up at once: without a deadline, wait as for a reply.
  const until = options.deadline ?? Date.now() + (options.timeoutMs ?? DEFAULT_XENSTORE_TIMEOUT_MS);
  const patience = { until, refusedMs: REFUSED_PATIENCE_MS };
  try {
    const socket = await connectSocket(socketPath, patience);
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
