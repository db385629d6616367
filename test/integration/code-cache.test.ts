import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE } from '../support/bundle.ts';

// The bundle's V8 code cache (src/cli/code-cache.ts): written on first run, used after, and a
// damaged, foreign or untrusted cache is never run: the command works and the cache is rewritten.
describe('the code cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (cache: string, extra: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [BUNDLE, '--help'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', XENPLAN_CACHE_DIR: cache, ...extra },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: xenplan COMMAND');
    return r.stdout;
  };
  const files = (cache: string) => (existsSync(cache) ? readdirSync(cache) : []);

  it('is written on first run (root-only), then used as it is', () => {
    const cache = join(dir, 'first');
    run(cache);
    const [name] = files(cache);
    expect(files(cache)).toHaveLength(1);
    expect(name).toMatch(
      new RegExp(`^xenplan-[0-9a-f]{16}-${process.version}-${process.arch}-[0-9a-f]{8}\\.v8$`),
    );
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    const file = join(cache, name!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const before = statSync(file);
    run(cache);
    // Accepted: not rewritten (same inode, same content).
    expect(statSync(file).ino).toBe(before.ino);
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
  });

  it('a damaged cache is rejected, the command still works, and the cache is rewritten', () => {
    const cache = join(dir, 'damaged');
    const clean = run(cache);
    const file = join(cache, files(cache)[0]!);
    const good = readFileSync(file);
    writeFileSync(file, Buffer.alloc(good.length, 0x5a));
    expect(run(cache)).toBe(clean);
    expect(readFileSync(file).equals(Buffer.alloc(good.length, 0x5a))).toBe(false);
    run(cache);
  });

  it('a cache others can write is never read, and is replaced by a root-only one', () => {
    const cache = join(dir, 'loose');
    run(cache);
    const file = join(cache, files(cache)[0]!);
    writeFileSync(file, 'not code');
    chmodSync(file, 0o666);
    run(cache);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toBe('not code');
  });

  it('XENPLAN_CODE_CACHE=off writes nothing', () => {
    const cache = join(dir, 'off');
    run(cache, { XENPLAN_CODE_CACHE: 'off' });
    expect(existsSync(cache)).toBe(false);
  });

  it('caches of another bundle are removed when this one is written', () => {
    const cache = join(dir, 'old');
    run(cache);
    const [own] = files(cache);
    writeFileSync(join(cache, 'xenplan-0000000000000000-v18.19.0-x64-00000000.v8'), 'old', { mode: 0o600 });
    rmSync(join(cache, own!));
    run(cache);
    expect(files(cache)).toEqual([own]);
  });
});
