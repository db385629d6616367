/**
 * What ifcfg files, the config file or words declare that xenplan does not apply, kept for
 * doctor: devices with ARP off, sysctls set elsewhere, MACs and ONBOOT per device. Pure.
 */
import type { IgnoredSetting } from '../model/doctor.ts';
import type { Source } from './source.ts';

/** What ifcfg files, the config file or words declare that xenplan does not apply (for doctor). */
export interface DeclaredFacts {
  /** Devices declared with ARP off (`ARP=no`, `noarp=`). */
  noarp?: string[];
  /** sysctls the admin sets elsewhere (`sysctl.net.bridge.bridge-nf-call-iptables=0`). */
  sysctls?: Record<string, string>;
  /** MACADDR/HWADDR per device, lowercase. */
  macs?: Record<string, string>;
  /** ONBOOT per device. */
  onboot?: Record<string, boolean>;
  /** ifcfg lines read but not used, with why. */
  ignored?: IgnoredSetting[];
}

/** The declared facts from the merged settings (noarp=, sysctl.*=) and from ifcfg (MACs, ONBOOT). */
export function buildDeclared(m: Source, fromIfcfg: DeclaredFacts): DeclaredFacts {
  const declared: DeclaredFacts = {};
  const noarp = m.get('noarp')?.value;
  if (noarp !== undefined) declared.noarp = typeof noarp === 'string' ? [noarp] : [...noarp];
  const sysctls: Record<string, string> = {};
  for (const [key, entry] of m) if (key.startsWith('sysctl.')) sysctls[key.slice(7)] = entry.value as string;
  if (Object.keys(sysctls).length > 0) declared.sysctls = sysctls;
  if (fromIfcfg.macs !== undefined) declared.macs = fromIfcfg.macs;
  if (fromIfcfg.onboot !== undefined) declared.onboot = fromIfcfg.onboot;
  if (fromIfcfg.ignored !== undefined && fromIfcfg.ignored.length > 0) declared.ignored = fromIfcfg.ignored;
  return declared;
}
