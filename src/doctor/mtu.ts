import type { Finding } from '../model/finding.ts';
import { isXenVif } from './facts.ts';
import { makeFinding, type Rule } from './rule.ts';

/** MTU: MTU001. */

const mtuMismatch: Rule = {
  id: 'MTU001',
  name: 'mtu-mismatch',
  summary: 'slave, bond, bridge and vif MTUs differ (live)',
  severity: 'warning',
  check(facts) {
    const out: Finding[] = [];
    const dom0 = facts.input.desired?.dom0;
    for (const bridge of facts.bridges) {
      if (!facts.links.has(bridge.name)) continue;
      // Order: slaves → bonds → other uplinks → bridge → vifs (the order to set them in).
      const bonds = facts.bonds.filter((b) => bridge.ports.includes(b.name));
      const slaves = bonds.flatMap((b) => b.slaves);
      const uplinks = bridge.ports.filter((p) => !isXenVif(p) && !bonds.some((b) => b.name === p));
      const vifs = bridge.ports.filter((p) => isXenVif(p));
      const veth = dom0?.kind === 'netloop' ? [dom0.veth] : [];
      const order = [...slaves, ...bonds.map((b) => b.name), ...uplinks, bridge.name, ...vifs, ...veth];
      const devices = [...new Set(order)].filter((d) => facts.links.has(d));
      const mtus = devices.map((d) => [d, facts.links.get(d)?.mtu ?? 0] as const);
      const distinct = new Set(mtus.map(([, m]) => m));
      if (distinct.size <= 1) continue;
      const wanted =
        facts.input.desired?.bridge.name === bridge.name && facts.input.desired.bridge.mtu !== undefined
          ? facts.input.desired.bridge.mtu
          : Math.max(...mtus.filter(([d]) => !isXenVif(d)).map(([, m]) => m));
      const wrong = mtus.filter(([, m]) => m !== wanted).map(([d]) => d);
      out.push(
        makeFinding(mtuMismatch, {
          message: `MTUs differ around bridge ${bridge.name} (${mtus.map(([d, m]) => `${d} ${m}`).join(', ')}): the bridge MTU follows its smallest port unless set explicitly; a mismatched vif or slave lowers or fragments the path`,
          fix: `${devices
            .filter((d) => wrong.includes(d))
            .map((d) => `ip link set ${d} mtu ${wanted}`)
            .join('; ')} (slaves → bond → bridge, then each vif)`,
          source:
            'net/bridge/br_if.c br_mtu_auto_adjust; xen xen-network-common.sh set_mtu; ifupdown2 issue 72',
          objects: devices,
        }),
      );
    }
    return out;
  },
};

export const MTU_RULES: readonly Rule[] = [mtuMismatch];
