import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExamples } from '../../../src/cli/examples.ts';
import { SEED_EXTRA_KEYS, SEED_IFCFG } from '../../../src/lab/scenario.ts';
import { EXAMPLE_FILES } from '../../../src/model/examples.ts';

const ROOT = join(import.meta.dirname, '../../..');

/** Every file under dir, relative path → text. */
function tree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    if (statSync(join(dir, path)).isDirectory()) Object.assign(out, tree(dir, path));
    else out[path] = readFileSync(join(dir, path), 'utf8');
  }
  return out;
}

function context() {
  const out: string[] = [];
  const ctx = {
    argv: [],
    env: {},
    runner: { run: () => Promise.reject(new Error('no commands here')) },
    files: { read: () => undefined, list: () => undefined, readlink: () => undefined, exists: () => false },
    out: (text: string) => out.push(text),
    err: (text: string) => out.push(text),
  };
  return { ctx, out };
}

describe('the example configuration', () => {
  it('the bundled copy is exactly the repository examples/ (regenerate src/model/examples.ts if not)', () => {
    expect(EXAMPLE_FILES).toEqual(tree(join(ROOT, 'examples')));
  });

  it('the lab plays those files and keys', () => {
    expect(Object.keys(SEED_IFCFG)).toEqual([
      'ifcfg-bond0',
      'ifcfg-eth0',
      'ifcfg-eth1',
      'ifcfg-veth0',
      'ifcfg-vif0.0',
      'ifcfg-xenbr0',
    ]);
    expect(SEED_IFCFG['ifcfg-veth0']).toContain('IPADDR=192.0.2.11\n');
    expect(SEED_EXTRA_KEYS).toEqual([
      'noarp=eth0,eth1,bond0,vif0.0,vif1.0',
      'sysctl.net.bridge.bridge-nf-call-iptables=0',
      'sysctl.net.bridge.bridge-nf-call-ip6tables=0',
      'sysctl.net.bridge.bridge-nf-call-arptables=0',
    ]);
  });

  it('xenplan examples DIR writes them, and refuses to overwrite any file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenplan-examples-'));
    try {
      const { ctx, out } = context();
      expect(runExamples(ctx, [join(dir, 'x')])).toBe(0);
      expect(tree(join(dir, 'x'))).toEqual(EXAMPLE_FILES);
      expect(out.join('')).toContain(`wrote ${join(dir, 'x', 'ifcfg', 'ifcfg-bond0')}\n`);
      expect(() => runExamples(ctx, [join(dir, 'x')])).toThrow(/already exist/);
      expect(() => runExamples(ctx, [])).toThrow(/expected one directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
