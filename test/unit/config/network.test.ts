import { describe, expect, it } from 'vitest';
import { BOND_OPTIONS } from '../../../src/config/bond-options.ts';
import { NETWORK_KEYS, renderSettingsHelp } from '../../../src/config/keys.ts';
import { parseNetworkSettings, settingsSources } from '../../../src/config/network.ts';
import { XenplanError } from '../../../src/model/error.ts';

/** Parses words with eth0 as the default route's device. */
function parse(...words: string[]) {
  return parseNetworkSettings({ words, defaultRouteDev: 'eth0' });
}

/** The problem lines of the one config error the words cause. */
function problems(words: string[], defaultRouteDev: string | null = 'eth0'): string[] {
  try {
    parseNetworkSettings({ words, ...(defaultRouteDev === null ? {} : { defaultRouteDev }) });
  } catch (error) {
    expect(error).toBeInstanceOf(XenplanError);
    expect((error as XenplanError).kind).toBe('config');
    return (error as XenplanError).message.split('\n');
  }
  throw new Error(`no error for ${words.join(' ')}`);
}

const BOND = ['bond=bond0', 'slaves=eth0,eth1'];

describe('defaults', () => {
  it('builds a bridge xenbr0 over the default route device', () => {
    expect(parse()).toEqual({
      desired: {
        bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 },
        uplink: 'eth0',
        dom0: { kind: 'bridge' },
        bridgeNf: 'keep',
        strict: false,
      },
      declared: {},
    });
  });

  it('gives a bond active-backup with miimon 100', () => {
    expect(parse(...BOND).desired).toEqual({
      bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 },
      uplink: 'bond0',
      bond: { name: 'bond0', slaves: ['eth0', 'eth1'], mode: 'active-backup', options: { miimon: '100' } },
      dom0: { kind: 'bridge' },
      bridgeNf: 'keep',
      strict: false,
    });
  });

  it('needs an uplink when there is no default route', () => {
    expect(problems([], null)).toEqual(['no uplink: give netdev=NIC or bond=NAME slaves=…']);
  });

  it('refuses the bridge itself as the default route device', () => {
    expect(problems([], 'xenbr0')).toEqual([
      "the default route is on xenbr0, which is dom0's side of the bridge; give netdev=NIC or bond=NAME slaves=… to name the uplink",
    ]);
  });

  it('checks the default route device it is given', () => {
    expect(problems([], 'eth0;x')).toEqual([
      'default route device "eth0;x" is not a valid interface name; expected letters, digits and . _ + - (starting with a letter or digit)',
    ]);
  });
});

