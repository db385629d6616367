import { describe, expect, it } from 'vitest';
import {
  checkCidr,
  checkInterfaceName,
  checkMac,
  checkMtu,
  isIpv4,
  isIpv6,
} from '../../../src/model/names.ts';

// The gate every value from xenstore, arguments and the environment passes before a Step.
describe('checkInterfaceName', () => {
  it.each(['eth0', 'vif5.0', 'vif5.0-emu', 'xenbr0', 'bond0', 'a', 'web_1+x', '123456789012345'])(
    'accepts %j',
    (name) => {
      expect(checkInterfaceName(name)).toBeUndefined();
    },
  );

  it.each([
    ['', 'interface name is empty; expected 1 to 15 characters'],
    ['1234567890123456', 'interface name "1234567890123456" is 16 bytes long; the kernel allows at most 15'],
    ['ééééééééé', 'interface name "ééééééééé" is 18 bytes long; the kernel allows at most 15'],
    ['..', 'interface name ".." is not a valid interface name'],
    ['../eth0', 'interface name "../eth0" is not a valid interface name'],
    ['-rf', 'interface name "-rf" is not a valid interface name'],
    ['eth0;reboot', 'interface name "eth0;reboot" is not a valid interface name'],
    ['$(id)', 'interface name "$(id)" is not a valid interface name'],
    ['`id`', 'interface name "`id`" is not a valid interface name'],
    ['a b', 'interface name "a b" is not a valid interface name'],
    ['a\nb', 'interface name "a\\nb" is not a valid interface name'],
    ['eth0:1', 'interface name "eth0:1" is not a valid interface name'],
  ])('refuses %j', (name, message) => {
    expect(checkInterfaceName(name)).toContain(message);
  });
});

describe('checkMac / checkMtu', () => {
  it('accepts MACs in either case, refuses anything else', () => {
    expect(checkMac('00:16:3E:aa:BB:cc')).toBeUndefined();
    expect(checkMac('00:16:3e:aa:bb')).toBe(
      'MAC address "00:16:3e:aa:bb" is not a MAC address; expected six hex pairs like 00:16:3e:12:34:56',
    );
    expect(checkMac('00-16-3e-aa-bb-cc')).toBeDefined();
  });

  it('accepts MTUs from 68 to 65535', () => {
    expect([checkMtu('68'), checkMtu('9000'), checkMtu('65535')]).toEqual([undefined, undefined, undefined]);
    for (const bad of ['67', '65536', '1500 ', '+1500', '0x500', ''])
      expect(checkMtu(bad)).toBe(
        `MTU ${JSON.stringify(bad)} is not a valid MTU; expected a whole number from 68 to 65535`,
      );
  });
});

describe('addresses', () => {
  it('knows IPv4', () => {
    expect(['192.0.2.1', '0.0.0.0', '255.255.255.255'].map(isIpv4)).toEqual([true, true, true]);
    expect(['192.0.2', '192.0.2.256', '01.2.3.4', '1.2.3.4.5', ' 1.2.3.4'].map(isIpv4)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('knows IPv6 in its textual forms', () => {
    expect(
      ['::', '::1', '2001:db8::1', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '::ffff:192.0.2.1'].map(isIpv6),
    ).toEqual([true, true, true, true, true, true]);
    expect(
      ['1:2:3:4:5:6:7:8:9', '2001::db8::1', '12345::', 'g::1', '1.2.3.4', '::1%eth0'].map(isIpv6),
    ).toEqual([false, false, false, false, false, false]);
  });

  it('checks an address with an optional prefix', () => {
    expect([checkCidr('192.0.2.10/24'), checkCidr('192.0.2.10'), checkCidr('2001:db8::1/64')]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    for (const bad of ['192.0.2.10/33', '2001:db8::1/129', '192.0.2.10/24/1', 'x/24', '192.0.2.10/'])
      expect(checkCidr(bad)).toBe(
        `address ${JSON.stringify(bad)} is not an IP address with an optional /prefix, like 192.0.2.10/24`,
      );
  });
});
