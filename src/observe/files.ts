import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { FileReader } from '../model/ports.ts';
import { readBoundedText } from './text-file.ts';

/** The real FileReader: /sys and /proc reads, never throwing for a missing path. */
export const realFiles: FileReader = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  list(path) {
    try {
      return readdirSync(path);
    } catch {
      return undefined;
    }
  },
  readlink(path) {
    try {
      return readlinkSync(path);
    } catch {
      return undefined;
    }
  },
  exists(path) {
    return existsSync(path);
  },
  readText: readBoundedText,
};
