import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/doctor.ts';
import { RULES } from '../../src/doctor/rules.ts';
import { realFiles } from '../../src/observe/files.ts';

/**
 * The README's doctor example is the output of a real run of `xenplan doctor` on the shipped
 * example files, so it cannot drift from what doctor says. XENPLAN_README=write rewrites the
 * block from the run instead of comparing.
 */

const ROOT = join(import.meta.dirname, '../..');
const README = join(ROOT, 'README.md');
const BEGIN = '<!-- doctor-example:begin -->\n';
const END = '<!-- doctor-example:end -->';
const ARGS = ['ifcfg=examples/ifcfg', 'config=examples/by-hand.conf', '--config-only'];

async function realRun(): Promise<{ text: string; status: number }> {
  const out: string[] = [];
  const ctx = {
    argv: [],
    env: {},
    // --config-only: doctor must not run a single command.
    runner: { run: () => Promise.reject(new Error('doctor --config-only ran a command')) },
    files: {
      ...realFiles,
      read: (path: string) => realFiles.read(join(ROOT, path)),
      list: (path: string) => realFiles.list(join(ROOT, path)),
    },
    out: (text: string) => out.push(text),
    err: (text: string) => out.push(text),
  };
  const status = await runDoctor(ctx, ARGS);
  return { text: out.join(''), status };
}

function block(report: string): string {
  return `${BEGIN}\`\`\`\n$ xenplan doctor ${ARGS.join(' ')}\n${report}\`\`\`\n${END}`;
}

describe('README', () => {
  it("shows doctor's real report on the example files", async () => {
    const { text, status } = await realRun();
    expect(status).toBe(1);
    const readme = readFileSync(README, 'utf8');
    const start = readme.indexOf(BEGIN);
    const end = readme.indexOf(END);
    expect([start >= 0, end > start]).toEqual([true, true]);
    const current = readme.slice(start, end + END.length);
    if (process.env.XENPLAN_README === 'write') {
      writeFileSync(README, readme.replace(current, block(text)));
      return;
    }
    expect(current).toBe(block(text));
  });

  it('explains exactly the rules the example report names', async () => {
    const { text } = await realRun();
    const readme = readFileSync(README, 'utf8');
    const section = readme.slice(readme.indexOf(END), readme.indexOf('The recommended rewrite, as one'));
    const explained = [...section.matchAll(/^- \*\*([A-Z]+[0-9]{3}) \((error|warning|info)\)\*\*/gm)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
    const reported = [...text.matchAll(/^ {2}([A-Z]+[0-9]{3}) /gm)].map((m) => m[1] ?? '');
    const severity = (id: string) => RULES.find((r) => r.id === id)?.severity;
    expect(explained.sort()).toEqual(
      [...new Set(reported)]
        .map((id) => `${id} ${text.includes(`Errors:\n  ${id} `) ? 'error' : severity(id)}`)
        .sort(),
    );
  });

  it('counts the rules doctor has', () => {
    const readme = readFileSync(README, 'utf8');
    const counts = [...readme.matchAll(/(?:lists all|the) ([0-9]+) (?:lint )?rules/g)].map((m) =>
      Number(m[1]),
    );
    expect(counts.length).toBeGreaterThan(0);
    expect(new Set(counts)).toEqual(new Set([RULES.length]));
  });
});
