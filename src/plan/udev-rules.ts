/**
 * The udev rules `xenplan install --udev` writes, embedded so the single bundle carries them.
 * `udev/xenplan.rules` in the source tree is `renderUdevRules(DEFAULT_SCRIPTS_DIR)` byte for
 * byte (a unit test compares them). Pure text: no I/O here.
 */

/** Where Xen looks for its hotplug scripts on the running host. */
export const DEFAULT_SCRIPTS_DIR = '/etc/xen/scripts';

/** Where the rules go on the running host (admin-local rules directory). */
export const UDEV_RULES_PATH = '/etc/udev/rules.d/95-xenplan.rules';

/** The installed names: the bundle picks its role from the name it is run by. */
export const VIF_SCRIPT_NAME = 'vif-xenplan';
export const NETWORK_SCRIPT_NAME = 'network-xenplan';

const HEADER = `# 95-xenplan.rules: run xenplan's vif-script from udev on xend-era Xen hosts.
# Installed by \`xenplan install --udev\` as /etc/udev/rules.d/95-xenplan.rules and removed by
# \`xenplan uninstall\`. RUN paths name the scripts directory of the running host
# (@SCRIPTS_DIR@; \`xenplan install --scripts-dir DIR\` changes it, --prefix does not).
#
# When these rules are needed
#   xend (xm), Xen 3.x to 4.4: yes, unless Xen's own xen-backend.rules already runs the script
#     (see below). xend never runs a vif script itself: netback sends a xen-backend uevent and
#     udev runs the script; xend only waits for hotplug-status=connected in xenstore.
#   xl, Xen 4.2 to 4.5: not needed, and harmless. libxl runs the scripts itself and writes
#     libxl/disable_udev to xenstore; these rules set UDEV_CALL=1, and vif-xenplan exits 0
#     without acting when it sees both.
#   xl, Xen 4.6 and later: never install them. libxl (or \`xl devd\` in a driver domain) runs
#     the scripts; nothing listens to these uevents.
#
# Xen's own rules (xen-backend.rules, in /etc/udev/rules.d or /lib/udev/rules.d)
#   Leave its cleanup rule in place: SUBSYSTEM=="xen-backend", ACTION=="remove" running
#   @SCRIPTS_DIR@/xen-hotplug-cleanup deletes the device's xenstore directories when
#   it goes away. These rules do not replace it, and without it xenstore entries leak.
#   Its vif lines (vif-setup online/offline type_if=vif, and the tap or vif*-emu add/remove line)
#   run whatever vif script xend names for the same events. Either keep them and set
#   (vif-script vif-xenplan) in xend-config.sxp, and do not install this file; or install this
#   file and comment those vif lines out, so one event runs one vif script.
#
# vif-xenplan is a node program; xenplan install writes its #! line with node's absolute path,
# so udev's short PATH does not matter.
# Each rule is one event per line (no "a|b" patterns), for the old udev of xend-era distributions.
`;

const RULES = `
# Paravirtual NIC: xen-backend device vif-<domid>-<devid> (network device vif<domid>.<devid>).
SUBSYSTEM=="xen-backend", KERNEL=="vif-*", ACTION=="online", ENV{UDEV_CALL}="1", RUN+="@SCRIPTS_DIR@/${VIF_SCRIPT_NAME} online type_if=vif"
SUBSYSTEM=="xen-backend", KERNEL=="vif-*", ACTION=="offline", ENV{UDEV_CALL}="1", RUN+="@SCRIPTS_DIR@/${VIF_SCRIPT_NAME} offline type_if=vif"

# Emulated NIC of an HVM guest (qemu's tap): vif<domid>.<devid>-emu from Xen 4.2,
# tap<domid>.<devid> up to 4.1 (matched with its dot, so other tap devices are left alone).
SUBSYSTEM=="net", KERNEL=="vif*-emu", ACTION=="add", ENV{UDEV_CALL}="1", RUN+="@SCRIPTS_DIR@/${VIF_SCRIPT_NAME} $env{ACTION} type_if=tap"
SUBSYSTEM=="net", KERNEL=="vif*-emu", ACTION=="remove", ENV{UDEV_CALL}="1", RUN+="@SCRIPTS_DIR@/${VIF_SCRIPT_NAME} $env{ACTION} type_if=tap"
SUBSYSTEM=="net", KERNEL=="tap[0-9]*.[0-9]*", ACTION=="add", ENV{UDEV_CALL}="1", RUN+="@SCRIPTS_DIR@/${VIF_SCRIPT_NAME} $env{ACTION} type_if=tap"
SUBSYSTEM=="net", KERNEL=="tap[0-9]*.[0-9]*", ACTION=="remove", ENV{UDEV_CALL}="1", RUN+="@SCRIPTS_DIR@/${VIF_SCRIPT_NAME} $env{ACTION} type_if=tap"
`;

/** A scripts directory udev can take literally inside RUN+="…": absolute, no blanks or quotes. */
export function checkScriptsDir(dir: string): string | undefined {
  if (!/^\/[A-Za-z0-9._+@/-]*$/.test(dir) || dir.split('/').some((part) => part === '..' || part === '.'))
    return `scripts directory ${JSON.stringify(dir)}: expected an absolute path of letters, digits and ._+@-/ without . or .. parts`;
  return undefined;
}

/** The rules text with RUN paths under `scriptsDir` (the running host's path, not a prefix). */
export function renderUdevRules(scriptsDir: string = DEFAULT_SCRIPTS_DIR): string {
  const dir = scriptsDir.length > 1 ? scriptsDir.replace(/\/+$/, '') : scriptsDir;
  return `${HEADER}${RULES}`.replaceAll('@SCRIPTS_DIR@', dir);
}
