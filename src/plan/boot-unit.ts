import { NETWORK_SCRIPT_NAME } from './udev-rules.ts';

/**
 * The systemd unit that builds dom0's bridge at boot (xl hosts: since Xen 4.5 nothing in Xen
 * creates xenbr0). One oneshot service: network-xenplan start from /etc/xen/xenplan.conf
 * before xendomains starts guests, stop at shutdown. A failed start rolls itself back
 * (network-script's own rollback), exits 1, and so shows as failed in systemctl status with
 * its reason in the journal. Pure: the text is rendered for a scripts directory.
 */
export const BOOT_UNIT_NAME = 'xenplan-network.service';
export const BOOT_UNIT_PATH = `/etc/systemd/system/${BOOT_UNIT_NAME}`;
/** Enabling is this link, what systemctl enable makes for WantedBy=multi-user.target. */
export const BOOT_UNIT_WANTS_PATH = `/etc/systemd/system/multi-user.target.wants/${BOOT_UNIT_NAME}`;
export const BOOT_UNIT_WANTS_TARGET = `../${BOOT_UNIT_NAME}`;

export function renderBootUnit(scriptsDir: string): string {
  const script = `${scriptsDir}/${NETWORK_SCRIPT_NAME}`;
  return `# xenplan: dom0's bridge for Xen guests, built at boot from /etc/xen/xenplan.conf.
# Installed by xenplan install --boot (or the xenplan package); see network-xenplan(8).
[Unit]
Description=Xen dom0 bridge (xenplan network-xenplan start)
Documentation=man:network-xenplan(8) man:xenplan.conf(5)
# dom0's NIC must have its address first: start moves it onto the bridge.
Wants=network-online.target
After=network-online.target
# Guests need the bridge: xl create fails at once on a missing one.
Before=xendomains.service xen-watchdog.service
ConditionPathExists=/etc/xen/xenplan.conf

[Service]
Type=oneshot
RemainAfterExit=yes
# A failed start has rolled back what it applied and exits 1: the unit shows failed.
ExecStart=${script} start
ExecStop=${script} stop
TimeoutStartSec=180

[Install]
WantedBy=multi-user.target
`;
}
