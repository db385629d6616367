import { describe, expect, it } from 'vitest';
import { launcherStart, parseAgentRequest, replyLines } from '../../../src/cli/agent-request.ts';

const NOW = 1_800_000_000_000;

describe('parseAgentRequest', () => {
  it('reads the token, the launcher start, the name, the words and the environment', () => {
    const text = `t0k\nstart ${NOW / 1000 - 0.25}\nas vif-xenplan\narg online\narg type_if=vif\nenv XENBUS_PATH=backend/vif/5/0\nenv A=b=c\nenv E=\nend\n`;
    expect(parseAgentRequest(text, NOW)).toEqual({
      token: 't0k',
      startedAt: NOW - 250,
      as: 'vif-xenplan',
      argv: ['online', 'type_if=vif'],
      env: { XENBUS_PATH: 'backend/vif/5/0', A: 'b=c', E: '' },
    });
  });

  it('keeps empty words and words with spaces', () => {
    expect(parseAgentRequest('t\nas vif\narg \narg a b\nend\n', NOW).argv).toEqual(['', 'a b']);
  });

  it('takes a comma for the decimal point (a locale), and ignores a start in the future or over a minute ago', () => {
    expect(parseAgentRequest(`t\nstart ${NOW / 1000 - 1},5\nas vif\nend\n`, NOW).startedAt).toBe(NOW - 500);
    expect(parseAgentRequest(`t\nstart ${NOW / 1000 + 5}\nas vif\nend\n`, NOW).startedAt).toBeUndefined();
    expect(parseAgentRequest(`t\nstart ${NOW / 1000 - 61}\nas vif\nend\n`, NOW).startedAt).toBeUndefined();
    expect(parseAgentRequest('t\nstart soon\nas vif\nend\n', NOW).startedAt).toBeUndefined();
  });

  it('refuses a request without end, without a name, or with a line it does not know', () => {
    expect(() => parseAgentRequest('t\nas vif\narg online\n', NOW)).toThrow('agent request: no end line');
    expect(() => parseAgentRequest('t\nend\n', NOW)).toThrow('agent request: no as line');
    expect(() => parseAgentRequest('t\nas vif\nrun rm -rf\nend\n', NOW)).toThrow(
      'agent request: unexpected line "run rm -rf"',
    );
    expect(() => parseAgentRequest('t\nas vif\nenv =x\nend\n', NOW)).toThrow('unexpected line "env =x"');
  });
});

describe('replyLines', () => {
  it('prefixes every line with its stream, and marks a last piece without newline', () => {
    expect(replyLines(1, 'a\n\nb\n')).toBe('1 a\n1 \n1 b\n');
    expect(replyLines(2, 'x\ny')).toBe('2 x\n2-y\n');
    expect(replyLines(1, '')).toBe('');
  });
});

describe('launcherStart: the launcher clock the cold path counts its deadline from', () => {
  it("takes bash's $EPOCHREALTIME within the last minute, and nothing else", () => {
    const now = 1_765_000_000_000;
    expect(launcherStart('1764999990.123456', now)).toBe(1_764_999_990_123);
    expect(launcherStart('1764999990,5', now)).toBe(1_764_999_990_500);
    expect(launcherStart('1765000001.0', now)).toBeUndefined();
    expect(launcherStart('1764999900.0', now)).toBeUndefined();
    expect(launcherStart('', now)).toBeUndefined();
    expect(launcherStart('soon', now)).toBeUndefined();
  });
});
