/**
 * What the launcher (bin/vif-xenplan) sends the agent, and what it gets back: lines, so a bash
 * script can speak it with builtins alone.
 *
 * Request:   TOKEN / start EPOCHREALTIME / as NAME / arg WORD... / env NAME=VALUE... / end
 * Reply:     ok (the event is taken), then `1 LINE` / `2 LINE` (stdout / stderr, one line each;
 *            `1-` / `2-` for a last piece without newline), then `exit CODE`.
 *
 * No value may hold a newline (the launcher runs the bundle itself for such an event).
 */
import { XenplanError } from '../model/error.ts';

export interface AgentRequest {
  readonly token: string;
  /** Epoch ms the launcher started, or undefined when it sent none that makes sense. */
  readonly startedAt: number | undefined;
  /** The name the launcher runs by (vif-xenplan, …): the role. */
  readonly as: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** Longest request taken: Xen's environment and words are a few KiB. */
export const MAX_REQUEST_BYTES = 256 * 1024;

/** Parses a whole request (up to and including its `end` line). */
export function parseAgentRequest(text: string, now: number): AgentRequest {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const token = lines[0] ?? '';
  let startedAt: number | undefined;
  let as: string | undefined;
  const argv: string[] = [];
  const env: Record<string, string> = {};
  let ended = false;
  for (const line of lines.slice(1)) {
    if (line === 'end') {
      ended = true;
      break;
    }
    const space = line.indexOf(' ');
    const word = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    if (word === 'start') startedAt = launcherStart(rest, now);
    else if (word === 'as') as = rest;
    else if (word === 'arg') argv.push(rest);
    else if (word === 'env' && rest.indexOf('=') > 0)
      env[rest.slice(0, rest.indexOf('='))] = rest.slice(rest.indexOf('=') + 1);
    else
      throw new XenplanError('usage', `agent request: unexpected line ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (!ended) throw new XenplanError('usage', 'agent request: no end line');
  if (as === undefined || as === '') throw new XenplanError('usage', 'agent request: no as line');
  return { token, startedAt, as, argv, env };
}

/**
 * bash's $EPOCHREALTIME (seconds, a fraction after '.' or ','); a time in the future or more
 * than a minute ago is a clock that jumped, and the agent's own now counts instead.
 */
export function launcherStart(text: string, now: number): number | undefined {
  if (!/^[0-9]{1,12}([.,][0-9]{1,9})?$/.test(text)) return undefined;
  const ms = Math.floor(Number(text.replace(',', '.')) * 1000);
  return ms <= now && ms > now - 60_000 ? ms : undefined;
}

/** The reply's output lines: every line of `text` prefixed with its stream, `-` when unterminated. */
export function replyLines(stream: 1 | 2, text: string): string {
  if (text === '') return '';
  const lines = text.split('\n');
  const last = lines.pop()!;
  return lines.map((l) => `${stream} ${l}\n`).join('') + (last === '' ? '' : `${stream}-${last}\n`);
}
