/**
 * A cpio archive in the "newc" format, which is what the Linux kernel unpacks as an initramfs.
 * Pure: entries in, bytes out. Every entry is owned by root; only what an initramfs needs
 * (directories, regular files, symlinks, character devices) is supported.
 */

export type CpioEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode?: number }
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly data: Uint8Array | string;
      readonly mode?: number;
    }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | {
      readonly kind: 'char';
      readonly path: string;
      readonly major: number;
      readonly minor: number;
      readonly mode?: number;
    };

const TYPE = { dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000 } as const;
const ENCODER = new TextEncoder();

function hex8(value: number): string {
  return value.toString(16).toUpperCase().padStart(8, '0');
}

function pad4(length: number): Uint8Array {
  return new Uint8Array((4 - (length % 4)) % 4);
}

/** The archive: the entries in order, then the TRAILER!!! entry the format ends with. */
export function buildCpio(entries: readonly CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const push = (bytes: Uint8Array) => {
    parts.push(bytes);
    offset += bytes.length;
  };
  const record = (path: string, mode: number, data: Uint8Array, rdev: [number, number], ino: number) => {
    if (path.startsWith('/') || path.split('/').includes('..') || path.length === 0)
      throw new Error(`cpio path ${JSON.stringify(path)}: expected a relative path without ..`);
    const name = ENCODER.encode(`${path}\0`);
    const fields = [
      ino,
      mode,
      0,
      0,
      mode & TYPE.dir ? 2 : 1,
      0,
      data.length,
      0,
      0,
      rdev[0],
      rdev[1],
      name.length,
      0,
    ];
    const header = ENCODER.encode(`070701${fields.map(hex8).join('')}`);
    push(header);
    push(name);
    push(pad4(offset));
    push(data);
    push(pad4(offset));
  };
  let ino = 1;
  for (const entry of entries) {
    ino += 1;
    switch (entry.kind) {
      case 'dir':
        record(entry.path, TYPE.dir | (entry.mode ?? 0o755), new Uint8Array(), [0, 0], ino);
        break;
      case 'file': {
        const data = typeof entry.data === 'string' ? ENCODER.encode(entry.data) : entry.data;
        record(entry.path, TYPE.file | (entry.mode ?? 0o644), data, [0, 0], ino);
        break;
      }
      case 'symlink':
        record(entry.path, TYPE.symlink | 0o777, ENCODER.encode(entry.target), [0, 0], ino);
        break;
      case 'char':
        record(
          entry.path,
          TYPE.char | (entry.mode ?? 0o600),
          new Uint8Array(),
          [entry.major, entry.minor],
          ino,
        );
        break;
    }
  }
  record('TRAILER!!!', 0, new Uint8Array(), [0, 0], 0);
  const out = new Uint8Array(offset);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