describe('each key, valid', () => {
  const cases: [string[], object][] = [
    [['bridge=xenbr1'], { bridge: { name: 'xenbr1', stp: false, forwardDelay: 0 } }],
    [['netdev=eth1'], { uplink: 'eth1' }],
    [['netdev=enp3s0f1'], { uplink: 'enp3s0f1' }],
    [
      [...BOND, 'bond-mode=4'],
      { bond: { name: 'bond0', slaves: ['eth0', 'eth1'], mode: '802.3ad', options: { miimon: '100' } } },
    ],
    [[...BOND, 'bond-mode=balance-alb'], { bond: expect.objectContaining({ mode: 'balance-alb' }) }],
    [[...BOND, 'bond.mode=0'], { bond: expect.objectContaining({ mode: 'balance-rr' }) }],
    [[...BOND, 'miimon=200'], { bond: expect.objectContaining({ options: { miimon: '200' } }) }],
    [[...BOND, 'bond.miimon=0'], { bond: expect.objectContaining({ options: { miimon: '0' } }) }],
    [
      [...BOND, 'bond.primary=eth0', 'bond.updelay=200', 'bond.fail_over_mac=active'],
      {
        bond: expect.objectContaining({
          options: { miimon: '100', primary: 'eth0', updelay: '200', fail_over_mac: 'active' },
        }),
      },
    ],
    [
      [...BOND, 'bond.fail_over_mac=2'],
      { bond: expect.objectContaining({ options: { miimon: '100', fail_over_mac: 'follow' } }) },
    ],
    [
      [
        ...BOND,
        'bond-mode=802.3ad',
        'bond.xmit_hash_policy=layer2+3',
        'bond.lacp_rate=1',
        'bond.ad_select=bandwidth',
      ],
      {
        bond: expect.objectContaining({
          options: { miimon: '100', xmit_hash_policy: 'layer2+3', lacp_rate: 'fast', ad_select: 'bandwidth' },
        }),
      },
    ],
    [
      [...BOND, 'bond.xmit_hash_policy=5'],
      { bond: expect.objectContaining({ options: { miimon: '100', xmit_hash_policy: 'vlan+srcmac' } }) },
    ],
    [
      [
        ...BOND,
        'bond.arp_interval=1000',
        'bond.arp_ip_target=192.0.2.1,192.0.2.2',
        'bond.arp_validate=filter_active',
      ],
      {
        bond: expect.objectContaining({
          options: {
            arp_interval: '1000',
            arp_ip_target: '192.0.2.1,192.0.2.2',
            arp_validate: 'filter_active',
          },
        }),
      },
    ],
    [
      [
        ...BOND,
        'bond.use_carrier=on',
        'bond.all_slaves_active=0',
        'bond.num_grat_arp=3',
        'bond.resend_igmp=255',
      ],
      {
        bond: expect.objectContaining({
          options: {
            miimon: '100',
            use_carrier: '1',
            all_slaves_active: '0',
            num_grat_arp: '3',
            resend_igmp: '255',
          },
        }),
      },
    ],
    [
      [
        ...BOND,
        'bond-mode=802.3ad',
        'bond.ad_actor_system=02:00:00:00:00:0A',
        'bond.ad_actor_sys_prio=65535',
      ],
      {
        bond: expect.objectContaining({
          options: { miimon: '100', ad_actor_system: '02:00:00:00:00:0a', ad_actor_sys_prio: '65535' },
        }),
      },
    ],
    [
      [...BOND, 'bond-mode=balance-tlb', 'bond.tlb_dynamic_lb=off', 'bond.lp_interval=1'],
      {
        bond: expect.objectContaining({ options: { miimon: '100', tlb_dynamic_lb: '0', lp_interval: '1' } }),
      },
    ],
    [
      [...BOND, 'bond-mode=balance-rr', 'bond.packets_per_slave=0'],
      {
        bond: expect.objectContaining({ options: { miimon: '100', packets_per_slave: '0' } }),
      },
    ],
    [['stp=on'], { bridge: { name: 'xenbr0', stp: true, forwardDelay: 1500 } }],
    [['stp=YES', 'forward-delay=4'], { bridge: { name: 'xenbr0', stp: true, forwardDelay: 400 } }],
    [['stp=no'], { bridge: { name: 'xenbr0', stp: false, forwardDelay: 0 } }],
    [['forward-delay=9'], { bridge: { name: 'xenbr0', stp: false, forwardDelay: 900 } }],
    [['forward-delay=0.5'], { bridge: { name: 'xenbr0', stp: false, forwardDelay: 50 } }],
    [
      ['hello-time=2', 'max-age=12'],
      { bridge: { name: 'xenbr0', stp: false, forwardDelay: 0, helloTime: 200, maxAge: 1200 } },
    ],
    [['hello-time=0.1'], { bridge: { name: 'xenbr0', stp: false, forwardDelay: 0, helloTime: 10 } }],
    [['mtu=9000'], { bridge: { name: 'xenbr0', stp: false, forwardDelay: 0, mtu: 9000 } }],
    [['address=192.0.2.11/24'], { addresses: ['192.0.2.11/24'] }],
    [['address=192.0.2.11/24,2001:DB8::11/64'], { addresses: ['192.0.2.11/24', '2001:db8::11/64'] }],
    [
      ['address=192.0.2.11/24', 'address=198.51.100.7/25'],
      { addresses: ['192.0.2.11/24', '198.51.100.7/25'] },
    ],
    [['gateway=192.0.2.1'], { gateway: '192.0.2.1' }],
    [['gateway=2001:db8::1'], { gateway: '2001:db8::1' }],
    [['dom0-port=veth0:vif0.0'], { dom0: { kind: 'netloop', veth: 'veth0', vif: 'vif0.0' } }],
    [
      ['dom0-port=veth0:vif0.0', 'dom0-mac=00:16:3E:00:01:00'],
      { dom0: { kind: 'netloop', veth: 'veth0', vif: 'vif0.0', mac: '00:16:3e:00:01:00' } },
    ],
    [['dom0-port=bridge'], { dom0: { kind: 'bridge' } }],
    [['bridge-nf=off'], { bridgeNf: 'off' }],
    [['bridge-nf=on'], { bridgeNf: 'on' }],
    [['strict=yes'], { strict: true }],
    [['strict=no'], { strict: false }],
    [['switches=separate', 'lacp=none'], { topology: { switches: 'separate', lacp: 'none' } }],
    [['switches=stacked', 'lacp=mlag'], { topology: { switches: 'stacked', lacp: 'mlag' } }],
    [
      ['port-group=static', 'slb=filtered', 'updelay-needed-ms=30000', 'antispoof=on'],
      {
        topology: { 'port-group': 'static', slb: 'filtered', 'updelay-needed-ms': '30000', antispoof: 'yes' },
      },
    ],
  ];
  it.each(cases)('%j', (words, fragment) => {
    expect(parse(...words).desired).toMatchObject(fragment);
  });

  it('leaves out monitoring by MII when ARP monitoring is chosen', () => {
    expect(
      parse(...BOND, 'bond.arp_interval=500', 'bond.arp_ip_target=192.0.2.1').desired.bond?.options,
    ).toEqual({
      arp_interval: '500',
      arp_ip_target: '192.0.2.1',
    });
  });

  it('declares noarp and sysctls without applying them', () => {
    expect(
      parse('noarp=eth0,eth1', 'noarp=vif0.0', 'sysctl.net.bridge.bridge-nf-call-iptables=0').declared,
    ).toEqual({ noarp: ['eth0', 'eth1', 'vif0.0'], sysctls: { 'net.bridge.bridge-nf-call-iptables': '0' } });
  });

  it('ignores the empty words of doubled spaces', () => {
    expect(parse('', 'bridge=xenbr1', '').desired.bridge.name).toBe('xenbr1');
  });

  it('takes the same value twice', () => {
    expect(parse('bridge=xenbr1', 'bridge=xenbr1').desired.bridge.name).toBe('xenbr1');
  });
});

