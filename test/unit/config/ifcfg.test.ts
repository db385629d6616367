import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseIfcfgFiles } from '../../../src/config/ifcfg.ts';
import { parseIfcfgText } from '../../../src/config/ifcfg-file.ts';
import { parseNetworkSettings } from '../../../src/config/network.ts';
import { reviewNetwork } from '../../../src/doctor/review.ts';
import type { XenplanError } from '../../../src/model/error.ts';

const SEED_DIR = fileURLToPath(new URL('../../fixtures/ifcfg/seed/', import.meta.url));
const SEED: Record<string, string> = Object.fromEntries(
  readdirSync(SEED_DIR).map((name) => [name, readFileSync(`${SEED_DIR}${name}`, 'utf8')]),
);

function fromIfcfg(files: Record<string, string>, ...words: string[]) {
  return parseNetworkSettings({ words: ['ifcfg=/etc/sysconfig/network-scripts', ...words], ifcfg: files });
}

function ifcfgProblems(files: Record<string, string>, ...words: string[]): string[] {
  try {
    parseNetworkSettings({
      words: ['ifcfg=/etc/sysconfig/network-scripts', ...words],
      ifcfg: files,
      defaultRouteDev: 'eth0',
    });
  } catch (error) {
    expect((error as XenplanError).kind).toBe('config');
    return (error as XenplanError).message.split('\n');
  }
  throw new Error('no error');
}

const lines = (...l: string[]) => `${l.join('\n')}\n`;

describe('parseIfcfgText', () => {
  it('reads shell-style assignments with quotes, escapes and comments', () => {
    const text = lines(
      '# comment',
      'DEVICE=eth0',
      "BONDING_OPTS='mode=0 miimon=100'",
      'NAME="System eth0"  # trailing comment',
      'ESCAPED="a\\"b\\\\c"',
      'BACKSLASH=a\\ b',
      'export ONBOOT=yes',
      'MIXED=ab"cd"\'ef\'',
      'EMPTY=',
    );
    const { vars, problems } = parseIfcfgText('ifcfg-eth0', text);
    expect(problems).toEqual([]);
    expect(Object.fromEntries([...vars].map(([k, v]) => [k, v.value]))).toEqual({
      DEVICE: 'eth0',
      BONDING_OPTS: 'mode=0 miimon=100',
      NAME: 'System eth0',
      ESCAPED: 'a"b\\c',
      BACKSLASH: 'a b',
      ONBOOT: 'yes',
      MIXED: 'abcdef',
      EMPTY: '',
    });
    expect(vars.get('BONDING_OPTS')?.line).toBe(3);
  });

  it('refuses what would need a shell, naming file and line', () => {
    const text = lines(
      'IPADDR=$(hostname -i)',
      'DEVICE=eth0; reboot',
      'GATEWAY="$GW"',
      "NAME='unterminated",
      'MTU=1500 9000',
      'not an assignment',
      'HWADDR=`cat /x`',
    );
    expect(parseIfcfgText('ifcfg-eth0', text).problems).toEqual([
      'ifcfg-eth0:1: "IPADDR=$(hostname -i)": "$" needs a shell; expected a plain or quoted value',
      'ifcfg-eth0:2: "DEVICE=eth0; reboot": ";" needs a shell; expected a plain or quoted value',
      'ifcfg-eth0:3: "GATEWAY=\\"$GW\\"": "$" needs a shell; expected a plain or quoted value',
      'ifcfg-eth0:4: "NAME=\'unterminated": unterminated single quote',
      'ifcfg-eth0:5: "MTU=1500 9000": unexpected "9000" after the value; quote values with spaces',
      'ifcfg-eth0:6: "not an assignment" is not a NAME=value assignment',
      'ifcfg-eth0:7: "HWADDR=`cat /x`": "`" needs a shell; expected a plain or quoted value',
    ]);
  });
});

