import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** The character device 1:3, /dev/null: an empty settings file (`config=/dev/null`). */
function isDevNull(rdev: number): boolean {
  return ((rdev >> 8) & 0xfff) === 1 && ((rdev & 0xff) | ((rdev >> 12) & 0xfff00)) === 3;
}

function kindOf(stat: ReturnType<typeof fstatSync>): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Reads a settings file that may be anything an admin typed: opened non-blocking (a FIFO must
 * not hang the caller), checked to be a regular file of at most `maxBytes` before reading, and
 * read only up to that size (a file that grows meanwhile is refused, not slurped). Text only:
 * UTF-8 without NULs or other control characters. undefined: it does not exist.
 */
export function readBoundedText(
  path: string,
  maxBytes: number,
): { text: string } | { problem: string } | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    return { problem: `cannot open it (${code ?? String(error)})` };
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isCharacterDevice() && isDevNull(stat.rdev)) return { text: '' };
    if (!stat.isFile()) return { problem: `it is ${kindOf(stat)}; expected a regular text file` };
    if (stat.size > maxBytes)
      return { problem: `it has ${stat.size} bytes; expected a text file of at most ${maxBytes} bytes` };
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes)
        return { problem: `it grew past ${maxBytes} bytes while being read; expected a text file` };
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, length));
    } catch {
      return { problem: 'it is not UTF-8 text (binary content); expected a text file of key=value lines' };
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
    if (control !== null)
      return {
        problem: `it holds the control character 0x${control[0].charCodeAt(0).toString(16).padStart(2, '0')} (binary content); expected a text file`,
      };
    return { text };
  } catch (error) {
    return { problem: `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  } finally {
    closeSync(fd);
  }
}
