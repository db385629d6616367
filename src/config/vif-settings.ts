/**
 * vif-script's part of the host config file (`/etc/xen/xenplan.conf`, or $XENPLAN_CONFIG):
 * the keys starting `vif-`. libxl passes a vif script no words of its own, so a host-wide
 * choice has to live in a file the script reads once per event. The other keys of the file
 * are network-script's and are skipped here. Pure: the caller reads the file.
 */

import {
  ANTISPOOF_POLICIES,
  type AntispoofPolicy,
  DEFAULT_VIF_SETTINGS,
  type VifSettings,
} from '../model/antispoof.ts';
import { XenplanError } from '../model/error.ts';
import { show } from '../model/names.ts';
import { parseConfigText } from './file.ts';

export const VIF_CONFIG_PATH = '/etc/xen/xenplan.conf';

/**
 * The vif settings from the file's text (undefined: no file, so the defaults). An unknown
 * `vif-` key or a bad value is a config error naming the file, line, key and value.
 */
export function parseVifSettings(name: string, text: string | undefined): VifSettings {
  if (text === undefined) return DEFAULT_VIF_SETTINGS;
  const parsed = parseConfigText(name, text);
  // A malformed line is only vif-script's business when it is a vif- line; the rest is
  // network-script's to judge (a guest must not fail to start over a bond option's typo).
  const problems = parsed.problems.filter((p) => /: "\s*vif-/.test(p));
  let antispoof = DEFAULT_VIF_SETTINGS.antispoof;
  for (const { key, value, where } of parsed.settings) {
    if (!key.startsWith('vif-')) continue;
    if (key !== 'vif-antispoof') {
      problems.push(`${where}: unknown setting ${show(key)}; vif-script knows vif-antispoof`);
      continue;
    }
    if (!(ANTISPOOF_POLICIES as readonly string[]).includes(value))
      problems.push(`${where}: vif-antispoof=${show(value)}: expected ${ANTISPOOF_POLICIES.join(', ')}`);
    else antispoof = value as AntispoofPolicy;
  }
  if (problems.length > 0) throw new XenplanError('config', problems.join('; '));
  return { antispoof };
}
