/**
 * What `xenplan install --agent` adds: the bash launcher as vif-xenplan (bin/vif-xenplan: it
 * hands vif events to the resident agent and runs the bundle itself when the agent is not
 * there), the bundle beside it as xenplan.cjs (where the launcher looks for it), and the
 * systemd unit that keeps `xenplan agent` running. Pure: the unit is rendered for a scripts
 * directory.
 */
import { AGENT_UNIT_NAME } from '../model/install.ts';

export { AGENT_UNIT_NAME };
export const AGENT_BUNDLE_NAME = 'xenplan.cjs';
export const AGENT_UNIT_PATH = `/etc/systemd/system/${AGENT_UNIT_NAME}`;
/** Enabling is this link, what systemctl enable makes for WantedBy=multi-user.target. */
export const AGENT_UNIT_WANTS_PATH = `/etc/systemd/system/multi-user.target.wants/${AGENT_UNIT_NAME}`;
export const AGENT_UNIT_WANTS_TARGET = `../${AGENT_UNIT_NAME}`;

export function renderAgentUnit(scriptsDir: string): string {
  return `# xenplan: the resident fast path for Xen vif events. Installed by xenplan
# install --agent. The launcher ${scriptsDir}/vif-xenplan hands events to it
# and runs the bundle itself whenever it is not running: stopping it only makes
# events slower.
[Unit]
Description=xenplan agent: resident fast path for Xen vif hotplug events
Documentation=man:xenplan(8)
After=local-fs.target
# Up before the first guest starts, so a boot's events take the fast path.
Before=xen-init-dom0.service xendomains.service

[Service]
Type=simple
# The bundle's name picks the admin role; "agent" is the command.
ExecStart=${scriptsDir}/${AGENT_BUNDLE_NAME} agent
Restart=always
RestartSec=1
# Its file there holds the port and the token: root only. Preserved on stop, as
# network-script keeps its lock and start record in the same directory.
RuntimeDirectory=xenplan
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}
