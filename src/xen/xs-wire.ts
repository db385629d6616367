/**
 * The wire format of Xen's `xs_wire.h`: every message is a 16-byte header (type, req_id, tx_id,
 * len: little-endian u32) and `len` bytes of payload made of NUL-separated strings. Encoding,
 * splitting, and reassembling messages from a byte stream.
 */
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
