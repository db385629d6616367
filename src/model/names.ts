/**
 * Validators for values that come from xenstore, arguments and the environment. Every one
 * returns a sentence naming the bad value and what was expected, or undefined when fine.
 */
const IFNAME_MAX = 15;

/** Linux accepts any byte but '/', ':', whitespace and NUL; we also refuse shell and glob metacharacters. */
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

export function checkInterfaceName(value: string, what = 'interface name'): string | undefined {
  if (value.length === 0) return `${what} is empty; expected 1 to ${IFNAME_MAX} characters`;
  if (utf8Length(value) > IFNAME_MAX)
    return `${what} ${show(value)} is ${utf8Length(value)} bytes long; the kernel allows at most ${IFNAME_MAX}`;
  if (value === '.' || value === '..' || !IFNAME.test(value))
    return `${what} ${show(value)} is not a valid interface name; expected letters, digits and . _ + - (starting with a letter or digit)`;
  return undefined;
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export function checkMac(value: string, what = 'MAC address'): string | undefined {
  if (!MAC.test(value))
    return `${what} ${show(value)} is not a MAC address; expected six hex pairs like 00:16:3e:12:34:56`;
  return undefined;
}

export function checkMtu(value: string, what = 'MTU'): string | undefined {
  if (!/^[0-9]{2,5}$/.test(value) || Number(value) < 68 || Number(value) > 65535)
    return `${what} ${show(value)} is not a valid MTU; expected a whole number from 68 to 65535`;
  return undefined;
}

/** IPv4 dotted quad. */
export function isIpv4(value: string): boolean {
  const parts = value.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** IPv6 in any of its textual forms (no zone id). */
export function isIpv6(value: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(value) || !value.includes(':')) return false;
  const doubles = value.split('::').length - 1;
  if (doubles > 1) return false;
  let groups = value.split(':');
  const last = groups[groups.length - 1] ?? '';
  let words = 8;
  if (last.includes('.')) {
    if (!isIpv4(last)) return false;
    groups = groups.slice(0, -1);
    words = 6;
  }
  const filled = groups.filter((g) => g !== '');
  if (!filled.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return doubles === 1 ? filled.length < words : filled.length === words;
}

export function isIp(value: string): boolean {
  return isIpv4(value) || isIpv6(value);
}

/** `192.0.2.10/24` or `2001:db8::1/64` (the prefix may be left out: a host address). */
export function checkCidr(value: string, what = 'address'): string | undefined {
  const [addr = '', prefix, extra] = value.split('/');
  const v4 = isIpv4(addr);
  const fine =
    extra === undefined &&
    (v4 || isIpv6(addr)) &&
    (prefix === undefined || (/^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (v4 ? 32 : 128)));
  if (!fine)
    return `${what} ${show(value)} is not an IP address with an optional /prefix, like 192.0.2.10/24`;
  return undefined;
}

/**
 * Longest value quoted whole in a message. A longer one (a guest config may put kilobytes in
 * a xenstore key) is quoted by a prefix and its length, so a sentence naming several stays
 * short enough to be reported in xenstore.
 */
const SHOW_MAX = 64;

/** Quotes a value for an error message, showing control characters. */
export function show(value: string): string {
  if (value.length <= SHOW_MAX) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, SHOW_MAX - 16))}… (${utf8Length(value)} bytes)`;
}

function utf8Length(value: string): number {
  return new TextEncoder().encode(value).length;
}
