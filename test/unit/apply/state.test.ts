import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecord, writeRecord } from '../../../src/apply/state.ts';
import { XenplanError } from '../../../src/model/error.ts';
import type { StartRecord } from '../../../src/model/record.ts';

describe('network-script state file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-state-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A state file as start wrote it before it recorded changed settings.
  const old = {
    version: 1 as const,
    bridge: 'xenbr0',
    created: ['xenbr0'],
    enslaved: [{ dev: 'eth0', master: 'xenbr0', up: true }],
    addresses: [],
    routes: [],
    sysctls: [],
  };

  it('reads a file written before settings were recorded as having none to put back', () => {
    const path = join(dir, 'network-old.json');
    writeFileSync(path, JSON.stringify(old));
    expect(readRecord(path)).toEqual({ ...old, settings: [] });
  });

  it('reads back the changed settings it wrote', () => {
    const path = join(dir, 'run', 'network-xenbr0.json');
    const record: StartRecord = {
      ...old,
      settings: [
        { dev: 'bond0', kind: 'bond-option', name: 'mode', before: 'balance-rr' },
        { dev: 'xenbr0', kind: 'bridge-option', name: 'forward_delay', before: '1500' },
        { dev: 'eth0', kind: 'mtu', before: '1500' },
        { dev: 'xenbr0', kind: 'mac', before: '52:54:00:00:00:ff' },
      ],
    };
    writeRecord(path, record);
    expect(readRecord(path)).toEqual(record);
  });

  it('refuses a settings entry that is not a setting, and reads a missing file as no record', () => {
    const path = join(dir, 'network-bad.json');
    writeFileSync(
      path,
      JSON.stringify({ ...old, settings: [{ dev: 'bond0', kind: 'bond-option', before: '0' }] }),
    );
    expect(() => readRecord(path)).toThrow(
      new XenplanError(
        'environment',
        `${path} is not a network-script state file (expected JSON with version 1); remove it if start never ran`,
      ),
    );
    expect(readRecord(join(dir, 'network-none.json'))).toBeUndefined();
  });
});
