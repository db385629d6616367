import { AGENT_BUNDLE_NAME } from './agent-unit.ts';
import { interpreterLine } from './install-script.ts';
import { DEFAULT_SCRIPTS_DIR, NETWORK_SCRIPT_NAME, VIF_SCRIPT_NAME } from './udev-rules.ts';

/** What to add to Xen's configuration, naming the installed files and the node that runs them. */
export function renderInstallNotes(scriptsDir: string, node: string, agent = false): string {
  const name = (n: string) => (scriptsDir === DEFAULT_SCRIPTS_DIR ? n : `${scriptsDir}/${n}`);
  const vif = name(VIF_SCRIPT_NAME);
  const network = name(NETWORK_SCRIPT_NAME);
  const installed = agent
    ? `Installed ${scriptsDir}/${VIF_SCRIPT_NAME} (the launcher: runs as vif-script, through the agent when it runs) and ${scriptsDir}/${NETWORK_SCRIPT_NAME} (runs as network-script), beside the bundle ${scriptsDir}/${AGENT_BUNDLE_NAME}.
The bundle runs with ${node}: its first line is ${interpreterLine(node)}, so no PATH lookup is needed.`
    : `Installed ${scriptsDir}/${VIF_SCRIPT_NAME} (runs as vif-script) and ${scriptsDir}/${NETWORK_SCRIPT_NAME} (runs as network-script; a link to it).
They run with ${node}: their first line is ${interpreterLine(node)}, so no PATH lookup is needed.`;
  return `${installed}
If that node moves or is removed, run xenplan install again (--node PATH names another).

xend (xm), Xen 3.x-4.4: add to /etc/xen/xend-config.sxp, replacing the network-script and
vif-script lines there, then restart xend:
  (network-script '${network} bridge=xenbr0 bond=bond0 slaves=eth0,eth1')
  (vif-script ${vif})

xl: the default script of every vif, in /etc/xen/xl.conf:
  vif.default.script="${vif}"

or per guest, in its configuration file (xl and xm):
  vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0,script=${vif}' ]

Other vif modes, by the script a guest's vif names (links to ${VIF_SCRIPT_NAME}):
  script=${name('vif-xenplan-route')},ip=192.0.2.10,gatewaydev=eth0   routed, as vif-route
  script=${name('vif-xenplan-nat')}[,ip=10.0.5.1]                      NAT, as vif-nat
  script=${name('vif-xenplan-ovs')},bridge=ovsbr0[.TAG][:TRUNK...]    Open vSwitch

xl runs no network script: to build the bridge at boot, run from a boot script
  ${network} start bridge=xenbr0 bond=bond0 slaves=eth0,eth1
${ANTISPOOF_NOTES}`;
}

/**
 * Antispoofing on a host that filters bridged frames with iptables. Xen's vif-bridge added
 * per-vif ACCEPTs to FORWARD; xenplan filters in the nftables bridge family instead (spoofed
 * frames are dropped before iptables sees them), so two static rules give guests the same
 * reachability as vif-bridge's pair per vif: out from a guest, anything towards it.
 */
export const ANTISPOOF_NOTES = `
Antispoofing: a guest with ip= in its vif config may send only from those
addresses and its MAC (vif-antispoof=locked or off in /etc/xen/xenplan.conf
changes that). It needs no br_netfilter. If this host's iptables FORWARD
policy is DROP and bridged frames go through iptables (br_netfilter with
bridge-nf-call-iptables=1: Docker, or network-bridge antispoof=yes), Xen's
vif-bridge let guests through with rules per vif; with xenplan, add these two
once (vif+ matches every vif; add the same pair for each vifname):
  iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-in vif+ \\
    -j ACCEPT
  iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-out vif+ \\
    -j ACCEPT
`;