describe('each key, invalid', () => {
  const cases: [string[], string[]][] = [
    [['bridge='], ['bridge="": interface name is empty; expected 1 to 15 characters']],
    [
      ['bridge=averyveryverylongbr'],
      [
        'bridge=averyveryverylongbr: interface name "averyveryverylongbr" is 19 bytes long; the kernel allows at most 15',
      ],
    ],
    [
      ['netdev=eth0;reboot'],
      [
        'netdev=eth0;reboot: interface name "eth0;reboot" is not a valid interface name; expected letters, digits and . _ + - (starting with a letter or digit)',
      ],
    ],
    [
      ['bond=bond/0', 'slaves=eth0'],
      [
        'bond=bond/0: interface name "bond/0" is not a valid interface name; expected letters, digits and . _ + - (starting with a letter or digit)',
        'slaves=eth0: needs bond=NAME',
      ],
    ],
    [
      [...BOND, 'bond-mode=fast'],
      [
        'bond-mode=fast: expected one of balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb or 0-6',
      ],
    ],
    [
      [...BOND, 'bond.mode=7'],
      [
        'bond.mode=7: expected one of balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb or 0-6',
      ],
    ],
    [[...BOND, 'miimon=-1'], ['miimon=-1: expected a whole number from 0 to 2147483647']],
    [[...BOND, 'miimon=2147483648'], ['miimon=2147483648: expected a whole number from 0 to 2147483647']],
    [[...BOND, 'bond.updelay=1.5'], ['bond.updelay=1.5: expected a whole number from 0 to 2147483647']],
    [[...BOND, 'bond.arp_missed_max=0'], ['bond.arp_missed_max=0: expected a whole number from 1 to 255']],
    [
      [...BOND, 'bond.fail_over_mac=sometimes'],
      ['bond.fail_over_mac=sometimes: expected one of none, active, follow or 0-2'],
    ],
    [
      [...BOND, 'bond.xmit_hash_policy=layer4'],
      [
        'bond.xmit_hash_policy=layer4: expected one of layer2, layer3+4, layer2+3, encap2+3, encap3+4, vlan+srcmac or 0-5',
      ],
    ],
    [[...BOND, 'bond.lacp_rate=3'], ['bond.lacp_rate=3: expected one of slow, fast or 0-1']],
    [
      [...BOND, 'bond.arp_ip_target=192.0.2.1,2001:db8::1'],
      [
        'bond.arp_ip_target=192.0.2.1,2001:db8::1: "2001:db8::1" is not an IPv4 address; expected IPv4 addresses, comma separated',
      ],
    ],
    [
      [...BOND, 'bond-mode=4', 'bond.ad_actor_system=01:00:5e:00:00:01'],
      ['bond.ad_actor_system=01:00:5e:00:00:01: expected a unicast, non-zero MAC address'],
    ],
    [[...BOND, 'bond.use_carrier=maybe'], ['bond.use_carrier=maybe: expected one of 0, 1']],
    [
      [...BOND, 'bond.foo=1'],
      [
        'bond.foo=1: unknown bonding option "foo"; expected one of mode miimon ad_actor_sys_prio ad_actor_system ad_select ad_user_port_key all_slaves_active arp_all_targets arp_interval arp_ip_target arp_missed_max arp_validate downdelay fail_over_mac lacp_active lacp_rate lp_interval min_links num_grat_arp num_unsol_na packets_per_slave peer_notif_delay primary primary_reselect resend_igmp tlb_dynamic_lb updelay use_carrier xmit_hash_policy',
      ],
    ],
    [['stp=maybe'], ['stp=maybe: expected one of on, off']],
    [['forward-delay=31'], ['forward-delay=31: expected seconds from 0 to 30 (up to two decimals)']],
    [['forward-delay=1.234'], ['forward-delay=1.234: expected seconds from 0 to 30 (up to two decimals)']],
    [['hello-time=0.05'], ['hello-time=0.05: expected seconds from 0.1 to 10 (up to two decimals)']],
    [['max-age=5'], ['max-age=5: expected seconds from 6 to 40 (up to two decimals)']],
    [['mtu=50'], ['mtu=50: MTU "50" is not a valid MTU; expected a whole number from 68 to 65535']],
    [
      ['address=192.0.2.300/24'],
      [
        'address=192.0.2.300/24: address "192.0.2.300/24" is not an IP address with an optional /prefix, like 192.0.2.10/24',
      ],
    ],
    [
      ['address=192.0.2.1/24,'],
      ['address=192.0.2.1/24,: address "" is not an IP address with an optional /prefix, like 192.0.2.10/24'],
    ],
    [
      ['address=192.0.2.11'],
      ['address=192.0.2.11: 192.0.2.11 has no prefix length; expected CIDR like 192.0.2.11/24'],
    ],
    [
      ['address=2001:db8::11'],
      ['address=2001:db8::11: 2001:db8::11 has no prefix length; expected CIDR like 2001:db8::11/64'],
    ],
    [['gateway=gw'], ['gateway=gw: expected an IP address like 192.0.2.1']],
    [
      ['dom0-port=veth0'],
      ['dom0-port=veth0: expected VETH:VIF (like veth0:vif0.0) for the netloop layout, or bridge'],
    ],
    [
      ['dom0-port=veth0:veth0'],
      [
        'dom0-port=veth0:veth0: the two ends must differ; expected VETH:VIF (like veth0:vif0.0) for the netloop layout, or bridge',
      ],
    ],
    [
      ['dom0-port=veth0:vif0.0', 'dom0-mac=00:16:3e'],
      [
        'dom0-mac=00:16:3e: MAC address "00:16:3e" is not a MAC address; expected six hex pairs like 00:16:3e:12:34:56',
      ],
    ],
    [['bridge-nf=maybe'], ['bridge-nf=maybe: expected one of on, off, keep']],
    [['strict=perhaps'], ['strict=perhaps: expected one of yes, no']],
    [['switches=two'], ['switches=two: expected one of separate, stacked, single']],
    [['port-group=lacp'], ['port-group=lacp: expected one of static, none']],
    [['updelay-needed-ms=soon'], ['updelay-needed-ms=soon: expected a whole number from 0 to 600000']],
    [['antispoof=maybe'], ['antispoof=maybe: expected one of yes, no']],
    [['lacp=static'], ['lacp=static: expected one of mlag, none']],
    [['noarp=eth0,'], ['noarp=eth0,: interface name is empty; expected 1 to 15 characters']],
    [
      ['sysctl.Net..x=1'],
      [
        'sysctl.Net..x=1: sysctl name "Net..x" is not valid; expected dotted words like net.bridge.bridge-nf-call-iptables',
      ],
    ],
    [
      ['sysctl.net.ipv4.ip_forward=$(id)'],
      ['sysctl.net.ipv4.ip_forward=$(id): expected a sysctl value of letters, digits and _ . : , / + -'],
    ],
    [
      ['brdge=xenbr0'],
      [
        'brdge=xenbr0: unknown setting (did you mean bridge=?); expected one of bridge, netdev, vifnum, bond, slaves, bond-mode, miimon, stp, forward-delay, hello-time, max-age, mtu, vlans, address, gateway, dhcp, dom0-port, dom0-mac, bridge-nf, strict, config, ifcfg, switches, lacp, port-group, slb, updelay-needed-ms, antispoof, noarp, bond.<option>, sysctl.<name>',
      ],
    ],
    [['start'], ['start is not a setting; expected key=value']],
    [['=eth0'], ['=eth0 is not a setting; expected key=value']],
  ];
  it.each(cases)('%j', (words, expected) => {
    expect(problems(words)).toEqual(expected);
  });
});

