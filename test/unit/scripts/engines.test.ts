import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const json = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));

describe('the two Node requirements', () => {
  const pkg = json('package.json');

  it("engines is the bundle's runtime: the build's target", () => {
    expect(pkg.engines).toEqual({ node: '>=18.19' });
    expect(readFileSync(join(ROOT, 'scripts/build.mjs'), 'utf8')).toContain("target: 'node18.19'");
  });

  it('devEngines is the development requirement: what vite (under vitest) needs', () => {
    expect(pkg.devEngines.runtime).toEqual({
      name: 'node',
      version: json('node_modules/vite/package.json').engines.node,
      onFail: 'error',
    });
  });

  it('the README states both, separately', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('runs on **Node >= 18.19**');
    expect(readme).toContain('needs **Node ^20.19 or\n>= 22.12**');
  });
});
