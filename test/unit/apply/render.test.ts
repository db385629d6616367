import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteWord, renderArgv } from '../../../src/apply/quote.ts';
import { renderScript } from '../../../src/apply/render.ts';
import { planPayload, renderReport } from '../../../src/apply/report.ts';
import { makePlan } from '../../../src/model/plan.ts';
import { makeInputStep, makeStep } from '../../../src/plan/step.ts';

const HOSTILE = [
  "it's",
  '$(reboot)',
  '`id`',
  'a b',
  'line1\nline2',
  '-rf',
  '--',
  '"quoted"',
  'semi;colon',
  'back\\slash',
  '',
  '*',
  '~root',
  '#notacomment',
  'tab\there',
];

/** What sh makes of the rendered words: one line per argument, NUL-separated. */
function shellWords(rendered: string): string[] {
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${rendered}`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('quoteWord / renderArgv', () => {
  it('leaves plain words bare', () => {
    expect(renderArgv(['ip', 'link', 'set', 'dev', 'vif5.0', 'master', 'xenbr0'])).toBe(
      'ip link set dev vif5.0 master xenbr0',
    );
  });

  it('quotes a single quote the POSIX way', () => {
    expect(quoteWord("it's")).toBe("'it'\\''s'");
  });

  it.each(HOSTILE)('sh reads %j back exactly', (word) => {
    expect(shellWords(renderArgv([word]))).toEqual([word]);
  });

  it('reproduces a whole hostile argv in order', () => {
    expect(shellWords(renderArgv(HOSTILE))).toEqual(HOSTILE);
  });
});

describe('renderScript', () => {
  const plan = makePlan(
    [
      makeStep(
        'bridge:xenbr0:create',
        'bridge',
        ['ip', 'link', 'add', 'name', 'xenbr0', 'type', 'bridge'],
        'xenbr0 does not exist',
      ),
      makeStep(
        'port:eth0:master',
        'port',
        ['ip', 'link', 'set', 'dev', 'eth0', 'master', 'xenbr0'],
        'eth0 not in xenbr0',
        true,
      ),
    ],
    ['careful'],
    [{ path: 'backend/vif/5/0/hotplug-status', value: 'connected', reason: 'tell the toolstack' }],
  );

  it('renders the exact script', () => {
    expect(renderScript(plan, { title: 'xenplan test' })).toBe(
      [
        '#!/bin/sh',
        '# xenplan test',
        '# warning: careful',
        '# 2 steps',
        '( set -e',
        '# [bridge] xenbr0 does not exist',
        'ip link add name xenbr0 type bridge',
        '# [port] eth0 not in xenbr0 (interrupts traffic)',
        'ip link set dev eth0 master xenbr0',
        ')',
        '# then xenstore: xenstore-write backend/vif/5/0/hotplug-status connected  # tell the toolstack',
        '',
      ].join('\n'),
    );
  });

  it('says so when there is nothing to do', () => {
    expect(renderScript(makePlan([]), { title: 't' })).toContain(
      '# nothing to do: the host already matches (0 steps)',
    );
  });

  it('is sh -n clean and runs exactly the argvs, whatever the values contain', () => {
    const steps = HOSTILE.map((word, i) =>
      makeStep(`s${i}`, 'link', ['printf', '%s\\0', word], `reason with ${word}`),
    );
    const script = renderScript(makePlan(steps, [`warning ${HOSTILE.join(' ')}`]), {
      title: `title ${HOSTILE.join(' ')}`,
    });
    execFileSync('sh', ['-n'], { input: script });
    const out = execFileSync('sh', [], { input: script, encoding: 'utf8' });
    expect(out.split('\0').slice(0, -1)).toEqual(HOSTILE);
  });

  it('pasted into an interactive shell, a failing step stops the script, not the shell', () => {
    const steps = [
      makeStep('a', 'link', ['echo', 'first'], 'runs'),
      makeStep('b', 'link', ['false'], 'fails'),
      makeStep('c', 'link', ['echo', 'after-failure'], 'must not run'),
    ];
    const script = renderScript(makePlan(steps), { title: 't' });
    execFileSync('sh', ['-n'], { input: script });
    // -i: the shell an admin pastes into over SSH; it must live to run the next line.
    const pasted = spawnSync('sh', ['-i'], { input: `${script}echo shell-alive\n`, encoding: 'utf8' });
    expect(pasted.stdout).toContain('first');
    expect(pasted.stdout).not.toContain('after-failure');
    expect(pasted.stdout).toContain('shell-alive');
    // Run as a script, it still stops at the failure and exits non-zero.
    const run = spawnSync('sh', [], { input: script, encoding: 'utf8' });
    expect([run.status, run.stdout]).toEqual([1, 'first\n']);
  });

  it('renders JSON with argv arrays and reasons', () => {
    const doc = JSON.parse(
      renderReport({ command: 'test', ok: true, changed: false, dryRun: true }, planPayload(plan)),
    );
    expect(doc.schema).toBe('xenplan/1');
    expect(doc.steps[1]).toEqual({
      id: 'port:eth0:master',
      phase: 'port',
      argv: ['ip', 'link', 'set', 'dev', 'eth0', 'master', 'xenbr0'],
      reason: 'eth0 not in xenbr0',
      disruptive: true,
    });
    expect(doc.warnings).toEqual(['careful']);
    expect(doc.xenstore).toEqual([
      { path: 'backend/vif/5/0/hotplug-status', value: 'connected', reason: 'tell the toolstack' },
    ]);
  });
});

describe('a step with input', () => {
  const nft = makeInputStep(
    'n',
    'firewall',
    ['nft', '-f', '-'],
    'add table bridge xenplan\nflush chain x\n',
    'rules',
  );

  it('renders as a quoted here-document holding the input verbatim', () => {
    expect(renderScript(makePlan([nft]), { title: 't' })).toContain(
      "# [firewall] rules\nnft -f - <<'XENPLAN_INPUT'\nadd table bridge xenplan\nflush chain x\nXENPLAN_INPUT\n",
    );
  });

  it('sh feeds exactly the input to the command', () => {
    const script = renderScript(makePlan([{ ...nft, argv: ['cat'] }]), { title: 't' });
    expect(execFileSync('sh', ['-c', script], { encoding: 'utf8' })).toBe(
      'add table bridge xenplan\nflush chain x\n',
    );
  });

  it('picks another end marker when the input holds the usual one', () => {
    const odd = { ...nft, input: 'XENPLAN_INPUT\n' };
    expect(renderScript(makePlan([odd]), { title: 't' })).toContain(
      "<<'XENPLAN_INPUT_'\nXENPLAN_INPUT\nXENPLAN_INPUT_\n",
    );
  });
});
