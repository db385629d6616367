import { renderSettingsHelp } from '../config/keys.ts';
import { DEFAULT_CONFIG } from './settings.ts';

/** xenplan.conf(5): the configuration file, its format and every key it takes. */
export const CONF_HELP = (): string => `Usage: ${DEFAULT_CONFIG}

The settings of network-xenplan (network-script start, stop, status) and of
xenplan plan, status and doctor, so none of them needs its words repeated. The
boot unit xenplan-network.service builds the bridge from it.

Which file:
  ${DEFAULT_CONFIG} when it exists; XENPLAN_CONFIG in the environment or
  config=FILE among the words names another one (it must then be readable).
  Without any file the commands use their words and defaults only.

Format:
  One key=value per line, the same keys as network-script's words. Spaces
  around = are allowed; a value may be wrapped in one pair of '...' or "...";
  # starts a comment (at the start of a line or after a space). Words given on
  the command line override the file, key by key; a new netdev= or bond= among
  the words replaces the file's whole uplink. A bad line is an error naming the
  file and line, and nothing is changed.

Several bridges:
  One file per bridge: ${DEFAULT_CONFIG} for the first, config=FILE for each
  other (network-xenplan start config=/etc/xen/xenplan-xenbr1.conf).

Host-wide vif settings:
  Keys starting with vif- are settings for every guest vif, read by
  vif-xenplan; network-xenplan skips those it does not know.

Settings:
${renderSettingsHelp()}

Example:
  # one bond of two NICs under xenbr0; dom0's address moves to the bridge
  bridge=xenbr0
  bond=bond0
  slaves=eth0,eth1
  bond-mode=active-backup
`;
