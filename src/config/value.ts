/**
 * Checks of one setting value: each returns the value's normal form, or why it is wrong.
 * Shared by the settings table (keys.ts) and the bonding options (bond-options.ts). Pure.
 */
import { checkCidr, checkInterfaceName, checkMac, checkMtu, isIp } from '../model/names.ts';
import { BOND_MODES } from '../model/network.ts';

/** A checked value: its normal form, or why it is wrong (text after `key=value: `). */
export type Checked = { readonly ok: string } | { readonly problem: string };

export const INT_MAX = 2147483647;

export const ok = (value: string): Checked => ({ ok: value });
export const bad = (problem: string): Checked => ({ problem });

export function checkIfname(value: string): Checked {
  const problem = checkInterfaceName(value);
  return problem === undefined ? ok(value) : bad(problem);
}

export function checkChoice(choices: readonly string[], aliases: Record<string, string> = {}) {
  return (value: string): Checked => {
    const v = aliases[value.toLowerCase()] ?? value.toLowerCase();
    return choices.includes(v) ? ok(v) : bad(`expected one of ${choices.join(', ')}`);
  };
}

export const checkOnOff = checkChoice(['on', 'off'], { yes: 'on', no: 'off' });
export const checkYesNo = checkChoice(['yes', 'no'], { on: 'yes', off: 'no' });

export function checkBondMode(value: string): Checked {
  if (/^[0-6]$/.test(value)) return ok(BOND_MODES[Number(value)] ?? value);
  if (BOND_MODES.includes(value)) return ok(value);
  return bad(`expected one of ${BOND_MODES.join(', ')} or 0-${BOND_MODES.length - 1}`);
}

export function checkInt(min: number, max: number) {
  return (value: string): Checked => {
    if (/^(0|[1-9][0-9]{0,9})$/.test(value) && Number(value) >= min && Number(value) <= max) return ok(value);
    return bad(`expected a whole number from ${min} to ${max}`);
  };
}

/** Seconds with up to two decimals → centiseconds (ip link's unit), as text. */
export function checkSeconds(min: number, max: number) {
  return (value: string): Checked => {
    const m = /^([0-9]{1,3})(?:\.([0-9]{1,2}))?$/.exec(value);
    const cs = m === null ? Number.NaN : Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
    if (cs >= min * 100 && cs <= max * 100) return ok(String(cs));
    return bad(`expected seconds from ${min} to ${max} (up to two decimals)`);
  };
}

export function checkMtuValue(value: string): Checked {
  const problem = checkMtu(value);
  return problem === undefined ? ok(value) : bad(problem);
}

/** dom0's address as CIDR: without a prefix the kernel would make it a /32 (or /128) host route. */
export function checkAddress(value: string): Checked {
  const problem = checkCidr(value);
  if (problem !== undefined) return bad(problem);
  if (!value.includes('/'))
    return bad(
      `${value} has no prefix length; expected CIDR like ${value.includes(':') ? `${value}/64` : `${value}/24`}`,
    );
  return ok(value.toLowerCase());
}

export function checkIpValue(value: string): Checked {
  return isIp(value) ? ok(value.toLowerCase()) : bad('expected an IP address like 192.0.2.1');
}

export function checkMacValue(value: string): Checked {
  const problem = checkMac(value);
  return problem === undefined ? ok(value.toLowerCase()) : bad(problem);
}

export function checkDom0Port(value: string): Checked {
  if (value === 'bridge') return ok(value);
  const parts = value.split(':');
  const expected = 'expected VETH:VIF (like veth0:vif0.0) for the netloop layout, or bridge';
  if (parts.length !== 2) return bad(expected);
  for (const part of parts) {
    const problem = checkInterfaceName(part ?? '');
    if (problem !== undefined) return bad(`${problem}; ${expected}`);
  }
  if (parts[0] === parts[1]) return bad(`the two ends must differ; ${expected}`);
  return ok(value);
}

export function checkPath(value: string): Checked {
  if (value.length > 0 && value.length <= 4096 && /^[A-Za-z0-9_./+@:,-]+$/.test(value)) return ok(value);
  return bad('expected a path made of letters, digits and _ . / + @ : , -');
}

export function checkSysctlValue(value: string): Checked {
  if (/^[A-Za-z0-9_.:,/+-]{1,256}$/.test(value)) return ok(value);
  return bad('expected a sysctl value of letters, digits and _ . : , / + -');
}
