import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every path under `root`, sorted, with its type, mode and content hash or link target: two
 * listings are equal exactly when the trees are (install and uninstall tests compare them).
 */
export function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const mode = (st.mode & 0o7777).toString(8);
      const rel = path.slice(root.length);
      if (st.isSymbolicLink()) out.push(`l ${rel} -> ${readlinkSync(path)}`);
      else if (st.isDirectory()) {
        out.push(`d ${mode} ${rel}`);
        walk(path);
      } else out.push(`f ${mode} ${rel} ${sha16(readFileSync(path))}`);
    }
  };
  walk(root);
  return out;
}

/** The first 16 hex digits of a SHA-256. */
export function sha16(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 16);
}