describe('hostile values', () => {
  const cases: [string, string][] = [
    ['bridge=xen;br0', 'bridge=xen;br0: interface name "xen;br0" is not a valid interface name'],
    ['netdev=$(reboot)', 'netdev=$(reboot): interface name "$(reboot)" is not a valid interface name'],
    ['netdev=`id`', 'netdev=`id`: interface name "`id`" is not a valid interface name'],
    ['bridge=xen br0', 'bridge="xen br0": interface name "xen br0" is not a valid interface name'],
    ['bridge=xen\nbr0', 'bridge="xen\\nbr0": interface name "xen\\nbr0" is not a valid interface name'],
    ['netdev=../../etc', 'netdev=../../etc: interface name "../../etc" is not a valid interface name'],
    ['netdev=-rf', 'netdev=-rf: interface name "-rf" is not a valid interface name'],
    [
      'bridge=xenbr0xenbr0xenbr0',
      'bridge=xenbr0xenbr0xenbr0: interface name "xenbr0xenbr0xenbr0" is 18 bytes long',
    ],
    [
      'dom0-port=veth0:vif0.0;id',
      'dom0-port=veth0:vif0.0;id: interface name "vif0.0;id" is not a valid interface name',
    ],
    ['bond-mode=0;reboot', 'bond-mode=0;reboot: expected one of balance-rr'],
    ['bond.primary=$(id)', 'bond.primary=$(id): interface name "$(id)" is not a valid interface name'],
    ['address=192.0.2.1/24;id', 'address=192.0.2.1/24;id: address "192.0.2.1/24;id" is not an IP address'],
    ['gateway=192.0.2.1 ', 'gateway="192.0.2.1 ": expected an IP address'],
    ['config=/etc/x;rm', 'config=/etc/x;rm: expected a path made of letters, digits and _ . / + @ : , -'],
    ['ifcfg=$(id)', 'ifcfg=$(id): expected a path made of letters, digits and _ . / + @ : , -'],
    ['$(id)=1', '$(id)=1: unknown setting'],
    ['a b=1', '"a b"=1: unknown setting'],
    ['stp=on\n', 'stp="on\\n": expected one of on, off'],
  ];
  it.each(cases)('%j', (word, start) => {
    const lines = problems([...(word.startsWith('bond') ? BOND : []), word]);
    expect(lines.length).toBe(1);
    expect(lines[0]?.startsWith(start)).toBe(true);
  });
});

