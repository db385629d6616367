import { describe, expect, it } from 'vitest';
import { nodeProblem } from '../../../src/cli/node-version.ts';

describe('nodeProblem', () => {
  it('accepts Node 18.19 and later, as process.versions or node --version print it', () => {
    for (const v of ['18.19.0', 'v18.19.1\n', 'v20.11.0', '22.0.0']) expect(nodeProblem(v)).toBeUndefined();
  });

  it('says which Node is needed for an older one', () => {
    expect(nodeProblem('v18.18.2')).toBe(
      'Node 18.18 is too old: xenplan needs Node 18.19 or later (official Node 18 builds need glibc 2.28 or later)',
    );
    expect(nodeProblem('v12.22.12')).toMatch(/^Node 12\.22 is too old/);
  });

  it('names what it could not read', () => {
    expect(nodeProblem('garbage')).toBe('cannot tell which Node this is ("garbage")');
  });
});