describe('the seed ifcfg directory (Xen 3.x netloop, bond0 of eth0+eth1 in mode 0)', () => {
  it('reads as bond0 in xenbr0 with dom0 on veth0', () => {
    expect(fromIfcfg(SEED)).toEqual({
      desired: {
        // FD=9, HELLO=2, MAXAGE=12: never read by initscripts, so not by xenplan either.
        bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 },
        uplink: 'bond0',
        bond: { name: 'bond0', slaves: ['eth0', 'eth1'], mode: 'balance-rr', options: { miimon: '100' } },
        dom0: { kind: 'netloop', veth: 'veth0', vif: 'vif0.0', mac: '00:16:3e:00:01:00' },
        addresses: ['192.168.1.11/24'],
        addressesFrom: 'IPADDR in ifcfg-veth0',
        gateway: '192.168.1.1',
        bridgeNf: 'keep',
        strict: false,
      },
      declared: {
        macs: { eth0: '00:1e:c9:bb:3b:de', eth1: '00:1e:c9:bb:3b:df' },
        onboot: { bond0: true, eth0: true, eth1: true, veth0: true, 'vif0.0': true, xenbr0: true },
        ignored: expect.any(Array),
      },
    });
  });

  it('lets words override it', () => {
    expect(
      fromIfcfg(SEED, 'bond-mode=active-backup', 'address=192.0.2.11/24', 'gateway=192.0.2.1').desired,
    ).toEqual({
      bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 },
      uplink: 'bond0',
      bond: { name: 'bond0', slaves: ['eth0', 'eth1'], mode: 'active-backup', options: { miimon: '100' } },
      dom0: { kind: 'netloop', veth: 'veth0', vif: 'vif0.0', mac: '00:16:3e:00:01:00' },
      addresses: ['192.0.2.11/24'],
      addressesFrom: 'address=',
      gateway: '192.0.2.1',
      bridgeNf: 'keep',
      strict: false,
    });
  });

  it('lets the config file override it and words override both', () => {
    const result = parseNetworkSettings({
      words: ['ifcfg=/etc/sysconfig/network-scripts', 'config=/etc/xenplan.conf', 'miimon=250'],
      ifcfg: SEED,
      configText: { name: '/etc/xenplan.conf', text: 'bond-mode=1\nmiimon=50\nbond.primary=eth1\nstp=on\n' },
    });
    expect(result.desired.bond).toEqual({
      name: 'bond0',
      slaves: ['eth0', 'eth1'],
      mode: 'active-backup',
      options: { miimon: '250', primary: 'eth1' },
    });
    expect(result.desired.bridge).toEqual({
      name: 'xenbr0',
      stp: true,
      forwardDelay: 1500,
    });
  });

  it('drops the ifcfg bond when words name a NIC, and the ifcfg veth MAC with another dom0-port', () => {
    const { desired } = fromIfcfg(SEED, 'netdev=eth2', 'dom0-port=veth1:vif0.1');
    expect(desired.uplink).toBe('eth2');
    expect(desired.bond).toBeUndefined();
    expect(desired.dom0).toEqual({ kind: 'netloop', veth: 'veth1', vif: 'vif0.1' });
  });

  it('reports a mode the kernel does not know, naming file and line', () => {
    const files = { ...SEED, 'ifcfg-bond0': SEED['ifcfg-bond0']?.replace('mode=0', 'mode=9') ?? '' };
    expect(ifcfgProblems(files)).toEqual([
      'ifcfg-bond0:5: bond-mode=9: expected one of balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb or 0-6',
    ]);
  });

  it('reports an unknown bonding option from BONDING_OPTS', () => {
    const files = {
      ...SEED,
      'ifcfg-bond0': SEED['ifcfg-bond0']?.replace('miimon=100', 'miimon=100 frob=1') ?? '',
    };
    expect(ifcfgProblems(files)[0]).toMatch(
      /^ifcfg-bond0:5: bond\.frob=1: unknown bonding option "frob"; expected one of mode miimon /,
    );
  });
});