describe('combinations', () => {
  it('needs slaves for a bond', () => {
    expect(problems(['bond=bond0'])).toEqual(['bond=bond0: needs slaves=NIC,NIC (the NICs to enslave)']);
  });

  it('needs a bond for slaves and bond options', () => {
    expect(problems(['slaves=eth0,eth1', 'bond-mode=1', 'bond.primary=eth0'])).toEqual([
      'slaves=eth0,eth1: needs bond=NAME',
      'bond-mode=1: needs bond=NAME',
      'bond.primary=eth0: needs bond=NAME',
    ]);
  });

  it('refuses netdev together with a bond', () => {
    expect(problems(['netdev=eth2', ...BOND])).toEqual([
      'netdev=eth2 and bond=bond0 both name the uplink; give one of them',
    ]);
  });

  it('refuses options the kernel refuses in the mode', () => {
    expect(problems([...BOND, 'bond.lacp_rate=fast', 'bond.tlb_dynamic_lb=1'])).toEqual([
      'bond.lacp_rate=fast: only for bond-mode 802.3ad; the kernel refuses it in active-backup',
      'bond.tlb_dynamic_lb=1: only for bond-mode balance-tlb, balance-alb; the kernel refuses it in active-backup',
    ]);
    expect(problems([...BOND, 'bond-mode=802.3ad', 'bond.primary=eth0'])).toEqual([
      'bond.primary=eth0: only for bond-mode active-backup, balance-tlb, balance-alb; the kernel refuses it in 802.3ad',
    ]);
  });

  it('wants the primary among the slaves', () => {
    expect(problems([...BOND, 'bond.primary=eth2'])).toEqual([
      'bond.primary=eth2: is not one of slaves=eth0,eth1',
    ]);
  });

  it('refuses two link monitors', () => {
    expect(problems([...BOND, 'miimon=100', 'bond.arp_interval=1000'])).toEqual([
      'miimon=100 and bond.arp_interval=1000: the kernel runs one link monitor; set the other to 0',
    ]);
  });

  it('needs a real forward delay with STP', () => {
    expect(problems(['stp=on', 'forward-delay=0'])).toEqual([
      'forward-delay=0: with stp=on the kernel needs 2 to 30 seconds',
    ]);
  });

  it('needs the netloop layout for dom0-mac', () => {
    expect(problems(['dom0-mac=00:16:3e:00:01:00'])).toEqual([
      'dom0-mac=00:16:3e:00:01:00: needs dom0-port=VETH:VIF (the netloop layout)',
    ]);
  });

  it('gives each device one role', () => {
    expect(problems(['bridge=eth1', 'netdev=eth1'])).toEqual([
      'bridge=eth1 and netdev=eth1 name the same device eth1; each needs its own',
    ]);
    expect(problems(['bond=bond0', 'slaves=eth0,bond0'])).toEqual([
      'bond=bond0 and slaves=eth0,bond0 name the same device bond0; each needs its own',
    ]);
    expect(problems(['netdev=eth1', 'dom0-port=eth1:vif0.0'])).toEqual([
      'netdev=eth1 and dom0-port veth eth1 name the same device eth1; each needs its own',
    ]);
    expect(problems(['netdev=vif0.0', 'dom0-port=veth0:vif0.0'])).toEqual([
      'netdev=vif0.0 and dom0-port vif vif0.0 name the same device vif0.0; each needs its own',
    ]);
  });

  it('refuses the netloop veth as the default route device', () => {
    expect(problems(['dom0-port=veth0:vif0.0'], 'veth0')).toEqual([
      "the default route is on veth0, which is dom0's side of the bridge; give netdev=NIC or bond=NAME slaves=… to name the uplink",
    ]);
  });

  it('refuses a key given twice with different values', () => {
    expect(problems(['bridge=xenbr0', 'bridge=xenbr1'])).toEqual([
      'bridge=xenbr1: conflicts with bridge=xenbr0; give bridge= once',
    ]);
    expect(problems([...BOND, 'miimon=100', 'bond.miimon=200'])).toEqual([
      'bond.miimon=200: conflicts with miimon=100; give miimon= once',
    ]);
  });

  it('refuses a slave listed twice', () => {
    expect(problems(['bond=bond0', 'slaves=eth0', 'slaves=eth0'])).toEqual([
      'slaves=eth0: eth0 is listed twice',
    ]);
  });

  it('reports every problem at once, one per line', () => {
    const error = (() => {
      try {
        parseNetworkSettings({ words: ['bond-mode=fast', 'bridge=a;b', 'stp=maybe', 'junk'] });
      } catch (e) {
        return e as XenplanError;
      }
      return undefined;
    })();
    expect(error?.kind).toBe('config');
    expect(error?.message).toBe(
      [
        'junk is not a setting; expected key=value',
        'bond-mode=fast: expected one of balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb or 0-6',
        'bridge=a;b: interface name "a;b" is not a valid interface name; expected letters, digits and . _ + - (starting with a letter or digit)',
        'stp=maybe: expected one of on, off',
        'no uplink: give netdev=NIC or bond=NAME slaves=…',
      ].join('\n'),
    );
  });

  it('calls a missing config text a bug', () => {
    expect(() =>
      parseNetworkSettings({ words: ['config=/etc/xenplan.conf'], defaultRouteDev: 'eth0' }),
    ).toThrow(expect.objectContaining({ kind: 'bug' }));
  });
});

