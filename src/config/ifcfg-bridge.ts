/**
 * A bridge's `BRIDGING_OPTS="stp_state=0 forward_delay=1500 …"` as Red Hat's initscripts apply
 * it: ifup-eth writes each value to /sys/class/net/BRIDGE/bridge/KEY, where the timers are in
 * hundredths of a second (1500 is 15 s). Pure.
 */
import type { IgnoredSetting } from '../model/doctor.ts';
import { type IfcfgDevice, showPlain } from './ifcfg-file.ts';

export interface BridgingOpts {
  /** `on` or `off`. */
  readonly stp?: string;
  /** Seconds, as network-script's keys take them. */
  readonly forwardDelay?: string;
  readonly helloTime?: string;
  readonly maxAge?: string;
  /** Options xenplan does not set. */
  readonly ignored: IgnoredSetting[];
  /** `file:line: BRIDGING_OPTS key=value` as written, where a setting came from. */
  readonly where: (key: string) => string;
}

const TIMERS = { forward_delay: 'forwardDelay', hello_time: 'helloTime', max_age: 'maxAge' } as const;

export function readBridgingOpts(
  br: IfcfgDevice,
  value: string | undefined,
  problems: string[],
): BridgingOpts {
  const line = br.vars.get('BRIDGING_OPTS')?.line ?? 1;
  const where = `${br.file}:${line}`;
  const written = new Map<string, string>();
  const out: { -readonly [K in keyof BridgingOpts]: BridgingOpts[K] } = {
    ignored: [],
    where: (key) => `${where}: BRIDGING_OPTS ${written.get(key) ?? key}`,
  };
  for (const word of (value ?? '').split(/\s+/).filter((w) => w !== '')) {
    const eq = word.indexOf('=');
    const key = word.slice(0, eq);
    const v = word.slice(eq + 1);
    written.set(key, word);
    if (eq <= 0) {
      problems.push(`${where}: BRIDGING_OPTS item ${showPlain(word)} is not option=value`);
    } else if (key === 'stp_state') {
      if (/^[01]$/.test(v)) out.stp = v === '1' ? 'on' : 'off';
      else problems.push(`${where}: BRIDGING_OPTS stp_state=${showPlain(v)}: expected 0 or 1`);
    } else if (key in TIMERS) {
      // hundredths of a second, as /sys takes them; network-script's keys check the range.
      if (/^[0-9]{1,6}$/.test(v)) out[TIMERS[key as keyof typeof TIMERS]] = String(Number(v) / 100);
      else
        problems.push(
          `${where}: BRIDGING_OPTS ${key}=${showPlain(v)}: expected hundredths of a second (1500 is 15 s), as initscripts write it to /sys`,
        );
    } else {
      out.ignored.push({
        where,
        device: br.name,
        key: 'BRIDGING_OPTS',
        value: word,
        reason: `xenplan sets only stp_state, forward_delay, hello_time and max_age of a bridge, not ${key}`,
      });
    }
  }
  return out;
}
