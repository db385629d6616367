import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/file.ts';
import { parseNetworkSettings } from '../../../src/config/network.ts';
import type { XenplanError } from '../../../src/model/error.ts';

const CONF = '/etc/xenplan.conf';

function withConfig(text: string, ...words: string[]) {
  return parseNetworkSettings({
    words: [`config=${CONF}`, ...words],
    configText: { name: CONF, text },
    defaultRouteDev: 'eth0',
  });
}

function configProblems(text: string, ...words: string[]): string[] {
  try {
    withConfig(text, ...words);
  } catch (error) {
    expect((error as XenplanError).kind).toBe('config');
    return (error as XenplanError).message.split('\n');
  }
  throw new Error('no error');
}

describe('parseConfigText', () => {
  it('reads key=value lines with comments, blanks, spaces and quotes', () => {
    const text = [
      '# xenplan settings',
      '',
      'bridge=xenbr0',
      '  bond = bond0  ',
      "slaves='eth0,eth1'",
      'bond-mode="active-backup"   # safe across two switches',
      'bond.primary=eth0#not-a-comment',
      '\t# indented comment',
    ].join('\n');
    expect(parseConfigText(CONF, text)).toEqual({
      settings: [
        { key: 'bridge', value: 'xenbr0', where: `${CONF}:3` },
        { key: 'bond', value: 'bond0', where: `${CONF}:4` },
        { key: 'slaves', value: 'eth0,eth1', where: `${CONF}:5` },
        { key: 'bond-mode', value: 'active-backup', where: `${CONF}:6` },
        { key: 'bond.primary', value: 'eth0#not-a-comment', where: `${CONF}:7` },
      ],
      problems: [],
    });
  });

  it('handles CRLF line ends', () => {
    expect(parseConfigText(CONF, 'bridge=xenbr1\r\nstp=on\r\n').settings).toEqual([
      { key: 'bridge', value: 'xenbr1', where: `${CONF}:1` },
      { key: 'stp', value: 'on', where: `${CONF}:2` },
    ]);
  });

  it('names the line of text that is not a setting', () => {
    expect(parseConfigText(CONF, 'bridge=xenbr0\nbridge xenbr1\n=eth0\nmtu="1500\n').problems).toEqual([
      `${CONF}:2: "bridge xenbr1" is not a setting; expected key=value`,
      `${CONF}:3: "=eth0" is not a setting; expected key=value`,
      `${CONF}:4: "mtu=\\"1500" has an unterminated quote`,
    ]);
  });
});

describe('config=FILE', () => {
  const text = [
    '# dom0 uplink',
    'bond=bond0',
    'slaves=eth0,eth1',
    'bond-mode=balance-rr',
    'bond.primary=eth0',
    'address=192.0.2.11/24',
    'gateway=192.0.2.1',
    'switches=separate',
    'sysctl.net.bridge.bridge-nf-call-iptables=0',
  ].join('\n');

  it('reads the settings of the file', () => {
    expect(configProblems(text)).toEqual([
      `${CONF}:5: bond.primary=eth0: only for bond-mode active-backup, balance-tlb, balance-alb; the kernel refuses it in balance-rr`,
    ]);
  });

  it('lets words override the file', () => {
    expect(
      withConfig(text, 'bond-mode=active-backup', 'gateway=192.0.2.254', 'address=192.0.2.12/24'),
    ).toEqual({
      desired: {
        bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 },
        uplink: 'bond0',
        bond: {
          name: 'bond0',
          slaves: ['eth0', 'eth1'],
          mode: 'active-backup',
          options: { miimon: '100', primary: 'eth0' },
        },
        dom0: { kind: 'bridge' },
        addresses: ['192.0.2.12/24'],
        addressesFrom: 'address=',
        gateway: '192.0.2.254',
        bridgeNf: 'keep',
        strict: false,
        topology: { switches: 'separate' },
      },
      declared: { sysctls: { 'net.bridge.bridge-nf-call-iptables': '0' } },
    });
  });

  it('drops the file bond when the words give netdev', () => {
    expect(withConfig(text, 'netdev=eth2').desired).toEqual({
      bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 },
      uplink: 'eth2',
      dom0: { kind: 'bridge' },
      addresses: ['192.0.2.11/24'],
      addressesFrom: 'address= in /etc/xenplan.conf',
      gateway: '192.0.2.1',
      bridgeNf: 'keep',
      strict: false,
      topology: { switches: 'separate' },
    });
  });

  it('names file and line in errors', () => {
    const bad = [
      'bridge=xenbr0',
      '',
      '# comment',
      'bond=bond0',
      'slaves=eth0,eth1',
      'miimon=100',
      'bond-mode=fast',
    ].join('\n');
    expect(configProblems(bad)).toEqual([
      `${CONF}:7: bond-mode=fast: expected one of balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb or 0-6`,
    ]);
  });

  it('reports problems of file and words together', () => {
    expect(configProblems('stp=maybe\nmtu=12\nfoo bar', 'bridge=a$b')).toEqual([
      `${CONF}:1: stp=maybe: expected one of on, off`,
      `${CONF}:2: mtu=12: MTU "12" is not a valid MTU; expected a whole number from 68 to 65535`,
      `${CONF}:3: "foo bar" is not a setting; expected key=value`,
      'bridge=a$b: interface name "a$b" is not a valid interface name; expected letters, digits and . _ + - (starting with a letter or digit)',
    ]);
  });

  it('reads config= and ifcfg= only from the command line', () => {
    expect(configProblems('config=/etc/other.conf\nifcfg=/etc/sysconfig/network-scripts')).toEqual([
      `${CONF}:1: config=/etc/other.conf: config= is only read from the command line`,
      `${CONF}:2: ifcfg=/etc/sysconfig/network-scripts: ifcfg= is only read from the command line`,
    ]);
  });

  it('refuses a hostile value in the file, naming it', () => {
    expect(configProblems('netdev="eth0; reboot"')).toEqual([
      `${CONF}:1: netdev="eth0; reboot": interface name "eth0; reboot" is not a valid interface name; expected letters, digits and . _ + - (starting with a letter or digit)`,
    ]);
  });
});

describe('the default config file (no config= word)', () => {
  const DEFAULT = '/etc/xen/xenplan.conf';
  const read = (text: string, ...words: string[]) =>
    parseNetworkSettings({ words, configText: { name: DEFAULT, text }, defaultRouteDev: 'eth0' }).desired;

  it('is read when the caller passes its text, and words override it', () => {
    const want = read('bridge=xenbr1\nnetdev=eth1\nstp=on\n', 'stp=off');
    expect(want.bridge.name).toBe('xenbr1');
    expect(want.uplink).toBe('eth1');
    expect(want.bridge.stp).toBe(false);
  });

  it('skips host-wide vif-* settings it does not know (vif-script reads them)', () => {
    expect(read('bridge=xenbr1\nvif-antispoof=yes\nvif-anything=else\n').bridge.name).toBe('xenbr1');
  });

  it('still refuses a vif-* word on the command line, naming it', () => {
    expect(() => read('', 'vif-antispoof=yes')).toThrow(/vif-antispoof=yes: unknown setting/);
  });

  it('names the default file and line of a bad value', () => {
    expect(() => read('bridge=xenbr0\nmtu=12\n')).toThrow(`${DEFAULT}:2: mtu=12`);
  });
});
