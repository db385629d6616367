import { describe, expect, it } from 'vitest';
import { show } from '../../../src/model/names.ts';
import { validateBackend } from '../../../src/xen/backend.ts';
import { HOTPLUG_ERROR_MAX, hotplugSentence } from '../../../src/xen/report.ts';
import { XS_PAYLOAD_MAX } from '../../../src/xen/xs-wire.ts';

describe('the failure sentence always fits xenstore', () => {
  it('show() quotes a long value by a prefix and its length', () => {
    expect(show('eth0')).toBe('"eth0"');
    expect(show('x'.repeat(700))).toBe(`"${'x'.repeat(48)}"… (700 bytes)`);
  });

  it('six 700-byte backend values make a sentence far below the limit', () => {
    const long = (c: string) => c.repeat(700);
    const keys = { bridge: long('b'), mac: long('m'), ip: long('i'), mtu: long('9'), vifname: long('v') };
    const message = (() => {
      try {
        validateBackend({ ...keys, frontend: long('f') });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toMatch(/^bridge "b{48}"… \(700 bytes\)/);
    expect(Buffer.byteLength(hotplugSentence(message))).toBeLessThanOrEqual(HOTPLUG_ERROR_MAX);
  });

  it('hotplugSentence cuts at a character boundary, however long the text', () => {
    const cut = hotplugSentence('é'.repeat(5000));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(HOTPLUG_ERROR_MAX);
    expect(cut.endsWith('é…')).toBe(true);
    expect(HOTPLUG_ERROR_MAX + 'backend/vif/32751/2147483647/hotplug-error'.length + 1).toBeLessThan(
      XS_PAYLOAD_MAX,
    );
    expect(hotplugSentence('short')).toBe('short');
  });
});
