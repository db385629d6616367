import { describe, expect, it } from 'vitest';
import { planPayload, renderErrorReport, renderReport } from '../../../src/apply/report.ts';
import { ERROR_KINDS, XenplanError } from '../../../src/model/error.ts';
import { makePlan } from '../../../src/model/plan.ts';
import { loadSchema, validate } from '../../support/schema.ts';

const step = {
  id: 'port:eth0:master',
  phase: 'port' as const,
  argv: ['ip', 'link', 'set', 'dev', 'eth0', 'master', 'xenbr0'],
  reason: 'eth0 not in xenbr0',
  disruptive: true,
};

describe('the JSON contract (schema/xenplan-1.schema.json)', () => {
  it('a plan report validates, with its head first', () => {
    const text = renderReport(
      { command: 'network start', ok: true, changed: false, dryRun: true },
      { bridge: 'xenbr0', ...planPayload(makePlan([step], ['careful'])) },
    );
    const doc = JSON.parse(text);
    expect(Object.keys(doc).slice(0, 5)).toEqual(['schema', 'command', 'ok', 'changed', 'dryRun']);
    expect(validate(doc)).toEqual([]);
  });

  it('an error report validates and names the failed step', () => {
    const error = new XenplanError('apply', 'ip failed', { stepId: 'port:eth0:master', detail: 'RTNETLINK' });
    const doc = JSON.parse(renderErrorReport('network start', error));
    expect(validate(doc)).toEqual([]);
    expect(doc.error).toEqual({
      kind: 'apply',
      message: 'ip failed',
      detail: 'RTNETLINK',
      step: 'port:eth0:master',
    });
  });

  it('the schema names every error kind the code has', () => {
    const kinds = (loadSchema() as { properties: { error: { properties: { kind: { enum: string[] } } } } })
      .properties.error.properties.kind.enum;
    expect(kinds).toEqual([...ERROR_KINDS]);
  });

  it('the validator finds what breaks the schema', () => {
    expect(
      validate({ schema: 'xenplan/2', command: 'network start', ok: 'yes', dryRun: false, extra: 1 }),
    ).toEqual([
      '$: missing changed',
      '$.schema: want "xenplan/1", have "xenplan/2"',
      '$.ok: want boolean, have string',
      '$: unexpected key extra',
    ]);
    expect(
      validate({ schema: 'xenplan/1', command: 'x', ok: true, changed: null, dryRun: false, steps: [{}] }),
    ).toEqual([
      '$.command: "x" is not one of ["network start","network stop","network status","network confirm","network","vif online","vif offline","vif add","vif remove","vif","doctor","install","uninstall","bridge-port","lab","help","version","manpage","antispoof status","antispoof gc","antispoof","xenplan"]',
      '$.steps[0]: missing id',
      '$.steps[0]: missing phase',
      '$.steps[0]: missing argv',
      '$.steps[0]: missing reason',
      '$.steps[0]: missing disruptive',
    ]);
  });
});