describe('other ifcfg layouts', () => {
  it('reads a NIC in a bridge with dom0 on the bridge', () => {
    const files = {
      'ifcfg-eth0': lines('DEVICE=eth0', 'BRIDGE=xenbr0', 'HWADDR=52:54:00:AA:BB:CC', 'ONBOOT=no'),
      'ifcfg-xenbr0': lines(
        'DEVICE=xenbr0',
        'TYPE=Bridge',
        'STP=on',
        'DELAY=4',
        'MTU=9000',
        'IPADDR0=192.0.2.11',
        'PREFIX0=24',
        'IPADDR1=198.51.100.11',
        'NETMASK1=255.255.255.128',
        'IPV6ADDR=2001:db8::11/64',
        'GATEWAY=192.0.2.1',
      ),
      'ifcfg-lo': lines('DEVICE=lo', 'IPADDR=127.0.0.1'),
      'ifcfg-eth0.bak': lines('DEVICE=eth9'),
    };
    expect(fromIfcfg(files)).toEqual({
      desired: {
        bridge: { name: 'xenbr0', stp: true, forwardDelay: 400, mtu: 9000 },
        uplink: 'eth0',
        dom0: { kind: 'bridge' },
        addresses: ['192.0.2.11/24', '198.51.100.11/25', '2001:db8::11/64'],
        addressesFrom: 'IPADDR in ifcfg-xenbr0',
        gateway: '192.0.2.1',
        bridgeNf: 'keep',
        strict: false,
      },
      declared: { macs: { eth0: '52:54:00:aa:bb:cc' }, onboot: { eth0: false }, ignored: expect.any(Array) },
    });
  });

  it('reads a host before conversion: the NIC carrying the address is the uplink', () => {
    const files = {
      'ifcfg-eth0': lines(
        'DEVICE=eth0',
        'BOOTPROTO=none',
        'IPADDR=192.0.2.11',
        'PREFIX=24',
        'GATEWAY=192.0.2.1',
      ),
      'ifcfg-eth1': lines('DEVICE=eth1', 'BOOTPROTO=dhcp', 'ONBOOT=no'),
    };
    expect(fromIfcfg(files).desired).toEqual({
      bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 },
      uplink: 'eth0',
      dom0: { kind: 'bridge' },
      addresses: ['192.0.2.11/24'],
      addressesFrom: 'IPADDR in ifcfg-eth0',
      gateway: '192.0.2.1',
      bridgeNf: 'keep',
      strict: false,
    });
  });

  it('refuses BOOTPROTO=dhcp on the bridge dom0 would use, naming the file (no silent static copy)', () => {
    const files = {
      'ifcfg-xenbr0': lines('DEVICE=xenbr0', 'TYPE=Bridge', 'BOOTPROTO=dhcp'),
      'ifcfg-eth0': lines('DEVICE=eth0', 'BRIDGE=xenbr0'),
    };
    expect(() => fromIfcfg(files)).toThrow(
      /ifcfg-xenbr0.*BOOTPROTO=dhcp: dom0's address on xenbr0 comes from DHCP/,
    );
  });

  it('reads a bond without a bridge, with its address, and ARP=no as declared', () => {
    const files = {
      'ifcfg-bond0': lines(
        'DEVICE=bond0',
        'TYPE=Bond',
        'BONDING_OPTS="mode=802.3ad miimon=100 lacp_rate=fast xmit_hash_policy=layer3+4"',
        'IPADDR=192.0.2.11',
        'PREFIX=24',
        'ARP=no',
      ),
      'ifcfg-eth10': lines('DEVICE=eth10', 'MASTER=bond0', 'SLAVE=yes'),
      'ifcfg-eth2': lines('DEVICE=eth2', 'MASTER=bond0', 'SLAVE=yes'),
    };
    const result = fromIfcfg(files, 'lacp=mlag', 'switches=stacked');
    expect(result.desired).toEqual({
      bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 },
      uplink: 'bond0',
      bond: {
        name: 'bond0',
        slaves: ['eth2', 'eth10'],
        mode: '802.3ad',
        options: { miimon: '100', lacp_rate: 'fast', xmit_hash_policy: 'layer3+4' },
      },
      dom0: { kind: 'bridge' },
      addresses: ['192.0.2.11/24'],
      addressesFrom: 'IPADDR in ifcfg-bond0',
      bridgeNf: 'keep',
      strict: false,
      topology: { switches: 'stacked', lacp: 'mlag' },
    });
    expect(result.declared).toEqual({ noarp: ['bond0'] });
  });

  it('picks the bridge named by words when there are several', () => {
    const files = {
      'ifcfg-xenbr0': lines('DEVICE=xenbr0', 'TYPE=Bridge'),
      'ifcfg-xenbr1': lines('DEVICE=xenbr1', 'TYPE=Bridge', 'STP=yes', 'FD=2'),
      'ifcfg-eth0': lines('DEVICE=eth0', 'BRIDGE=xenbr0'),
      'ifcfg-eth1': lines('DEVICE=eth1', 'BRIDGE=xenbr1'),
    };
    expect(ifcfgProblems(files)).toEqual([
      'ifcfg: several bridges (xenbr0, xenbr1); give bridge=NAME to pick one',
    ]);
    const { desired } = fromIfcfg(files, 'bridge=xenbr1');
    // FD= was never read by initscripts: STP's default forward delay stands.
    expect(desired.bridge).toEqual({ name: 'xenbr1', stp: true, forwardDelay: 1500 });
    expect(desired.uplink).toBe('eth1');
  });

  it('reports broken values with file and line', () => {
    const files = {
      'ifcfg-eth0': lines('DEVICE=eth0', 'BRIDGE=xenbr0', 'MACADDR=00:1E:C9', 'ONBOOT=maybe'),
      'ifcfg-xenbr0': lines(
        'DEVICE=xenbr0',
        'TYPE=Bridge',
        'IPADDR=192.0.2.11',
        'NETMASK=255.0.255.0',
        'BRIDGING_OPTS=hello_time=9900',
      ),
      'ifcfg-eth1': lines("DEVICE='eth1;reboot'"),
      'ifcfg-eth2': lines('DEVICE=eth2', 'IPADDR=192.0.2.12'),
    };
    expect(ifcfgProblems(files)).toEqual([
      'ifcfg-eth0:3: MACADDR "00:1E:C9" is not a MAC address; expected six hex pairs like 00:16:3e:12:34:56',
      'ifcfg-eth0:4: ONBOOT=maybe: expected yes or no',
      'ifcfg-eth1: DEVICE "eth1;reboot" is not a valid interface name; expected letters, digits and . _ + - (starting with a letter or digit)',
      'ifcfg-xenbr0:3: NETMASK=255.0.255.0: expected a contiguous mask like 255.255.255.0',
      'ifcfg-xenbr0:5: BRIDGING_OPTS hello_time=9900: hello-time=99: expected seconds from 0.1 to 10 (up to two decimals)',
    ]);
  });

  it('needs a prefix or netmask for IPADDR', () => {
    const files = { 'ifcfg-eth0': lines('DEVICE=eth0', 'IPADDR=192.0.2.11') };
    expect(ifcfgProblems(files)).toEqual(['ifcfg-eth0:2: IPADDR=192.0.2.11 has no PREFIX or NETMASK']);
  });

  it('returns settings in the command-line vocabulary', () => {
    expect(parseIfcfgFiles(SEED).settings).toEqual([
      { key: 'bridge', value: 'xenbr0', where: 'ifcfg-xenbr0:1' },
      { key: 'stp', value: 'off', where: 'ifcfg-xenbr0:5' },
      { key: 'bond', value: 'bond0', where: 'ifcfg-bond0:1' },
      { key: 'slaves', value: 'eth0,eth1', where: 'ifcfg-eth0:6, ifcfg-eth1:6' },
      { key: 'bond-mode', value: '0', where: 'ifcfg-bond0:5' },
      { key: 'miimon', value: '100', where: 'ifcfg-bond0:5' },
      { key: 'dom0-port', value: 'veth0:vif0.0', where: 'ifcfg-vif0.0:4' },
      { key: 'dom0-mac', value: '00:16:3E:00:01:00', where: 'ifcfg-veth0:8' },
      { key: 'address', value: '192.168.1.11/24', where: 'ifcfg-veth0:4' },
      { key: 'gateway', value: '192.168.1.1', where: 'ifcfg-veth0:6' },
    ]);
  });
});

