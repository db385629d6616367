import { describe, expect, it } from 'vitest';
import { slotCount, slotName } from '../../../src/cli/slot.ts';

describe('slotCount', () => {
  it('is off unless asked for; a count or auto (the CPUs, at least 2)', () => {
    expect(slotCount({})).toBe(0);
    expect(slotCount({ XENPLAN_SLOTS: 'off' })).toBe(0);
    expect(slotCount({ XENPLAN_SLOTS: '0' })).toBe(0);
    expect(slotCount({ XENPLAN_SLOTS: '-3' })).toBe(0);
    expect(slotCount({ XENPLAN_SLOTS: '4' })).toBe(4);
    expect(slotCount({ XENPLAN_SLOTS: 'auto' })).toBeGreaterThanOrEqual(2);
  });

  it('names one set of abstract sockets per run directory', () => {
    expect(slotName({}, 1)).toBe('\0xenplan-slot:/run/xenplan:1');
    expect(slotName({ XENPLAN_RUN_DIR: '/tmp/r' }, 0)).toBe('\0xenplan-slot:/tmp/r:0');
  });
});
