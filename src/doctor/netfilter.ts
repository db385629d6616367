import type { Finding } from '../model/finding.ts';
import { collectBridgeNf, KEY_NF_CALL_IPTABLES } from './facts.ts';
import { listNames, makeFinding, type Rule } from './rule.ts';

/** Netfilter: NF001-002. */

const PHYSDEV_IN = /--physdev-in\s+(\S+)/;

/** xenplan's own antispoofing: what to use instead of iptables rules that need br_netfilter. */
const XENPLAN_ANTISPOOF =
  "use xenplan's antispoofing, which does not need br_netfilter: vif-xenplan as the vif script with vif-antispoof=ip (the default: guests with ip= are locked to it, their MAC, ARP and IPv6) or vif-antispoof=locked in /etc/xen/xenplan.conf (nftables bridge family, table bridge xenplan)";

const antispoofRulesDead: Rule = {
  id: 'NF001',
  name: 'antispoof-rules-dead',
  summary:
    'vif antispoof rules exist, vifs have an ip in xenstore or antispoof=yes is declared, but bridged traffic bypasses iptables (error with antispoof=yes)',
  severity: 'warning',
  check(facts) {
    const rules = facts.input.firewall?.physdevRules ?? [];
    const vifs = Object.entries(facts.input.vifIps ?? {})
      .filter(([, ip]) => ip.trim() !== '')
      .map(([vif]) => vif);
    // antispoof=yes declares that guests rely on Xen's antispoof rules, even before any exist.
    const declared = ['true', 'yes', 'on'].includes(facts.topology.antispoof ?? '');
    if (rules.length === 0 && vifs.length === 0 && !declared) return [];
    const nf = collectBridgeNf(facts);
    const reasons: string[] = [];
    if (nf.loaded === false) reasons.push('br_netfilter is not loaded');
    if (nf.callIptables === 0) reasons.push(`bridged frames skip iptables (${nf.from})`);
    if (reasons.length === 0) return [];
    const ruleVifs = rules.map((r) => PHYSDEV_IN.exec(r)?.[1]).filter((v): v is string => v !== undefined);
    const objects = [...new Set([...vifs, ...ruleVifs])];
    if (objects.length === 0) objects.push(...facts.bridges.map((b) => b.name));
    const what = [
      ...(rules.length > 0 ? [`${rules.length} physdev FORWARD rule(s)`] : []),
      ...(vifs.length > 0 ? [`ip= on ${listNames(vifs)}`] : []),
      ...(rules.length === 0 && vifs.length === 0 ? ['antispoof=yes'] : []),
    ];
    return [
      makeFinding(antispoofRulesDead, {
        severity: declared ? 'error' : 'warning',
        message: `Xen antispoof is configured (${listNames(what)}) but ${listNames(reasons)}: bridged guest traffic bypasses iptables, so the antispoof rules never match and guests can spoof source IPs`,
        fix: `${XENPLAN_ANTISPOOF}; or, for Xen's vif-bridge iptables rules, modprobe br_netfilter and sysctl -w ${KEY_NF_CALL_IPTABLES}=1 (config bridge-nf=on)`,
        source:
          'xen tools/hotplug/Linux/vif-common.sh frob_iptable, handle_iptable; ip-sysctl.rst /proc/sys/net/bridge; iptables physdev man page; kernel commit 34666d467cbf',
        objects,
      }),
    ];
  },
};

const bridgedTrafficHitsDropPolicy: Rule = {
  id: 'NF002',
  name: 'bridged-traffic-hits-drop-policy',
  summary: 'bridge-nf-call-iptables on and FORWARD policy DROP with no ACCEPT for bridged traffic',
  severity: 'error',
  check(facts) {
    const fw = facts.input.firewall;
    if (fw === undefined || fw.forwardPolicy?.toUpperCase() !== 'DROP' || fw.acceptsBridged) return [];
    if (fw.physdevRules.some((r) => /-j\s+ACCEPT\b/.test(r))) return [];
    const nf = collectBridgeNf(facts);
    if (nf.callIptables !== 1 || nf.loaded === false) return [];
    const bridges = facts.bridges.map((b) => b.name);
    const out: Finding[] = [
      makeFinding(bridgedTrafficHitsDropPolicy, {
        message: `bridged guest traffic${bridges.length > 0 ? ` on ${listNames(bridges)}` : ''} is filtered by the host FORWARD chain (${nf.from}) and dropped: the policy is DROP and no rule accepts bridged traffic`,
        fix: `iptables -I FORWARD -m physdev --physdev-is-bridged -j ACCEPT, or disable bridge-nf (sysctl -w ${KEY_NF_CALL_IPTABLES}=0, config bridge-nf=off); xenplan's antispoofing (vif-antispoof in /etc/xen/xenplan.conf) filters guests in the nftables bridge family, ahead of iptables and without br_netfilter, either way`,
        source:
          'ip-sysctl.rst /proc/sys/net/bridge; unix.stackexchange.com question 719112; netplan doc/reuse/configure-vm-disable-netfilter.md',
        objects: bridges,
      }),
    ];
    return out;
  },
};

export const NETFILTER_RULES: readonly Rule[] = [antispoofRulesDead, bridgedTrafficHitsDropPolicy];