describe('every ifcfg line is used, or reported as ignored with why', () => {
  const ignoredOf = (files: Record<string, string>) =>
    parseIfcfgFiles(files).ignored.map((s) => `${s.where} ${s.key}=${s.value}`);

  it('the seed: FD/HELLO/MAXAGE were never read by initscripts, USERCTL and slave MACADDRs do nothing', () => {
    const result = parseIfcfgFiles(SEED);
    expect(result.problems).toEqual([]);
    expect(ignoredOf(SEED)).toEqual([
      'ifcfg-eth0:2 USERCTL=no',
      'ifcfg-eth0:4 MACADDR=00:1E:C9:BB:3B:DE',
      'ifcfg-eth1:2 USERCTL=no',
      'ifcfg-eth1:4 MACADDR=00:1E:C9:BB:3B:DF',
      'ifcfg-xenbr0:6 FD=9',
      'ifcfg-xenbr0:7 HELLO=2',
      'ifcfg-xenbr0:8 MAXAGE=12',
    ]);
    const keys = result.settings.map((s) => s.key);
    expect(keys).not.toContain('forward-delay');
    expect(keys).not.toContain('hello-time');
    expect(keys).not.toContain('max-age');
    const reasons = Object.fromEntries(result.ignored.map((s) => [s.key, s.reason]));
    expect(reasons.FD).toMatch(
      /^Red Hat's initscripts never read FD=, HELLO= or MAXAGE= \(ifup-eth reads DELAY=/,
    );
    expect(reasons.MACADDR).toContain("bonding gives every slave the bond's MAC");
    expect(reasons.MACADDR).toContain('HWADDR= (which NIC this file is for) was probably meant');
  });

  it('reads BRIDGING_OPTS as initscripts write it to /sys (hundredths of a second); names the options it does not set', () => {
    const files = {
      'ifcfg-br0': lines(
        'DEVICE=br0',
        'TYPE=Bridge',
        'BRIDGING_OPTS="stp_state=1 forward_delay=400 hello_time=200 max_age=1200 priority=100"',
        'IPADDR=192.0.2.11',
        'PREFIX=24',
      ),
      'ifcfg-eth0': lines('DEVICE=eth0', 'BRIDGE=br0'),
    };
    const result = parseIfcfgFiles(files);
    expect(result.problems).toEqual([]);
    expect(result.settings.map((s) => `${s.key}=${s.value}`)).toEqual([
      'netdev=eth0',
      'bridge=br0',
      'stp=on',
      'forward-delay=4',
      'hello-time=2',
      'max-age=12',
      'address=192.0.2.11/24',
    ]);
    expect(result.ignored.map((s) => [s.key, s.value, s.reason])).toEqual([
      [
        'BRIDGING_OPTS',
        'priority=100',
        'xenplan sets only stp_state, forward_delay, hello_time and max_age of a bridge, not priority',
      ],
    ]);
    expect(
      ifcfgProblems({
        ...files,
        'ifcfg-br0': lines('DEVICE=br0', 'TYPE=Bridge', 'BRIDGING_OPTS=forward_delay=2s'),
      }),
    ).toEqual([
      'ifcfg-br0:3: BRIDGING_OPTS forward_delay=2s: expected hundredths of a second (1500 is 15 s), as initscripts write it to /sys',
    ]);
  });

  it('names BOOTPROTO=dhcp, NM_CONTROLLED, unknown keys and devices outside the setup, each with why', () => {
    const files = {
      'ifcfg-xenbr0': lines('DEVICE=xenbr0', 'TYPE=Bridge', 'BOOTPROTO=dhcp', 'NM_CONTROLLED=no', 'UUID=abc'),
      'ifcfg-eth0': lines('DEVICE=eth0', 'BRIDGE=xenbr0', 'HWADDR=52:54:00:aa:bb:cc', 'ONBOOT=no'),
      'ifcfg-eth9': lines('DEVICE=eth9', 'IPADDR=198.51.100.9', 'PREFIX=24'),
    };
    const result = parseIfcfgFiles(files);
    // BOOTPROTO=dhcp on dom0's device is a problem, not an ignored line (issue 11: a lease is
    // never silently made static).
    expect(result.problems).toEqual([
      "ifcfg-xenbr0:3: BOOTPROTO=dhcp: dom0's address on xenbr0 comes from DHCP, which network-script does not run; give it IPADDR= and PREFIX= (static), or leave the bridge to your network manager's DHCP client",
    ]);
    expect(result.ignored.map((s) => `${s.where} ${s.key}: ${s.reason}`)).toEqual([
      'ifcfg-eth0:3 HWADDR: it names the NIC this file is for; xenplan goes by DEVICE= (eth0) and does not check the MAC',
      'ifcfg-eth0:4 ONBOOT: network-script start brings eth0 up whenever it builds the bridge',
      "ifcfg-eth9:2 IPADDR: eth9 is not part of the bridge xenplan builds (the bridge, its uplink, the bond's slaves, the netloop veth and vif)",
      "ifcfg-eth9:3 PREFIX: eth9 is not part of the bridge xenplan builds (the bridge, its uplink, the bond's slaves, the netloop veth and vif)",
      'ifcfg-xenbr0:4 NM_CONTROLLED: it tells NetworkManager whether to manage the device; xenplan does not consult it (NM_CONTROLLED=no keeps NetworkManager away from the devices xenplan manages)',
      "ifcfg-xenbr0:5 UUID: xenplan does not read UUID= (not part of the bridge and bond it builds); the distribution's network scripts would",
    ]);
  });

  it('reaches doctor: IFCFG001 names the ignored lines of the seed, one finding per file and reason', () => {
    const { desired, declared } = fromIfcfg(SEED);
    const findings = reviewNetwork({ desired, ...(declared.ignored ? { ignored: declared.ignored } : {}) });
    expect(findings.filter((f) => f.id === 'IFCFG001').map((f) => f.message.split(' not used: ')[0])).toEqual(
      [
        'ifcfg-eth0: MACADDR=00:1E:C9:BB:3B:DE',
        'ifcfg-eth0: USERCTL=no',
        'ifcfg-eth1: MACADDR=00:1E:C9:BB:3B:DF',
        'ifcfg-eth1: USERCTL=no',
        'ifcfg-xenbr0: FD=9, HELLO=2, MAXAGE=12',
      ],
    );
  });
});
