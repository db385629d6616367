import { makeFinding, type Rule } from './rule.ts';

/** xenplan-specific notes (not among the 25 research rules): XEN001. */

const netloopLayout: Rule = {
  id: 'XEN001',
  name: 'netloop-layout',
  summary: "xenplan note: the Xen 3.x netloop layout (dom0's address on a veth behind a vif in the bridge)",
  severity: 'info',
  check(facts) {
    const desired = facts.input.desired;
    if (desired === undefined || desired.dom0.kind !== 'netloop') return [];
    const { veth, vif } = desired.dom0;
    const bridge = desired.bridge.name;
    return [
      makeFinding(netloopLayout, {
        message: `netloop layout: dom0's address on ${veth} behind ${vif} in ${bridge}: fine on Xen 3.x; on current kernels (no netloop driver) put it on the bridge`,
        fix: `dom0-port=bridge: move dom0's addresses and default route from ${veth} to ${bridge}, and pin ${bridge}'s MAC`,
        source:
          'xen-project/xen commit 06809a93ad (netloop removed, 2007); xen tools/hotplug/Linux/xen-network-common.sh',
        objects: [veth, vif, bridge],
      }),
    ];
  },
};

export const XEN_RULES: readonly Rule[] = [netloopLayout];