describe('settingsSources', () => {
  it('names the files to read', () => {
    expect(
      settingsSources(['bridge=xenbr0', 'config=/etc/xenplan.conf', 'ifcfg=/etc/sysconfig/network-scripts']),
    ).toEqual({
      config: '/etc/xenplan.conf',
      ifcfg: '/etc/sysconfig/network-scripts',
    });
    expect(settingsSources(['bridge=xenbr0'])).toEqual({});
  });

  it('does not name a hostile path', () => {
    expect(settingsSources(['config=/etc/x;rm -rf', 'ifcfg=$(id)'])).toEqual({});
  });
});

describe('the schema table', () => {
  it('checks its own examples as valid', () => {
    for (const key of NETWORK_KEYS.filter((k) => !k.key.includes('<'))) {
      const value = key.example.slice(key.example.indexOf('=') + 1);
      expect(key.example.startsWith(`${key.key}=`)).toBe(true);
      for (const item of key.list === true ? value.split(',') : [value])
        expect(key.check(item)).toHaveProperty('ok');
    }
  });

  it('lists the kernel bonding options', () => {
    expect(BOND_OPTIONS.map((o) => o.name).join(' ')).toBe(
      'ad_actor_sys_prio ad_actor_system ad_select ad_user_port_key all_slaves_active arp_all_targets arp_interval arp_ip_target arp_missed_max arp_validate downdelay fail_over_mac lacp_active lacp_rate lp_interval min_links num_grat_arp num_unsol_na packets_per_slave peer_notif_delay primary primary_reselect resend_igmp tlb_dynamic_lb updelay use_carrier xmit_hash_policy',
    );
  });

  it("renders --help as each key's example with its description wrapped under it, in 80 columns", () => {
    const text = renderSettingsHelp();
    const lines = text.split('\n');
    expect(lines.filter((l) => /^ {2}\S/.test(l)).length).toBe(NETWORK_KEYS.length);
    expect(lines.filter((l) => l.length > 80)).toEqual([]);
    expect(lines.slice(0, 3)).toEqual([
      '  bridge=xenbr0',
      "      bridge: interface; the bridge that holds dom0's uplink and the guests'",
      '      vifs (default: xenbr0)',
    ]);
  });
});

