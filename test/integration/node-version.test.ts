import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Scripts } from '../support/bundle.ts';

// install --node asks the node it is given for its version: an old one is refused, by name,
// before anything is installed.
const scripts = new Scripts();
const work = mkdtempSync(join(tmpdir(), 'xenplan-node-'));
afterAll(() => {
  scripts.remove();
  rmSync(work, { recursive: true, force: true });
});

describe('install --node checks the version of that node', () => {
  it('refuses Node 16 with exit 4, naming the version needed, and installs nothing', () => {
    const old = join(work, 'node16');
    writeFileSync(old, '#!/bin/sh\necho v16.20.2\n');
    chmodSync(old, 0o755);
    const root = join(work, 'root');
    mkdirSync(root);
    const result = scripts.run('xenplan', ['install', '--prefix', root, '--node', old]);
    expect(result.status).toBe(4);
    expect(result.stderr).toContain(
      `--node ${old}: Node 16.20 is too old: xenplan needs Node 18.19 or later`,
    );
    expect(readdirSync(root)).toEqual([]);
  });
});
