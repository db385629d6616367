import { describe, expect, it } from 'vitest';
import { parseNetworkSettings } from '../../../src/config/network.ts';
import { reviewNetwork } from '../../../src/doctor/review.ts';
import { bridgedBond, network, run } from './host.ts';

const NF = 'net.bridge.bridge-nf-call-iptables';
const RULE = '-A FORWARD -s 192.0.2.50/32 -m physdev --physdev-in vif1.0 --physdev-is-bridged -j ACCEPT';

describe('NF001 antispoof-rules-dead', () => {
  it('fires when physdev rules exist and the live sysctl is 0', () => {
    const input = bridgedBond('active-backup')
      .sysctl(NF, '0')
      .with({ firewall: { forwardPolicy: 'ACCEPT', physdevRules: [RULE], acceptsBridged: true } })
      .input();
    const [f, ...rest] = run('NF001', input);
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('warning');
    expect(f?.objects).toEqual(['vif1.0']);
    expect(f?.message).toContain(`bridged frames skip iptables (live ${NF}=0)`);
  });

  it('fires from the config (vif ip= and declared sysctl 0), as an error when antispoof=yes', () => {
    const input = {
      desired: network({ topology: { antispoof: 'true' } }),
      vifIps: { 'vif1.0': '192.0.2.50' },
      sysctlsDeclared: { [NF]: '0' },
    };
    expect(run('NF001', input).map((f) => [f.severity, f.objects])).toEqual([['error', ['vif1.0']]]);
  });

  it("the seed's bridge-nf-call-iptables=0 with antispoof=yes: an error whose fix is xenplan's antispoofing", () => {
    const input = { desired: network({ topology: { antispoof: 'true' } }), sysctlsDeclared: { [NF]: '0' } };
    const [f, ...rest] = run('NF001', input);
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('error');
    expect(f?.message).toContain(
      'Xen antispoof is configured (antispoof=yes) but bridged frames skip iptables',
    );
    expect(f?.fix).toMatch(
      /^use xenplan's antispoofing, which does not need br_netfilter: .*vif-antispoof=ip/,
    );
  });

  it('fires when br_netfilter is not loaded (no sysctl on the live host)', () => {
    const input = bridgedBond('active-backup')
      .with({ vifIps: { 'vif1.0': '192.0.2.50' } })
      .input();
    expect(run('NF001', input)[0]?.message).toContain('br_netfilter is not loaded');
  });

  it("does not fire when the bridge's own nf_call_iptables option is on", () => {
    const input = bridgedBond('active-backup')
      .bridge('xenbr0', { nfCallIptables: 1 })
      .sysctl(NF, '0')
      .with({ vifIps: { 'vif1.0': '192.0.2.50' } })
      .input();
    expect(run('NF001', input)).toEqual([]);
  });

  it('does not fire when the sysctl is 1', () => {
    const input = bridgedBond('active-backup')
      .sysctl(NF, '1')
      .with({
        vifIps: { 'vif1.0': '192.0.2.50' },
        firewall: { forwardPolicy: 'ACCEPT', physdevRules: [RULE], acceptsBridged: true },
      })
      .input();
    expect(run('NF001', input)).toEqual([]);
  });
});

describe('NF002 bridged-traffic-hits-drop-policy', () => {
  it('fires for FORWARD policy DROP with bridge-nf on and no bridged ACCEPT', () => {
    const input = bridgedBond('active-backup')
      .sysctl(NF, '1')
      .with({ firewall: { forwardPolicy: 'DROP', physdevRules: [], acceptsBridged: false } })
      .input();
    const [f, ...rest] = run('NF002', input);
    expect(rest).toEqual([]);
    expect(f?.severity).toBe('error');
    expect(f?.objects).toEqual(['xenbr0']);
    expect(f?.fix).toContain("xenplan's antispoofing (vif-antispoof in /etc/xen/xenplan.conf)");
  });

  it('does not fire when bridged traffic is accepted', () => {
    const input = bridgedBond('active-backup')
      .sysctl(NF, '1')
      .with({ firewall: { forwardPolicy: 'DROP', physdevRules: [RULE], acceptsBridged: false } })
      .input();
    expect(run('NF002', input)).toEqual([]);
  });

  it('does not fire with bridge-nf off', () => {
    const input = bridgedBond('active-backup')
      .sysctl(NF, '0')
      .with({ firewall: { forwardPolicy: 'DROP', physdevRules: [], acceptsBridged: false } })
      .input();
    expect(run('NF002', input)).toEqual([]);
  });
});

describe('NF001 from declared facts alone', () => {
  const review = (words: string[]) => {
    const { desired, declared } = parseNetworkSettings({ words });
    return reviewNetwork({
      desired,
      ...(declared.sysctls === undefined ? {} : { sysctlsDeclared: declared.sysctls }),
    }).filter((f) => f.id.startsWith('NF'));
  };

  it('is an error when antispoof=yes and bridge-nf-call-iptables=0 are declared (no vif yet)', () => {
    const [f, ...rest] = review(['netdev=eth0', 'antispoof=yes', `sysctl.${NF}=0`]);
    expect(rest).toEqual([]);
    expect([f?.id, f?.severity, f?.objects]).toEqual(['NF001', 'error', ['xenbr0']]);
    expect(f?.message).toContain(`(antispoof=yes) but`);
    expect(f?.message).toContain(`bridged frames skip iptables (declared ${NF}=0)`);
  });

  it('is an error with bridge-nf=off and antispoof=yes', () => {
    expect(review(['netdev=eth0', 'antispoof=yes', 'bridge-nf=off']).map((f) => f.severity)).toEqual([
      'error',
    ]);
  });

  it('says nothing when the declared sysctl is 1, or antispoof is not declared', () => {
    expect(review(['netdev=eth0', 'antispoof=yes', `sysctl.${NF}=1`])).toEqual([]);
    expect(review(['netdev=eth0', `sysctl.${NF}=0`])).toEqual([]);
  });

  it('counts the declared sysctl when the live host has no br_netfilter sysctl to show', () => {
    const input = bridgedBond('active-backup')
      .with({ desired: network({ topology: { antispoof: 'yes' } }), sysctlsDeclared: { [NF]: '0' } })
      .input();
    const [f] = run('NF001', input);
    expect(f?.message).toContain(`declared ${NF}=0`);
  });
});