describe('vlans=', () => {
  it('reads VIDs as a sorted list; refuses what is no VID and a name past 15 bytes', () => {
    expect(
      parseNetworkSettings({ words: ['bond=bond0', 'slaves=eth0,eth1', 'vlans=200,100'] }).desired.vlans,
    ).toEqual([100, 200]);
    expect(() => parseNetworkSettings({ words: ['netdev=eth0', 'vlans=4095'] })).toThrow(
      'vlans=4095: expected a whole number from 1 to 4094',
    );
    expect(() => parseNetworkSettings({ words: ['netdev=enp0s31f6abcd', 'vlans=100'] })).toThrow(
      'vlans=100: the VLAN device "enp0s31f6abcd.100" is 17 bytes long; the kernel allows at most 15',
    );
  });
});

describe("Xen's network-bridge words", () => {
  it('vifnum=N names xenbrN over ethN, as network-bridge in Xen 3.0 did', () => {
    const want = parse('vifnum=1').desired;
    expect(want.bridge.name).toBe('xenbr1');
    expect(want.uplink).toBe('eth1');
  });

  it('bridge= and netdev= still win over vifnum=, and a bond ignores its ethN', () => {
    const want = parse('vifnum=2', 'bridge=br7', 'netdev=eth5').desired;
    expect([want.bridge.name, want.uplink]).toEqual(['br7', 'eth5']);
    expect(parse('vifnum=2', ...BOND).desired.uplink).toBe('bond0');
  });

  it('takes the words a xend-config.sxp line for network-bridge carries, unchanged', () => {
    const want = parse('vifnum=0', 'netdev=eth0', 'bridge=xenbr0', 'antispoof=yes').desired;
    expect([want.bridge.name, want.uplink]).toEqual(['xenbr0', 'eth0']);
  });

  it('refuses a vifnum that is not a number, naming it', () => {
    expect(problems(['vifnum=eth0'])).toEqual([expect.stringMatching(/^vifnum=eth0: /)]);
  });
});
