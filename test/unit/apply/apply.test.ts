import { describe, expect, it } from 'vitest';
import { applySteps, groupSteps } from '../../../src/apply/apply.ts';
import { applyAndVerify } from '../../../src/apply/converge.ts';
import { XenplanError } from '../../../src/model/error.ts';
import { makePlan } from '../../../src/model/plan.ts';
import { ip } from '../../../src/plan/command.ts';
import { makeInputStep, makeStep } from '../../../src/plan/step.ts';
import { FakeRunner } from '../../support/runner.ts';

const up = makeStep('a', 'link', ip.linkUp('eth0'), 'eth0 down');
const master = makeStep('b', 'port', ip.linkMaster('eth0', 'xenbr0'), 'not in bridge');
const sysctl = makeStep('c', 'sysctl', ['sysctl', '-q', '-w', 'x=1'], 'x');
const up2 = makeStep('d', 'link', ip.linkUp('xenbr0'), 'xenbr0 down');

describe('groupSteps', () => {
  it('batches consecutive ip steps and runs others alone', () => {
    expect(groupSteps([up, master, sysctl, up2]).map((g) => g.map((s) => s.id))).toEqual([
      ['a', 'b'],
      ['c'],
      ['d'],
    ]);
  });

  it('never batches a word ip -batch would reinterpret', () => {
    const odd = makeStep('e', 'link', ['ip', 'link', 'set', 'dev', 'a b', 'up'], 'x');
    expect(groupSteps([up, odd, master]).map((g) => g.map((s) => s.id))).toEqual([['a'], ['e'], ['b']]);
  });
});

describe('applySteps', () => {
  it('runs a batch through one ip -batch - process', async () => {
    const runner = new FakeRunner();
    const report = await applySteps(runner, [up, master, sysctl]);
    expect(runner.calls).toEqual([
      { argv: ['ip', '-batch', '-'], input: 'link set dev eth0 up\nlink set dev eth0 master xenbr0\n' },
      { argv: ['sysctl', '-q', '-w', 'x=1'], input: undefined },
    ]);
    expect(report).toEqual({ done: ['a', 'b', 'c'], processes: 2 });
  });

  it('names the failing batch line and its error, and stops', async () => {
    const runner = new FakeRunner((argv) =>
      argv[1] === '-batch'
        ? { exitCode: 1, stderr: 'Error: Device does not exist.\nCommand failed -:2\n' }
        : {},
    );
    const error = await applySteps(runner, [up, master, sysctl]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XenplanError);
    expect(error).toMatchObject({
      kind: 'apply',
      stepId: 'b',
      message: 'step b failed: ip link set dev eth0 master xenbr0: Error: Device does not exist.',
      detail: 'steps done before it: a',
    });
    expect(runner.calls).toHaveLength(1);
  });

  it('reports a lone command failure with its stderr', async () => {
    const runner = new FakeRunner(() => ({ exitCode: 255, stderr: 'sysctl: permission denied\n' }));
    await expect(applySteps(runner, [sysctl])).rejects.toMatchObject({
      kind: 'apply',
      message: 'step c failed: sysctl -q -w x=1: sysctl: permission denied',
    });
  });
});

describe('applyAndVerify', () => {
  it('fails verification when the replan is not empty', async () => {
    const runner = new FakeRunner();
    await expect(applyAndVerify(runner, makePlan([up]), async () => makePlan([up2]))).rejects.toMatchObject({
      kind: 'verify',
      message: 'applied 1 step(s) but the host still differs: xenbr0 down',
    });
  });

  it('passes when the replan is empty', async () => {
    const result = await applyAndVerify(new FakeRunner(), makePlan([up]), async () => makePlan([]));
    expect(result.done).toEqual(['a']);
  });
});

describe('a step that reads stdin (nft -f -)', () => {
  it('runs alone, never in an ip batch, with its input', async () => {
    const nft = makeInputStep('n', 'firewall', ['nft', '-f', '-'], 'add table bridge xenplan\n', 'rules');
    expect(groupSteps([nft, up, master]).map((g) => g.map((s) => s.id))).toEqual([['n'], ['a', 'b']]);
    const runner = new FakeRunner();
    await applySteps(runner, [nft, up, master]);
    expect(runner.calls[0]).toEqual({ argv: ['nft', '-f', '-'], input: 'add table bridge xenplan\n' });
    expect(runner.calls.length).toBe(2);
  });
});
